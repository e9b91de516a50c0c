//! ServiceAccounts: adding each spec's Secret to the `imagePullSecrets` of
//! the input ServiceAccounts it selects, and creating the ones a spec names
//! literally that the input lacks.
//!
//! `imagePullSecrets` is an atomic list (a patch replaces it whole), so
//! regcred appends to the list it was given, keeping every other entry.

use super::report::SpecReport;
use super::targeting::{self, Selection};
use super::templates::{self, ServiceAccountContext};
use super::{Job, Key};
use crate::k8s::meta::{self, CoreKind, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Appends each spec's Secret to the `imagePullSecrets` of matching input
/// ServiceAccounts. Returns the (namespace, name) of every input SA and how
/// many of them a spec selected.
pub(super) fn patch_service_accounts(
    items: &mut [Value],
    jobs: &[Job],
    selections: &[Selection],
    reports: &mut [SpecReport],
    default_ns: Option<&str>,
) -> Result<(BTreeSet<Key>, usize)> {
    let mut existing = BTreeSet::new();
    let mut patched = 0;
    for item in items
        .iter_mut()
        .filter(|i| meta::is(i, CoreKind::ServiceAccount))
    {
        let (Some(ns), Some(name)) = (
            meta::effective_namespace_of(item, default_ns),
            meta::name(item),
        ) else {
            continue;
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        existing.insert((ns.clone(), name.clone()));
        if meta::opted_out(item) {
            continue;
        }
        let mut selected = false;
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            let sa = &job.spec.service_accounts;
            if sel.targets.binary_search(&ns).is_ok()
                && targeting::service_account_selected(&sa.include, &sa.exclude, &ns, &name)
            {
                add_pull_secret(item, &job.spec.secret_name)
                    .map_err(|e| e.context(format!("ServiceAccount {ns}/{name}")))?;
                selected = true;
                if let Some(r) = report.namespace(&ns) {
                    r.patched_service_accounts.push(name.clone());
                }
            }
        }
        patched += usize::from(selected);
    }
    Ok((existing, patched))
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

/// ServiceAccounts the specs name literally that the input lacks. Every
/// spec whose patterns select a created SA adds its Secret to it, exactly as
/// it would if the SA were in the input, so re-rendering the output changes
/// nothing.
pub(super) fn missing_service_accounts(
    jobs: &[Job],
    selections: &[Selection],
    existing: &BTreeSet<Key>,
    reports: &mut [SpecReport],
) -> Result<Vec<Value>> {
    let mut wanted: BTreeMap<Key, NewServiceAccount> = BTreeMap::new();
    for (job, sel) in jobs.iter().zip(selections) {
        let sa = &job.spec.service_accounts;
        if !sa.create_missing {
            continue;
        }
        for ns in &sel.targets {
            for name in sa.include.iter().filter_map(|p| p.literal_in(ns)) {
                let key = (ns.clone(), name.to_string());
                if existing.contains(&key) || sa.exclude.iter().any(|x| x.matches(ns, name)) {
                    continue;
                }
                let new = wanted.entry(key).or_default();
                merge_annotations(&mut new.annotations, &job.spec.service_account_annotations)
                    .map_err(|e| {
                        e.context(format!("ServiceAccount {ns}/{name} ({})", job.spec.origin))
                    })?;
            }
        }
    }
    for ((ns, name), new) in wanted.iter_mut() {
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            let sa = &job.spec.service_accounts;
            if sel.targets.binary_search(ns).is_ok()
                && targeting::service_account_selected(&sa.include, &sa.exclude, ns, name)
                && !new.pull_secrets.contains(&job.spec.secret_name)
            {
                new.pull_secrets.push(job.spec.secret_name.clone());
                if let Some(r) = report.namespace(ns) {
                    r.created_service_accounts.push(name.clone());
                }
            }
        }
    }
    let labels = [(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())];
    wanted
        .into_iter()
        .map(|((ns, name), new)| {
            let ctx = ServiceAccountContext {
                name: &name,
                namespace: &ns,
                labels: &labels,
                annotations: &new.annotations,
                pull_secrets: &new.pull_secrets,
            };
            templates::render(
                templates::SERVICE_ACCOUNT,
                ctx,
                "ServiceAccount",
                &name,
                &ns,
            )
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
