//! ServiceAccounts: adding each spec's Secret to the `imagePullSecrets` of
//! the input ServiceAccounts it selects, and creating the ones a spec names
//! literally that the input lacks.
//!
//! `imagePullSecrets` is an atomic list (a patch replaces it whole), so
//! regcred appends to the list it was given, keeping every other entry.

use super::report::SpecReport;
use super::targeting::{self, Inventory, Selection};
use super::templates::{self, ServiceAccountContext};
use super::{Job, Key};
use crate::k8s::meta::{self, CoreKind, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::k8s::resource::{Item, Passthrough, Role, Stamp, Stamped};
use crate::k8s::scan::{self, PullList};
use crate::k8s::workloads;
use crate::yaml;
use anyhow::{Result, anyhow, bail};
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The input's ServiceAccounts whose names a spec could create (its
/// literal names): a bit per name in each namespace's inventory entry, so
/// that millions of them cost no set of their own.
pub(super) struct Existing {
    literals: Vec<String>,
    /// Accounts whose namespace has no inventory entry, or with names past
    /// the 64 bits.
    others: HashSet<Key>,
}

impl Existing {
    pub(super) fn new(jobs: &[Job]) -> Self {
        let mut literals: Vec<String> = Vec::new();
        for job in jobs
            .iter()
            .filter(|j| j.spec.service_accounts.create_missing)
        {
            for p in &job.spec.service_accounts.include {
                let name = p.name.as_str();
                if p.name.is_literal() && !literals.iter().any(|l| l == name) {
                    literals.push(name.to_string());
                }
            }
        }
        Existing {
            literals,
            others: HashSet::new(),
        }
    }

    fn bit(&self, name: &str) -> Option<u64> {
        let i = self.literals.iter().position(|l| l == name)?;
        (i < 64).then(|| 1 << i)
    }

    fn mark(&mut self, inventory: &mut Inventory, ns: &str, name: &str) {
        if !self.literals.iter().any(|l| l == name) {
            return;
        }
        match (self.bit(name), inventory.get_mut(ns)) {
            (Some(bit), Some(info)) => info.accounts |= bit,
            _ => {
                self.others.insert((ns.to_string(), name.to_string()));
            }
        }
    }

    pub(super) fn contains(&self, inventory: &Inventory, ns: &str, name: &str) -> bool {
        let marked = match (self.bit(name), inventory.get(ns)) {
            (Some(bit), Some(info)) => info.accounts & bit != 0,
            _ => false,
        };
        marked || self.others.contains(&(ns.to_string(), name.to_string()))
    }
}

/// Appends each spec's Secret to the `imagePullSecrets` of matching input
/// ServiceAccounts, trees and text alike, in input order. Marks every
/// input SA in `existing`; returns how many of them a spec selected.
pub(super) fn patch_service_accounts(
    items: &mut [Item],
    jobs: &[Job],
    selections: &[Selection],
    reports: &mut [SpecReport],
    inventory: &mut Inventory,
    existing: &mut Existing,
    default_ns: Option<&str>,
) -> Result<usize> {
    let mut lists = Appended::default();
    let mut patching = Patching {
        jobs,
        selections,
        reports,
        inventory,
        existing,
        default_ns,
    };
    let mut patched = 0;
    for item in items.iter_mut() {
        let selected = match item {
            Item::Tree(v) if meta::is(v, CoreKind::ServiceAccount) => patching.tree(v)?,
            Item::Text(p) if matches!(p.role, Role::ServiceAccount(_)) => {
                patching.text(p, &mut lists)?
            }
            _ => false,
        };
        patched += usize::from(selected);
    }
    // The lists, now complete, shared by every account that appends one.
    if !lists.lists.is_empty() {
        let shared = Arc::new(lists.lists);
        for item in items.iter_mut() {
            if let Item::Text(p) = item {
                if let Role::ServiceAccount(account) = &mut p.role {
                    if account.added != 0 {
                        account.appended = Some(Arc::clone(&shared));
                    }
                }
            }
        }
    }
    Ok(patched)
}

/// The distinct lists of Secret names appended to text ServiceAccounts,
/// each kept once (an account holds its list's number).
#[derive(Default)]
struct Appended {
    lists: Vec<Vec<Box<str>>>,
    index: HashMap<Vec<usize>, u32>,
}

impl Appended {
    /// The number (from 1) of the list of these specs' Secret names.
    fn intern(&mut self, specs: Vec<usize>, jobs: &[Job]) -> u32 {
        if let Some(&i) = self.index.get(&specs) {
            return i;
        }
        let names = specs
            .iter()
            .map(|&j| Box::from(jobs[j].spec.secret_name.as_str()))
            .collect();
        self.lists.push(names);
        let i = u32::try_from(self.lists.len()).expect("fewer lists than accounts");
        self.index.insert(specs, i);
        i
    }
}

/// Whether spec `job` selects ServiceAccount `ns/name`.
fn selects(job: &Job, sel: &Selection, ns: &str, name: &str) -> bool {
    let sa = &job.spec.service_accounts;
    sel.targets.binary_search_by(|t| t.as_str().cmp(ns)).is_ok()
        && targeting::service_account_selected(&sa.include, &sa.exclude, ns, name)
}

/// What patching one input ServiceAccount reads and records, the same for
/// every account of a render.
struct Patching<'a> {
    jobs: &'a [Job],
    selections: &'a [Selection],
    reports: &'a mut [SpecReport],
    inventory: &'a mut Inventory,
    existing: &'a mut Existing,
    default_ns: Option<&'a str>,
}

