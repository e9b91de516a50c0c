//! The render engine: specs plus input resources in, output resources out.
//! Pure: no filesystem, no stdout; credentials come through each job's
//! resolver.
//!
//! Output order is fixed so that output is deterministic and idempotent:
//! input items in input order (ServiceAccounts patched in place, Secrets
//! regcred generated earlier replaced in place), then new Secrets, then new
//! ServiceAccounts, each sorted by namespace then name.
//!
//! The steps, in order: take stock of the namespaces ([`targeting`]),
//! render each spec's Secret ([`secrets`]), patch and create ServiceAccounts
//! ([`service_accounts`]), inject into workloads ([`inject`]); [`check`]
//! then reads the result for images pods could not pull.

pub(crate) mod check;
mod coverage;
mod inject;
pub(crate) mod report;
mod secrets;
mod service_accounts;
pub(crate) mod targeting;
mod templates;

use crate::credentials::Resolver;
use crate::k8s::finding::{Finding, ResourceRef, Severity};
use crate::k8s::meta::{self, CoreKind};
use crate::k8s::resource::{Item, Passthrough};
use crate::k8s::workloads;
use crate::spec::{self, Spec};
use anyhow::Result;
use report::{NamespaceReport, Skipped, SpecReport, Summary};
use serde_yaml_ng::Value;
use targeting::{Inventory, NamespaceInfo, Selection};

/// A spec together with the resolver for its credential sources.
pub struct Job {
    pub spec: Spec,
    pub resolver: Resolver,
}

/// Whether render (or check) may read or change `item` for these jobs: the
/// kinds it patches or inspects, configuration, and the workloads and
/// custom resources `inject` or `check` look into.
pub fn needs_tree(item: &Value, jobs: &[Job]) -> bool {
    let kind = meta::kind(item).unwrap_or_default();
    if matches!(kind, "Namespace" | "Secret" | "ServiceAccount") || is_config(item) {
        return true;
    }
    jobs.iter().any(|j| {
        let spec = &j.spec;
        ((spec.inject.workloads || spec.check.enabled)
            && workloads::path_for(item, &spec.check.pod_spec_paths).is_some())
            || spec.inject.field_paths.iter().any(|f| f.kind == kind)
    })
}

/// What a render produced.
#[derive(Debug)]
pub struct Output {
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Per spec: what it rendered where (for `regcred explain`).
    pub reports: Vec<SpecReport>,
}

type Key = (String, String);

