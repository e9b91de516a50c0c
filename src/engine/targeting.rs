//! Targeting: which namespaces get a Secret and which ServiceAccounts get
//! an `imagePullSecrets` entry.
//!
//! regcred never sees the cluster, so "namespaces" are those the input
//! mentions (Namespace objects and `metadata.namespace` of namespaced
//! objects) plus the names the spec lists explicitly.

use crate::k8s::meta::SKIP_ANNOTATION;
use crate::spec::{AccountPattern, NamespaceTargets};
use serde_yaml_ng::Mapping;
use std::collections::{BTreeMap, HashSet};

/// Namespaces no pattern ever selects; only `names` can target them.
pub const DEFAULT_EXCLUDES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// What the input says about one namespace.
#[derive(Debug, Clone, Default)]
pub struct NamespaceInfo {
    /// Labels of the Namespace object, when the input holds one.
    pub labels: Option<Box<Mapping>>,
    /// The Namespace object opts out with `regcred.dev/skip: "true"`.
    pub skip: bool,
    /// ServiceAccounts in it that a spec could create, a bit per literal
    /// name (see `service_accounts::Existing`).
    pub accounts: u64,
}

/// Every namespace the input mentions, sorted by name.
pub type Inventory = BTreeMap<String, NamespaceInfo>;

/// Why a namespace seen in the input was not targeted.
#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    OptOut,
    NotIncluded,
    Excluded(String),
    DefaultExclude,
    Selector,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::OptOut => write!(f, "opt-out annotation {SKIP_ANNOTATION}"),
            SkipReason::NotIncluded => write!(f, "matches no include pattern"),
            SkipReason::Excluded(p) => write!(f, "excluded by pattern {p:?}"),
            SkipReason::DefaultExclude => {
                write!(f, "excluded by default (list it under names to target it)")
            }
            SkipReason::Selector => write!(f, "labels do not match the selector"),
        }
    }
}

/// The outcome of targeting for one spec.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Target namespaces, sorted.
    pub targets: Vec<String>,
    /// Namespaces seen but not targeted, with the reason.
    pub skipped: Vec<(String, SkipReason)>,
    /// Targets that came from patterns (as opposed to `names`).
    pub matched_by_pattern: usize,
}

/// Applies a spec's namespace rules to the inventory.
#[cfg(test)]
pub fn select_namespaces(rules: &NamespaceTargets, inventory: &Inventory) -> Selection {
    select(rules, inventory, true)
}

/// Applies a spec's namespace rules to the inventory; `skipped` is only
/// filled when `detail` (it is for `regcred explain`, and as long as the
/// inventory).
pub fn select(rules: &NamespaceTargets, inventory: &Inventory, detail: bool) -> Selection {
    let mut sel = Selection::default();
    let listed: HashSet<&str> = rules.names.iter().map(String::as_str).collect();
    for (name, info) in inventory {
        match pattern_verdict(rules, name, info) {
            Ok(()) => {
                sel.targets.push(name.clone());
                sel.matched_by_pattern += 1;
            }
            Err(reason) if listed.contains(name.as_str()) && reason != SkipReason::OptOut => {
                sel.targets.push(name.clone())
            }
            Err(reason) if detail => sel.skipped.push((name.clone(), reason)),
            Err(_) => {}
        }
    }
    for name in &rules.names {
        if !inventory.contains_key(name) {
            sel.targets.push(name.clone());
        }
    }
    sel.targets.sort();
    sel.targets.dedup();
    sel
}

fn pattern_verdict(
    rules: &NamespaceTargets,
    name: &str,
    info: &NamespaceInfo,
) -> Result<(), SkipReason> {
    if info.skip {
        return Err(SkipReason::OptOut);
    }
    if !rules.include.iter().any(|p| p.matches(name)) {
        return Err(SkipReason::NotIncluded);
    }
    if let Some(p) = rules.exclude.iter().find(|p| p.matches(name)) {
        return Err(SkipReason::Excluded(p.as_str().to_string()));
    }
    if DEFAULT_EXCLUDES.contains(&name) {
        return Err(SkipReason::DefaultExclude);
    }
    if let Some(selector) = &rules.selector {
        // A namespace known only from metadata.namespace has no labels to match.
        match &info.labels {
            Some(labels) if selector.matches(labels) => {}
            _ => return Err(SkipReason::Selector),
        }
    }
    Ok(())
}