impl Patching<'_> {
    fn tree(&mut self, item: &mut Value) -> Result<bool> {
        let (Some(ns), Some(name)) = (
            meta::effective_namespace_of(item, self.default_ns),
            meta::name(item),
        ) else {
            return Ok(false);
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        self.existing.mark(self.inventory, &ns, &name);
        if meta::opted_out(item) {
            return Ok(false);
        }
        let mut selected = false;
        // The names listed, read once: many specs cost linear time, not quadratic.
        let mut listed: Option<HashSet<String>> = None;
        for ((job, sel), report) in self
            .jobs
            .iter()
            .zip(self.selections)
            .zip(self.reports.iter_mut())
        {
            if selects(job, sel, &ns, &name) {
                let secret = &job.spec.secret_name;
                let known = listed.get_or_insert_with(|| {
                    workloads::pull_secret_names(item).into_iter().collect()
                });
                if !known.contains(secret) {
                    add_pull_secret(item, secret)
                        .map_err(|e| e.context(format!("ServiceAccount {ns}/{name}")))?;
                    known.insert(secret.clone());
                }
                selected = true;
                if let Some(r) = report.namespace(&ns) {
                    r.patched_service_accounts.push(name.clone());
                }
            }
        }
        Ok(selected)
    }

    /// [`Patching::tree`] for a ServiceAccount kept as text: the entries to
    /// append are recorded, and spliced in when it is written.
    fn text(&mut self, p: &mut Passthrough, lists: &mut Appended) -> Result<bool> {
        let Role::ServiceAccount(account) = &p.role else {
            return Ok(false);
        };
        let (Some(ns), Some(name)) = (
            meta::effective_namespace(p.field(p.kind), p.field(p.namespace), self.default_ns),
            p.field(p.name),
        ) else {
            return Ok(false);
        };
        self.existing.mark(self.inventory, ns, name);
        if account.skip {
            return Ok(false);
        }
        let mut chosen: Vec<usize> = Vec::new();
        let mut chosen_names: HashSet<&str> = HashSet::new();
        // The names the input lists, read again only for specs past the 32
        // the account keeps bits for.
        let mut listed: Option<HashSet<String>> = None;
        let mut selected = false;
        for (j, ((job, sel), report)) in self
            .jobs
            .iter()
            .zip(self.selections)
            .zip(self.reports.iter_mut())
            .enumerate()
        {
            if !selects(job, sel, ns, name) {
                continue;
            }
            if account.list == PullList::Invalid {
                return Err(anyhow!("imagePullSecrets: must be a list")
                    .context(format!("ServiceAccount {ns}/{name}")));
            }
            let secret = &job.spec.secret_name;
            let had = if j < 32 {
                account.has & (1 << j) != 0
            } else {
                listed
                    .get_or_insert_with(|| {
                        let text = p.text.as_str();
                        scan::pulls_after(text, p.text.is_entry(), &[])
                            .into_iter()
                            .collect()
                    })
                    .contains(secret)
            };
            if !had && chosen_names.insert(secret.as_str()) {
                chosen.push(j);
            }
            selected = true;
            if let Some(r) = report.namespace(ns) {
                r.patched_service_accounts.push(name.to_string());
            }
        }
        if !chosen.is_empty() {
            let list = lists.intern(chosen, self.jobs);
            if let Role::ServiceAccount(account) = &mut p.role {
                account.added = list;
            }
        }
        Ok(selected)
    }
}

/// Appends `{name: secret}` unless present; keeps every other entry.
pub(super) fn add_pull_secret(sa: &mut Value, secret: &str) -> Result<()> {
    add_name_entry(sa, &["imagePullSecrets"], secret)
}