/// Renders with a default namespace for namespaced objects that carry none
/// (as `kubectl apply -n NS` or Argo CD's destination namespace would place
/// them). Text items pass through in place; only trees are looked at.
pub fn render_in(input: Vec<Item>, jobs: &[Job], default_ns: Option<&str>) -> Result<Output> {
    // Trees go through the pipeline below; `layout` remembers where each
    // input item sits so the output keeps the input order.
    let mut items: Vec<Value> = Vec::new();
    let mut layout: Vec<Option<Passthrough>> = Vec::with_capacity(input.len());
    let mut text_namespaces: Vec<String> = Vec::new();
    for item in input {
        match item {
            Item::Tree(v) => {
                items.push(v);
                layout.push(None);
            }
            Item::Text(p) => {
                let text = Item::Text(p);
                if let Some(ns) = text.effective_namespace(default_ns) {
                    text_namespaces.push(ns.to_string());
                }
                let Item::Text(p) = text else { unreachable!() };
                layout.push(Some(p));
            }
        }
    }
    let mut findings = Vec::new();
    let mut inventory = inventory(&items, default_ns);
    for ns in text_namespaces {
        inventory.entry(ns).or_default();
    }
    let selections: Vec<Selection> = jobs
        .iter()
        .map(|j| targeting::select_namespaces(&j.spec.namespaces, &inventory))
        .collect();
    for (job, sel) in jobs.iter().zip(&selections) {
        targeting_findings(&job.spec, sel, &mut findings);
    }

    let (secrets, servers) = secrets::render_secrets(jobs, &selections, &mut findings)?;
    let mut reports: Vec<SpecReport> = jobs
        .iter()
        .zip(&selections)
        .zip(servers)
        .map(|((job, sel), registries)| SpecReport {
            spec: spec_id(&job.spec),
            origin: job.spec.origin.clone(),
            secret_name: job.spec.secret_name.clone(),
            registries,
            namespaces: sel
                .targets
                .iter()
                .map(|ns| NamespaceReport {
                    namespace: ns.clone(),
                    ..Default::default()
                })
                .collect(),
            skipped: sel
                .skipped
                .iter()
                .map(|(ns, why)| Skipped {
                    namespace: ns.clone(),
                    reason: why.to_string(),
                })
                .collect(),
        })
        .collect();
    let secret_count = secrets.len();
    let new_secrets = secrets::place_secrets(&mut items, secrets, default_ns)?;
    let (existing_sas, patched) = service_accounts::patch_service_accounts(
        &mut items,
        jobs,
        &selections,
        &mut reports,
        default_ns,
    )?;
    let new_sas =
        service_accounts::missing_service_accounts(jobs, &selections, &existing_sas, &mut reports)?;
    let sa_pulls = workloads::service_account_pulls(items.iter().chain(&new_sas), default_ns);
    inject::inject(
        &mut items,
        jobs,
        &selections,
        &mut reports,
        &sa_pulls,
        default_ns,
    )?;
    let workloads = workloads_after(&items, &layout, default_ns);
    findings.extend(coverage::unreached(
        &workloads,
        jobs,
        &selections,
        &reports,
        &sa_pulls,
    ));
    let summary = Summary {
        secrets: secret_count,
        patched_service_accounts: patched,
        created_service_accounts: new_sas.len(),
    };

    // Input order first (trees back in their places), then the new objects.
    let mut trees = items.into_iter();
    let mut out: Vec<Item> = layout
        .into_iter()
        .map(|slot| match slot {
            Some(p) => Item::Text(p),
            None => Item::Tree(trees.next().expect("one tree per tree slot")),
        })
        .collect();
    out.extend(new_secrets.into_iter().map(Item::Tree));
    out.extend(new_sas.into_iter().map(Item::Tree));
    Ok(Output {
        items: out,
        findings,
        summary,
        reports,
    })
}

/// Every workload among the trees and the pass-through texts, with the
/// namespace it lands in. Only workloads are copied from.
fn workloads_after(
    trees: &[Value],
    texts: &[Option<Passthrough>],
    default_ns: Option<&str>,
) -> Vec<coverage::Workload> {
    let from_trees = trees.iter().filter(|t| !is_config(t)).filter_map(|t| {
        Some(coverage::Workload {
            pod: workloads::pod_facts(t)?,
            namespace: meta::effective_namespace_of(t, default_ns)?.to_string(),
            kind: meta::kind(t)?.to_string(),
            name: meta::name(t).unwrap_or_default().to_string(),
        })
    });
    let from_texts = texts.iter().flatten().filter_map(|p| {
        let kind = p.kind.as_deref()?;
        Some(coverage::Workload {
            pod: p.pod.clone()?,
            namespace: meta::effective_namespace(Some(kind), p.namespace.as_deref(), default_ns)?
                .to_string(),
            kind: kind.to_string(),
            name: p.name.clone().unwrap_or_default(),
        })
    });
    from_trees.chain(from_texts).collect()
}

/// True for resources that are function configuration, not output.
fn is_config(item: &Value) -> bool {
    spec::is_spec(item) || meta::is_local_config(item)
}

/// Every namespace the input mentions.
fn inventory(items: &[Value], default_ns: Option<&str>) -> Inventory {
    let mut inv = Inventory::new();
    for item in items.iter().filter(|i| !is_config(i)) {
        if meta::is(item, CoreKind::Namespace) {
            if let Some(name) = meta::name(item) {
                inv.insert(
                    name.to_string(),
                    NamespaceInfo {
                        labels: Some(meta::labels(item)),
                        skip: meta::opted_out(item),
                    },
                );
            }
        } else if let Some(ns) = meta::effective_namespace_of(item, default_ns) {
            inv.entry(ns.to_string()).or_default();
        }
    }
    inv
}

