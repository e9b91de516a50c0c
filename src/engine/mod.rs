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
use crate::io::documents::{Keep, Reading};
use crate::k8s::finding::{Finding, ResourceRef, Severity};
use crate::k8s::meta::{self, CoreKind};
use crate::k8s::resource::{Item, Passthrough, Role};
use crate::k8s::scan::{self, Scanned};
use crate::k8s::workloads;
use crate::spec::{self, Spec};
use anyhow::Result;
use report::{NamespaceReport, Skipped, SpecReport, Summary};
use secrets::NewSecrets;
use serde_yaml_ng::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
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
    needs_tree_for(
        meta::kind(item),
        meta::api_version(item),
        is_config(item),
        jobs,
    )
}

/// [`needs_tree`] from an object's kind, apiVersion and whether it is
/// configuration (a spec, or marked local).
pub fn needs_tree_for(
    kind: Option<&str>,
    api_version: Option<&str>,
    config: bool,
    jobs: &[Job],
) -> bool {
    let kind = kind.unwrap_or_default();
    if matches!(kind, "Namespace" | "Secret" | "ServiceAccount") || config {
        return true;
    }
    jobs.iter().any(|j| {
        let spec = &j.spec;
        ((spec.inject.workloads || spec.check.enabled)
            && !kind.is_empty()
            && workloads::path_for_kind(kind, api_version, &spec.check.pod_spec_paths).is_some())
            || spec.inject.field_paths.iter().any(|f| f.kind == kind)
    })
}

/// What a render produced.
#[derive(Debug)]
pub struct Output {
    /// The input items; in a full render, the generated objects too.
    pub items: Vec<Item>,
    /// In a compact render, the generated objects, which follow `items`
    /// and are made as they are written (see [`Output::into_parts`]).
    tail: Option<Tail>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Per spec: what it rendered where (for `regcred explain`).
    pub reports: Vec<SpecReport>,
}

type Key = (String, String);

/// What a compact render generated: its Secrets, made as they are taken,
/// then its ServiceAccounts.
#[derive(Debug)]
struct Tail {
    secrets: NewSecrets,
    accounts: Vec<Item>,
}

/// Items made one at a time, as they are written.
pub type Lazy = Box<dyn Iterator<Item = Item>>;

impl Output {
    /// The items and, after them, the generated objects of a compact
    /// render, made as they are taken.
    pub fn into_parts(self) -> (Vec<Item>, Lazy) {
        match self.tail {
            Some(Tail { secrets, accounts }) => (self.items, Box::new(secrets.chain(accounts))),
            None => (self.items, Box::new(std::iter::empty())),
        }
    }

    /// Every output item, in order.
    pub fn into_items(self) -> Vec<Item> {
        let (mut items, tail) = self.into_parts();
        items.extend(tail);
        items
    }
}

/// How a render keeps what it reads and generates.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Namespace of namespaced inputs without `metadata.namespace`.
    pub default_ns: Option<&'a str>,
    /// Generated objects are stamped text rather than trees (the caller
    /// only writes them; `check` reads trees).
    pub compact: bool,
    /// Fill the per-namespace reports and skipped namespaces
    /// (`regcred explain`); they grow with the namespaces.
    pub detail: bool,
}

/// Renders with a default namespace for namespaced objects that carry none
/// (as `kubectl apply -n NS` or Argo CD's destination namespace would place
/// them), everything generated as trees, with full reports.
#[cfg(test)]
pub fn render_in(input: Vec<Item>, jobs: &[Job], default_ns: Option<&str>) -> Result<Output> {
    render(
        input,
        jobs,
        Options {
            default_ns,
            compact: false,
            detail: true,
        },
    )
}

