//! `regcred explain`: a coverage table a platform engineer reads at a
//! glance: for every target namespace the Secret it gets, the registries in
//! it, the ServiceAccounts patched or created and the workloads injected;
//! the namespaces seen but skipped, and why; and a summary in the spirit of
//! TCR Assistant's `SECRETS-DESIRED / SECRETS-SUCCESS`. Never prints a
//! credential value (the reports hold none).

use crate::engine::Output;
use crate::engine::report::{SpecReport, Summary};
use serde::Serialize;

/// Output format of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    specs: &'a [SpecReport],
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonSummary {
    secrets_desired: usize,
    secrets_rendered: usize,
    service_accounts_patched: usize,
    service_accounts_created: usize,
    workloads_injected: usize,
}

fn summary(out: &Output) -> JsonSummary {
    let Summary {
        secrets,
        patched_service_accounts,
        created_service_accounts,
    } = out.summary;
    JsonSummary {
        secrets_desired: out.reports.iter().map(|r| r.namespaces.len()).sum(),
        secrets_rendered: secrets,
        service_accounts_patched: patched_service_accounts,
        service_accounts_created: created_service_accounts,
        workloads_injected: out
            .reports
            .iter()
            .flat_map(|r| &r.namespaces)
            .map(|n| n.injected.len())
            .sum(),
    }
}

/// Renders the explanation in `format`.
pub fn explain(out: &Output, format: Format) -> String {
    match format {
        Format::Json => {
            let report = JsonReport {
                specs: &out.reports,
                summary: summary(out),
            };
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
        }
        Format::Text => tables(out, &text_table),
        Format::Markdown => tables(out, &markdown_table),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

type Table<'a> = &'a dyn Fn(&[&str], &[Vec<String>]) -> String;

fn tables(out: &Output, table: Table) -> String {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for r in &out.reports {
        for n in &r.namespaces {
            rows.push(vec![
                n.namespace.clone(),
                r.secret_name.clone(),
                r.spec.clone(),
                list(&r.registries),
                list(&n.patched_service_accounts),
                list(&n.created_service_accounts),
                list(&n.injected),
            ]);
        }
        for s in &r.skipped {
            skipped.push(vec![s.namespace.clone(), r.spec.clone(), s.reason.clone()]);
        }
    }
    rows.sort();
    skipped.sort();
    let s = summary(out);
    let mut text = table(
        &[
            "NAMESPACE",
            "SECRET",
            "SPEC",
            "REGISTRIES",
            "SA-PATCHED",
            "SA-CREATED",
            "INJECTED",
        ],
        &rows,
    );
    if !skipped.is_empty() {
        text.push('\n');
        text.push_str(&table(&["SKIPPED", "SPEC", "REASON"], &skipped));
    }
    text.push('\n');
    text.push_str(&table(
        &[
            "SECRETS-DESIRED",
            "SECRETS-RENDERED",
            "SA-PATCHED",
            "SA-CREATED",
            "WORKLOADS-INJECTED",
        ],
        &[vec![
            s.secrets_desired.to_string(),
            s.secrets_rendered.to_string(),
            s.service_accounts_patched.to_string(),
            s.service_accounts_created.to_string(),
            s.workloads_injected.to_string(),
        ]],
    ));
    text
}

/// Columns padded to their widest cell, kubectl style.
fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}   "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("| {} |\n", header.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for row in rows {
        out.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

/// `regcred explain`: renders, then prints the coverage table in `format`.
pub fn run(
    opts: &super::RenderOptions,
    format: Format,
    read_stdin: impl Fn() -> anyhow::Result<String>,
) -> crate::io::Outcome {
    let opts = super::RenderOptions {
        detail: true,
        ..opts.clone()
    };
    match super::inputs::load_and_render(&opts, read_stdin) {
        Ok(r) => crate::io::Outcome {
            stdout: explain(&r.output, format).into(),
            stderr: r.output.findings.iter().map(|f| f.to_line()).collect(),
            ..Default::default()
        },
        Err(e) => crate::io::Outcome::error(e),
    }
}
