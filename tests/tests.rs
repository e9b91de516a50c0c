//! regcred's integration tests, built as one test binary.
//!
//! They drive the built `regcred` binary and the real tools it works with
//! (kubectl with kustomize, the standalone kustomize, kpt, sops, age;
//! PyYAML and kubernetes-validate as independent readers of its output)
//! rather than calling the library.
//! There is one module per feature; the helpers they share (running a
//! process, temporary directories, YAML readers, the canary check) live in
//! `common`, and fixtures (including the `explain` goldens) under
//! `tests/data`. Run one feature with `cargo test --test integration sops::`.

mod common;

mod age_vectors;
mod argocd_cmp;
mod argocd_kustomize;
mod argocd_sidecar;
mod check;
mod cli_conventions;
mod container_image;
mod drift_check;
mod errors;
mod examples;
mod explain;
mod fidelity;
mod gitops;
mod helm;
mod hostile;
mod inject;
mod install_plugin;
mod kpt_pipeline;
mod krm;
mod ksops_comparison;
mod kubectl_compat;
mod kustomize;
mod packaging;
mod release_workflow;
mod schema;
mod sops;
mod sops_fidelity;