fn targeting_findings(spec: &Spec, sel: &Selection, findings: &mut Vec<Finding>) {
    let warn = |field: &str, message: String| spec_finding(spec, Severity::Warning, field, message);
    if spec.namespaces.include_explicit && sel.matched_by_pattern == 0 {
        let patterns: Vec<&str> = spec.namespaces.include.iter().map(|p| p.as_str()).collect();
        findings.push(warn(
            "spec.namespaces.include",
            format!(
                "no namespace in the input matches {} (a kustomize generator receives no resources: list namespaces under spec.namespaces.names)",
                patterns.join(", ")
            ),
        ));
    }
    if sel.targets.is_empty() {
        findings.push(warn(
            "spec.namespaces",
            "no target namespace: this spec renders nothing".into(),
        ));
    }
}

/// How a spec names itself on its Secrets: `metadata.name`, else the Secret name.
pub(crate) fn spec_id(spec: &Spec) -> String {
    if spec.name.is_empty() {
        spec.secret_name.clone()
    } else {
        spec.name.clone()
    }
}

/// A finding about a spec, pointing at the spec resource and field.
fn spec_finding(spec: &Spec, severity: Severity, field: &str, message: String) -> Finding {
    Finding {
        resource: Some(ResourceRef {
            api_version: spec::API_VERSION.into(),
            kind: spec::KIND.into(),
            name: spec.name.clone(),
            namespace: None,
        }),
        field: Some(field.to_string()),
        // In KRM mode the resource reference already points at the spec.
        file: (spec.origin != "functionConfig").then(|| spec.origin.clone()),
        ..Finding::new(severity, message)
    }
}

#[cfg(test)]
mod tests {
    use super::service_accounts::add_pull_secret;
    use super::*;
    use crate::k8s::meta::{name as name_of, namespace as namespace_of};
    use crate::yaml;

    /// Renders every job over `items`, all trees.
    fn render(items: Vec<Value>, jobs: &[Job]) -> Result<Output> {
        render_in(items.into_iter().map(Item::Tree).collect(), jobs, None)
    }

    /// The output as trees (render over trees never produces text items).
    fn values(items: Vec<Item>) -> Vec<Value> {
        items
            .into_iter()
            .map(|i| match i {
                Item::Tree(v) => v,
                Item::Text(p) => panic!("unexpected text item {p:?}"),
            })
            .collect()
    }

    fn items(text: &str) -> Vec<Value> {
        yaml::load_stream(text, "t")
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect()
    }

    fn job(body: &str) -> Job {
        let text = format!(
            "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n{body}"
        );
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        Job {
            spec: crate::spec::parse(&doc, "spec.yaml").unwrap(),
            resolver: Resolver::new(Path::new("."), &Default::default()).unwrap(),
        }
    }

    use std::path::Path;

    const REG: &str = "  registries: [{server: r.io, username: u, password: {env: HOME}}]\n";