/// Appends `{name: secret}` to the list at `path` below `obj` (creating the
/// mappings and the list on the way) unless an entry with that name exists.
pub(super) fn add_name_entry(obj: &mut Value, path: &[&str], secret: &str) -> Result<()> {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut node = obj;
    for key in parents {
        let Value::Mapping(map) = node else {
            bail!("{key}: parent is not a mapping");
        };
        node = map
            .entry(Value::String((*key).into()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if node.is_null() {
            *node = Value::Mapping(Mapping::new());
        }
    }
    let Value::Mapping(map) = node else {
        bail!("{}: parent is not a mapping", path.join("."));
    };
    let list = map
        .entry(Value::String((*last).into()))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if list.is_null() {
        *list = Value::Sequence(Vec::new());
    }
    let Value::Sequence(seq) = list else {
        bail!("{}: must be a list", path.join("."));
    };
    let present = seq
        .iter()
        .any(|e| e.get("name").and_then(yaml::as_str) == Some(secret));
    if !present {
        let mut entry = Mapping::new();
        entry.insert(Value::String("name".into()), Value::String(secret.into()));
        seq.push(Value::Mapping(entry));
    }
    Ok(())
}

#[derive(Default)]
struct NewServiceAccount {
    pull_secrets: Vec<String>,
    annotations: Vec<(String, String)>,
}

/// What sets created ServiceAccounts apart besides their name and
/// namespace: their pull Secrets and annotations (one stamp each).
type Shape = (Vec<String>, Vec<(String, String)>);

/// A ServiceAccount regcred creates, and the pull Secrets it lists.
pub(super) struct NewAccount {
    pub item: Item,
    pub key: Key,
    pub pull_secrets: Vec<String>,
}

/// ServiceAccounts the specs name literally that the input lacks. Every
/// spec whose patterns select a created SA adds its Secret to it, exactly as
/// it would if the SA were in the input, so re-rendering the output changes
/// nothing. `compact`: stamped text, one template run per kind of account.
pub(super) fn missing_service_accounts(
    jobs: &[Job],
    selections: &[Selection],
    existing: &dyn Fn(&str, &str) -> bool,
    reports: &mut [SpecReport],
    compact: bool,
) -> Result<Vec<NewAccount>> {
    let mut wanted: BTreeMap<Key, NewServiceAccount> = BTreeMap::new();
    for (job, sel) in jobs.iter().zip(selections) {
        let sa = &job.spec.service_accounts;
        if !sa.create_missing {
            continue;
        }
        for ns in &sel.targets {
            for name in sa.include.iter().filter_map(|p| p.literal_in(ns)) {
                if existing(ns, name) || sa.exclude.iter().any(|x| x.matches(ns, name)) {
                    continue;
                }
                let key = (ns.clone(), name.to_string());
                let new = wanted.entry(key).or_default();
                merge_annotations(&mut new.annotations, &job.spec.service_account_annotations)
                    .map_err(|e| {
                        e.context(format!("ServiceAccount {ns}/{name} ({})", job.spec.origin))
                    })?;
            }
        }
    }
    for ((ns, name), new) in wanted.iter_mut() {
        // A set, so that many specs cost linear time, not quadratic.
        let mut listed: HashSet<&str> = HashSet::new();
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            if selects(job, sel, ns, name) && listed.insert(&job.spec.secret_name) {
                new.pull_secrets.push(job.spec.secret_name.clone());
                if let Some(r) = report.namespace(ns) {
                    r.created_service_accounts.push(name.clone());
                }
            }
        }
    }
    let labels = [(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())];
    let mut stamps: HashMap<Shape, Option<Arc<Stamp>>> = HashMap::new();
    wanted
        .into_iter()
        .map(|((ns, name), new)| {
            let shape = (new.pull_secrets.clone(), new.annotations.clone());
            let item = match stamps.get(&shape) {
                Some(Some(stamp)) => Item::Stamped(Stamped {
                    stamp: Arc::clone(stamp),
                    namespace: ns.as_str().into(),
                    name: Some(name.as_str().into()),
                }),
                _ => {
                    let ctx = ServiceAccountContext {
                        name: &name,
                        namespace: &ns,
                        labels: &labels,
                        annotations: &new.annotations,
                        pull_secrets: &new.pull_secrets,
                    };
                    let tree = templates::render(
                        &templates::SERVICE_ACCOUNT,
                        ctx,
                        "ServiceAccount",
                        &name,
                        &ns,
                    )?;
                    if compact && !stamps.contains_key(&shape) {
                        let stamp = templates::stamp(&tree, "ServiceAccount", None).map(Arc::new);
                        stamps.insert(shape, stamp);
                    }
                    Item::Tree(tree)
                }
            };
            Ok(NewAccount {
                item,
                key: (ns, name),
                pull_secrets: new.pull_secrets,
            })
        })
        .collect()
}

fn merge_annotations(into: &mut Vec<(String, String)>, from: &[(String, String)]) -> Result<()> {
    for (k, v) in from {
        match into.iter().find(|(ek, _)| ek == k) {
            Some((_, ev)) if ev != v => bail!("specs disagree on annotation {k}: {ev:?} vs {v:?}"),
            Some(_) => {}
            None => into.push((k.clone(), v.clone())),
        }
    }
    Ok(())
}