/// Whether ServiceAccount `ns/name` is selected by include/exclude patterns.
pub fn service_account_selected(
    include: &[AccountPattern],
    exclude: &[AccountPattern],
    ns: &str,
    name: &str,
) -> bool {
    include.iter().any(|p| p.matches(ns, name)) && !exclude.iter().any(|p| p.matches(ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{LabelSelector, Pattern};
    use crate::yaml;

    fn rules(
        include: &[&str],
        exclude: &[&str],
        names: &[&str],
        selector: Option<&str>,
    ) -> NamespaceTargets {
        let pats = |l: &[&str]| l.iter().map(|p| Pattern::new(p, "f").unwrap()).collect();
        NamespaceTargets {
            include: pats(include),
            include_explicit: true,
            exclude: pats(exclude),
            names: names.iter().map(|s| s.to_string()).collect(),
            selector: selector.map(|s| {
                LabelSelector::parse(&yaml::load_stream(s, "t").unwrap()[0].value, "sel").unwrap()
            }),
        }
    }

    fn inventory(entries: &[(&str, Option<&str>, bool)]) -> Inventory {
        entries
            .iter()
            .map(|(name, labels, skip)| {
                let labels = labels.map(|l| {
                    yaml::load_stream(l, "t").unwrap()[0]
                        .value
                        .as_mapping()
                        .unwrap()
                        .clone()
                });
                (
                    name.to_string(),
                    NamespaceInfo {
                        labels: labels.map(Box::new),
                        skip: *skip,
                        accounts: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn globs_excludes_and_default_excludes() {
        let inv = inventory(&[
            ("team-a", None, false),
            ("team-b", None, false),
            ("sandbox-1", None, false),
            ("kube-system", None, false),
            ("other", None, false),
        ]);
        let sel = select_namespaces(
            &rules(
                &["team-*", "sandbox-*", "kube-*"],
                &["sandbox-*"],
                &[],
                None,
            ),
            &inv,
        );
        assert_eq!(sel.targets, ["team-a", "team-b"]);
        assert!(
            sel.skipped
                .contains(&("kube-system".into(), SkipReason::DefaultExclude))
        );
        assert!(
            sel.skipped
                .contains(&("sandbox-1".into(), SkipReason::Excluded("sandbox-*".into())))
        );
        assert!(
            sel.skipped
                .contains(&("other".into(), SkipReason::NotIncluded))
        );
    }

    #[test]
    fn names_are_targeted_even_when_absent_or_default_excluded_but_not_when_opted_out() {
        let inv = inventory(&[("kube-system", None, false), ("quiet", None, true)]);
        let sel = select_namespaces(
            &rules(&["*"], &[], &["kube-system", "istio-system", "quiet"], None),
            &inv,
        );
        assert_eq!(sel.targets, ["istio-system", "kube-system"]);
        assert_eq!(sel.skipped, [("quiet".to_string(), SkipReason::OptOut)]);
    }

    #[test]
    fn selector_every_operator() {
        let inv = inventory(&[
            ("a", Some("{tier: web, pull: enabled}"), false),
            ("b", Some("{tier: db}"), false),
            ("c", Some("{}"), false),
            ("d", None, false),
        ]);
        let cases = [
            ("matchLabels: {pull: enabled}", vec!["a"]),
            (
                "matchExpressions: [{key: tier, operator: In, values: [web, db]}]",
                vec!["a", "b"],
            ),
            (
                "matchExpressions: [{key: tier, operator: NotIn, values: [web]}]",
                vec!["b", "c"],
            ),
            (
                "matchExpressions: [{key: tier, operator: Exists}]",
                vec!["a", "b"],
            ),
            (
                "matchExpressions: [{key: tier, operator: DoesNotExist}]",
                vec!["c"],
            ),
            (
                "{matchLabels: {tier: web}, matchExpressions: [{key: pull, operator: Exists}]}",
                vec!["a"],
            ),
        ];
        for (selector, expected) in cases {
            let sel = select_namespaces(&rules(&["*"], &[], &[], Some(selector)), &inv);
            assert_eq!(sel.targets, expected, "{selector}");
        }
    }

    #[test]
    fn invalid_selector_operator_names_the_field() {
        let v = yaml::load_stream("matchExpressions: [{key: a, operator: Has}]", "t")
            .unwrap()
            .remove(0)
            .value;
        let e = LabelSelector::parse(&v, "spec.namespaces.selector")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("spec.namespaces.selector.matchExpressions[0].operator"),
            "{e}"
        );
    }

    #[test]
    fn service_account_patterns() {
        let p = |l: &[&str]| {
            l.iter()
                .map(|s| AccountPattern::new(s, "f").unwrap())
                .collect::<Vec<_>>()
        };
        assert!(service_account_selected(
            &p(&["*"]),
            &p(&["builder"]),
            "a",
            "default"
        ));
        assert!(!service_account_selected(
            &p(&["*"]),
            &p(&["builder"]),
            "a",
            "builder"
        ));
        assert!(!service_account_selected(&p(&["default"]), &[], "a", "app"));
        // namespace/name: only in that namespace.
        let only = p(&["istio-system/operator", "team-*/builder"]);
        assert!(service_account_selected(
            &only,
            &[],
            "istio-system",
            "operator"
        ));
        assert!(!service_account_selected(&only, &[], "tsb", "operator"));
        assert!(service_account_selected(&only, &[], "team-a", "builder"));
        assert_eq!(only[0].literal_in("istio-system"), Some("operator"));
        assert_eq!(only[0].literal_in("tsb"), None);
        assert_eq!(p(&["app-*"])[0].literal_in("x"), None);
        assert!(AccountPattern::new("a/b/c", "f").is_err());
    }
}