    fn pulls(v: &Value) -> Vec<String> {
        v["imagePullSecrets"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn add_pull_secret_keeps_entries_and_never_duplicates() {
        let mut sa =
            items("kind: ServiceAccount\nimagePullSecrets:\n- name: a\n- {name: b, extra: kept}\n")
                .remove(0);
        add_pull_secret(&mut sa, "regcred").unwrap();
        add_pull_secret(&mut sa, "regcred").unwrap();
        add_pull_secret(&mut sa, "a").unwrap();
        assert_eq!(pulls(&sa), ["a", "b", "regcred"]);
        assert_eq!(
            sa["imagePullSecrets"][1]["extra"],
            Value::String("kept".into())
        );
        let mut bare = items("kind: ServiceAccount\nimagePullSecrets: null\n").remove(0);
        add_pull_secret(&mut bare, "x").unwrap();
        assert_eq!(pulls(&bare), ["x"]);
        let mut bad = items("kind: ServiceAccount\nimagePullSecrets: x\n").remove(0);
        assert!(add_pull_secret(&mut bad, "x").is_err());
    }

    #[test]
    fn two_specs_compose_on_shared_service_accounts() {
        let input = items(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shared}\n",
        );
        let a = job(&format!(
            "  secretName: team-a\n{REG}  namespaces: {{names: [shared, only-a]}}\n"
        ));
        let b = job(&format!(
            "  secretName: team-b\n{REG}  namespaces: {{names: [shared]}}\n  serviceAccounts: {{include: [default, builder]}}\n"
        ));
        let out = values(render(input, &[a, b]).unwrap().items);
        assert_eq!(pulls(&out[0]), ["team-a", "team-b"]);
        let described: Vec<String> = out[1..]
            .iter()
            .map(|i| {
                format!(
                    "{}/{}/{}",
                    i["kind"].as_str().unwrap(),
                    namespace_of(i).unwrap(),
                    name_of(i).unwrap()
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                "Secret/only-a/team-a",
                "Secret/shared/team-a",
                "Secret/shared/team-b",
                "ServiceAccount/only-a/default",
                "ServiceAccount/shared/builder",
            ]
        );
    }

    #[test]
    fn same_secret_from_two_specs_is_a_conflict() {
        let a = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let b = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let err = render(Vec::new(), &[a, b]).unwrap_err().to_string();
        assert!(err.contains("both render Secret x/regcred"), "{err}");
    }

    #[test]
    fn text_items_pass_through_in_place_and_count_for_targeting() {
        let deploy = items("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, labels: {a: 'yes'}}\n").remove(0);
        let sa = items(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}\n",
        )
        .remove(0);
        let j = job(REG);
        assert!(!needs_tree(&deploy, std::slice::from_ref(&j)));
        assert!(needs_tree(&sa, std::slice::from_ref(&j)));
        let input = vec![Item::new(deploy.clone(), false).unwrap(), Item::Tree(sa)];
        let out = render_in(input, &[j], None).unwrap();
        // The Deployment is still text, first, and made `shop` a target.
        assert_eq!(
            out.items[0].to_yaml().unwrap(),
            yaml::to_string(&deploy).unwrap()
        );
        assert!(matches!(out.items[0], Item::Text(_)));
        assert_eq!(out.items[2].kind(), Some("Secret"));
        assert_eq!(out.items[2].namespace(), Some("shop"));
        let inject = job(&format!("{REG}  inject: {{workloads: true}}\n"));
        assert!(
            needs_tree(&deploy, &[inject]),
            "inject looks into workloads"
        );
    }

    #[test]
    fn a_second_spec_cannot_take_over_another_specs_secret() {
        let first = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let once = values(render(Vec::new(), &[first]).unwrap().items);
        let text = format!(
            "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: other-team\nspec:\n  secretName: regcred\n{REG}  namespaces: {{names: [x]}}\n"
        );
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        let second = Job {
            spec: crate::spec::parse(&doc, "other.yaml").unwrap(),
            resolver: Resolver::new(Path::new("."), &Default::default()).unwrap(),
        };
        let err = render(once.clone(), &[second]).unwrap_err().to_string();
        assert!(
            err.contains("rendered by spec \"regcred\" and spec \"other-team\""),
            "{err}"
        );
        // The same spec re-rendering its own output is fine.
        let again = render(
            once.clone(),
            &[job(&format!("{REG}  namespaces: {{names: [x]}}\n"))],
        )
        .unwrap();
        assert_eq!(values(again.items), once);
    }

    #[test]
    fn managed_secrets_are_replaced_in_place_and_opted_out_sas_untouched() {
        let input = items(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: a\n  labels: {app.kubernetes.io/managed-by: regcred}\n  annotations: {config.kubernetes.io/path: a/s.yaml, note: dropped}\ndata: {old: x}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: a\n  annotations: {regcred.dev/skip: 'true'}\n",
        );
        let out = values(render(input, &[job(REG)]).unwrap().items);
        assert_eq!(
            out.len(),
            2,
            "no new objects: the Secret was replaced, the SA exists"
        );
        let secret = &out[0];
        assert!(secret["data"].get("old").is_none());
        assert!(secret["data"].get(".dockerconfigjson").is_some());
        let ann = secret["metadata"]["annotations"].as_mapping().unwrap();
        assert_eq!(
            ann.get("config.kubernetes.io/path").and_then(Value::as_str),
            Some("a/s.yaml")
        );
        assert!(ann.get("note").is_none());
        assert!(out[1].get("imagePullSecrets").is_none());
    }
}