/// Renders `items` for every job. Text items pass through in place; trees
/// and text Namespaces and ServiceAccounts are looked at. Every step walks
/// the items once, so the cost grows with the input and no faster.
pub fn render(mut items: Vec<Item>, jobs: &[Job], opts: Options) -> Result<Output> {
    let default_ns = opts.default_ns;
    let mut findings = Vec::new();
    let mut inventory = inventory(&items, default_ns);
    let selections: Vec<Selection> = jobs
        .iter()
        .map(|j| targeting::select(&j.spec.namespaces, &inventory, opts.detail))
        .collect();
    for (job, sel) in jobs.iter().zip(&selections) {
        targeting_findings(&job.spec, sel, &mut findings);
    }

    let mut secrets = secrets::render_secrets(jobs, &selections, &mut findings, opts.compact)?;
    let mut reports: Vec<SpecReport> = jobs
        .iter()
        .zip(&selections)
        .zip(&mut secrets)
        .map(|((job, sel), secret)| SpecReport {
            spec: spec_id(&job.spec),
            origin: job.spec.origin.clone(),
            secret_name: job.spec.secret_name.clone(),
            registries: std::mem::take(&mut secret.servers),
            namespaces: if opts.detail {
                sel.targets
                    .iter()
                    .map(|ns| NamespaceReport {
                        namespace: ns.clone(),
                        ..Default::default()
                    })
                    .collect()
            } else {
                Vec::new()
            },
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
    let secret_count = selections.iter().map(|s| s.targets.len()).sum();
    let replaced = secrets::place_secrets(&mut items, &secrets, jobs, &selections, default_ns)?;
    let mut existing = service_accounts::Existing::new(jobs);
    let patched = service_accounts::patch_service_accounts(
        &mut items,
        jobs,
        &selections,
        &mut reports,
        &mut inventory,
        &mut existing,
        default_ns,
    )?;
    let new_sas = service_accounts::missing_service_accounts(
        jobs,
        &selections,
        &|ns, name| existing.contains(&inventory, ns, name),
        &mut reports,
        opts.compact,
    )?;
    drop(inventory);
    let sa_pulls = service_account_pulls(&items, &new_sas, jobs, default_ns);
    inject::inject(
        &mut items,
        jobs,
        &selections,
        &mut reports,
        &sa_pulls,
        default_ns,
    )?;
    findings.extend(coverage::unreached(
        workloads_after(&items, default_ns),
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
    // Input order first, then the new objects.
    let targets = selections.into_iter().map(|s| s.targets).collect();
    let tail = Tail {
        secrets: NewSecrets::new(secrets, jobs, targets, replaced),
        accounts: new_sas.into_iter().map(|n| n.item).collect(),
    };
    let tail = if opts.compact {
        Some(tail)
    } else {
        items.extend(tail.secrets.chain(tail.accounts));
        None
    };
    Ok(Output {
        items,
        tail,
        findings,
        summary,
        reports,
    })
}

/// `imagePullSecrets` of the ServiceAccounts workloads run as, after
/// patching (see [`workloads::service_account_pulls`]): only those, since
/// a large input has millions of ServiceAccounts and maybe no workload.
fn service_account_pulls(
    items: &[Item],
    new_sas: &[service_accounts::NewAccount],
    jobs: &[Job],
    default_ns: Option<&str>,
) -> BTreeMap<Key, Vec<String>> {
    let mut needed: HashSet<Key> = HashSet::new();
    for item in items {
        match item {
            Item::Tree(t) if !is_config(t) => {
                let Some(ns) = meta::effective_namespace_of(t, default_ns) else {
                    continue;
                };
                let extra = jobs.iter().map(|j| j.spec.check.pod_spec_paths.as_slice());
                for pod in std::iter::once(&[][..])
                    .chain(extra)
                    .filter_map(|e| workloads::pod_spec(t, e))
                {
                    needed.insert((ns.to_string(), workloads::service_account(pod)));
                }
            }
            Item::Text(p) => {
                if let (Some(pod), Some(ns)) = (&p.pod, text_namespace(p, default_ns)) {
                    needed.insert((ns.to_string(), pod.service_account.clone()));
                }
            }
            _ => {}
        }
    }
    let mut pulls = BTreeMap::new();
    if needed.is_empty() {
        return pulls;
    }
    for item in items {
        match item {
            Item::Tree(t) if meta::is(t, CoreKind::ServiceAccount) => {
                let (Some(ns), Some(name)) =
                    (meta::effective_namespace_of(t, default_ns), meta::name(t))
                else {
                    continue;
                };
                let key = (ns.to_string(), name.to_string());
                if needed.contains(&key) {
                    pulls.insert(key, workloads::pull_secret_names(t));
                }
            }
            Item::Text(p) => {
                let Role::ServiceAccount(account) = &p.role else {
                    continue;
                };
                let (Some(ns), Some(name)) = (text_namespace(p, default_ns), p.field(p.name))
                else {
                    continue;
                };
                let key = (ns.to_string(), name.to_string());
                if needed.contains(&key) {
                    pulls.insert(
                        key,
                        scan::pulls_after(
                            p.text.as_str(),
                            p.text.is_entry(),
                            account.appended_names(),
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    for new in new_sas {
        if needed.contains(&new.key) {
            pulls.insert(new.key.clone(), new.pull_secrets.clone());
        }
    }
    pulls
}

/// The namespace a text item lands in.
fn text_namespace<'a>(p: &'a Passthrough, default_ns: Option<&'a str>) -> Option<&'a str> {
    meta::effective_namespace(p.field(p.kind), p.field(p.namespace), default_ns)
}

/// Every workload among the trees, then among the pass-through texts, with
/// the namespace it lands in, made one at a time (only workloads are
/// copied from).
fn workloads_after<'a>(
    items: &'a [Item],
    default_ns: Option<&'a str>,
) -> impl Iterator<Item = coverage::Workload<'a>> + 'a {
    let from_trees = items
        .iter()
        .filter_map(Item::as_value)
        .filter(|t| !is_config(t))
        .filter_map(move |t| {
            Some(coverage::Workload {
                pod: Cow::Owned(workloads::pod_facts(t)?),
                namespace: meta::effective_namespace_of(t, default_ns)?,
                kind: meta::kind(t)?,
                name: meta::name(t).unwrap_or_default(),
            })
        });
    let from_texts = items.iter().filter_map(|i| match i {
        Item::Text(p) => Some(p),
        _ => None,
    });
    let from_texts = from_texts.filter_map(move |p| {
        let kind = p.field(p.kind)?;
        Some(coverage::Workload {
            pod: Cow::Borrowed(p.pod.as_deref()?),
            namespace: meta::effective_namespace(Some(kind), p.field(p.namespace), default_ns)?,
            kind,
            name: p.field(p.name).unwrap_or_default(),
        })
    });
    from_trees.chain(from_texts)
}

/// True for resources that are function configuration, not output.
fn is_config(item: &Value) -> bool {
    spec::is_spec(item) || meta::is_local_config(item)
}

/// How the fast reader keeps a resource it read (see [`needs_tree`]):
/// with `light`, `v1` Namespaces and ServiceAccounts stay text, since
/// patching and targeting need only a few of their fields.
pub fn keep(s: &Scanned, jobs: &[Job], light: bool, drop_specs: bool) -> Keep {
    let is_spec = s.kind.as_deref() == Some(spec::KIND);
    if is_spec && drop_specs {
        return Keep::Drop;
    }
    let config = is_spec || s.local_config;
    let (kind, api) = (s.kind.as_deref(), s.api_version.as_deref());
    let core = |c| meta::is_core(kind, api, c);
    let lightly = light
        && !config
        && ((core(CoreKind::Namespace) && !s.odd_labels) || core(CoreKind::ServiceAccount))
        && !jobs.iter().any(|j| {
            j.spec
                .inject
                .field_paths
                .iter()
                .any(|f| Some(f.kind.as_str()) == kind)
        });
    if !lightly && needs_tree_for(kind, api, config, jobs) {
        Keep::Tree
    } else {
        Keep::Text
    }
}

/// [`keep`] for a render of `jobs`, as the fast reader calls it
/// (`drop_specs`: spec documents among the inputs are dropped, as the CLI
/// does with the files it reads).
pub fn keeper(jobs: &[Job], drop_specs: bool) -> impl Fn(&Scanned) -> Keep + '_ {
    let light = light(jobs);
    move |s| keep(s, jobs, light, drop_specs)
}

/// What the fast reader collects for a render of `jobs`: Namespace labels
/// when a selector reads them, and each spec's Secret name.
pub fn reading<'a>(jobs: &[Job], keep: &'a dyn Fn(&Scanned) -> Keep) -> Reading<'a> {
    Reading {
        labels: jobs.iter().any(|j| j.spec.namespaces.selector.is_some()),
        secrets: jobs
            .iter()
            .map(|j| Box::from(j.spec.secret_name.as_str()))
            .collect(),
        keep,
    }
}

/// Whether a render can keep `v1` Namespaces and ServiceAccounts as text:
/// nothing reads their trees afterwards (no check).
pub fn light(jobs: &[Job]) -> bool {
    !jobs.iter().any(|j| j.spec.check.enabled)
}

/// Every namespace the input mentions, in one walk in input order (a later
/// Namespace object wins over an earlier one of the same name).
fn inventory(items: &[Item], default_ns: Option<&str>) -> Inventory {
    let mut inv = Inventory::new();
    let mention = |inv: &mut Inventory, ns: &str| {
        if !inv.contains_key(ns) {
            inv.insert(ns.to_string(), NamespaceInfo::default());
        }
    };
    for item in items {
        match item {
            Item::Tree(t) if is_config(t) => {}
            Item::Tree(t) if meta::is(t, CoreKind::Namespace) => {
                if let Some(name) = meta::name(t) {
                    let info = NamespaceInfo {
                        labels: Some(Box::new(meta::labels(t))),
                        skip: meta::opted_out(t),
                        accounts: 0,
                    };
                    inv.insert(name.to_string(), info);
                }
            }
            Item::Text(p) if matches!(p.role, Role::Namespace { .. }) => {
                let (Role::Namespace { labels, skip }, Some(name)) = (&p.role, p.field(p.name))
                else {
                    continue;
                };
                let info = NamespaceInfo {
                    labels: Some(labels.clone().unwrap_or_default()),
                    skip: *skip,
                    accounts: 0,
                };
                inv.insert(name.to_string(), info);
            }
            other => {
                if let Some(ns) = other.effective_namespace(default_ns) {
                    mention(&mut inv, ns);
                }
            }
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
                other => panic!("unexpected item {other:?}"),
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
