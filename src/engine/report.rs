//! What a render did, per spec and namespace: the facts `regcred explain`
//! and `--verbose` print. Reports never hold credential values.

/// What one spec did, by namespace; never holds credential values.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SpecReport {
    pub spec: String,
    pub origin: String,
    pub secret_name: String,
    /// Registry servers in the Secret, in `auths` order.
    pub registries: Vec<String>,
    pub namespaces: Vec<NamespaceReport>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NamespaceReport {
    pub namespace: String,
    pub patched_service_accounts: Vec<String>,
    pub created_service_accounts: Vec<String>,
    /// `Kind/name` of workloads and resources that got the pull Secret.
    pub injected: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub namespace: String,
    pub reason: String,
}

impl SpecReport {
    /// The report of a target namespace (targets are sorted: a binary search).
    pub(super) fn namespace(&mut self, ns: &str) -> Option<&mut NamespaceReport> {
        // Built from the sorted, deduplicated targets: no linear scan per SA.
        let i = self
            .namespaces
            .binary_search_by(|n| n.namespace.as_str().cmp(ns))
            .ok()?;
        Some(&mut self.namespaces[i])
    }
}

/// Counts for `--verbose` and reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    /// Secrets rendered (new or replaced in place).
    pub secrets: usize,
    /// ServiceAccounts in the input that reference a rendered Secret.
    pub patched_service_accounts: usize,
    /// ServiceAccounts regcred created.
    pub created_service_accounts: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{} rendered, {} patched, {} created",
            plural(self.secrets, "Secret", "Secrets"),
            plural(
                self.patched_service_accounts,
                "ServiceAccount",
                "ServiceAccounts"
            ),
            self.created_service_accounts
        )
    }
}
