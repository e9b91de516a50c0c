//! `regcred render`: specs and input files to a YAML stream, a directory,
//! or a drift check against a directory.

use super::inputs::{RenderOptions, load_and_render};
use super::sealed::Sealer;
use super::warnings;
use crate::engine::Job;
use crate::engine::report::SpecReport;
use crate::io::{Outcome, documents, drift, output_dir};
use anyhow::Result;

/// Leaves the specs and reports of a render to the process's exit rather
/// than freeing them. A spec of 100,000 registries is about a million small
/// allocations, and freeing them just before exit took a seventh of that
/// render (glibc walks every freed chunk once a large block is freed, far
/// outside the caches by then). Neither holds anything zeroized on drop
/// (a spec's literal values are plain strings; reports hold no values);
/// the resolvers, which may hold keys and decrypted files, are dropped.
fn leave_to_exit(jobs: Vec<Job>, reports: Vec<SpecReport>) {
    for Job { spec, resolver } in jobs {
        drop(resolver);
        std::mem::forget(spec);
    }
    std::mem::forget(reports);
}

/// Renders, then prints the stream, writes `-o DIR`, or compares with `--check DIR`.
pub fn run(opts: &RenderOptions, read_stdin: impl Fn() -> Result<String>) -> Outcome {
    if let Some(dir) = &opts.output_dir {
        if let Err(e) = output_dir::check_separate(dir, &opts.inputs) {
            return Outcome::error(e);
        }
    }
    let out = match load_and_render(opts, read_stdin) {
        Ok(r) => {
            let mut out = r.output;
            leave_to_exit(r.jobs, std::mem::take(&mut out.reports));
            out
        }
        Err(e) => return Outcome::error(e),
    };
    let mut outcome = Outcome {
        stderr: warnings(&out.findings),
        info: vec![out.summary.to_string()],
        ..Outcome::default()
    };
    let sealer = Sealer::new(opts.encrypt_for.clone(), opts.sources.age_key_file.clone());
    let (output_dir, check_dir) = match (&opts.output_dir, &opts.check_dir) {
        (None, None) => {
            let (items, tail) = out.into_parts();
            return match documents::streamed(items, tail) {
                Ok(stream) => Outcome {
                    stream: Some(stream),
                    ..outcome
                },
                Err(e) => Outcome::error(e),
            };
        }
        dirs => dirs,
    };
    let items = out.into_items();
    let written = match (output_dir, check_dir) {
        (_, Some(dir)) => output_dir::plan(dir, &items)
            .and_then(|planned| drift::diff_dir(dir, &planned, &|p, t| sealer.open(p, t))),
        (Some(dir), None) if opts.encrypt => {
            output_dir::plan(dir, &items).and_then(|mut planned| {
                let notes = sealer.seal(&mut planned)?;
                outcome.info.extend(notes);
                output_dir::write_planned(dir, &planned).map(|()| String::new())
            })
        }
        (Some(dir), None) => output_dir::write(dir, &items).map(|()| String::new()),
        (None, None) => Ok(String::new()),
    };
    match written {
        Ok(stdout) => {
            if let (Some(dir), false) = (&opts.check_dir, stdout.is_empty()) {
                outcome.stderr.push(format!(
                    "error: rendered output in {} is out of date; re-run regcred render with -o {}",
                    dir.display(),
                    dir.display()
                ));
                outcome.code = 1;
            }
            outcome.stdout = stdout.into();
            outcome
        }
        Err(e) => Outcome::error(e),
    }
}
