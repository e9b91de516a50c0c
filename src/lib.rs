//! regcred renders registry pull Secrets and ServiceAccount `imagePullSecrets`
//! for every target namespace, offline, from one declarative spec.
//!
//! The binary is thin (`main.rs`); everything lives here, one module per
//! concept: the spec, targeting, credential sources, the dockerconfigjson
//! payload, templates, the render engine, YAML I/O and the KRM wire format.

pub mod check;
pub mod cli;
pub mod cmp;
pub mod commands;
pub mod dockerconfig;
pub mod drift;
pub mod encrypted;
pub mod explain;
pub mod identity;
pub mod imageref;
pub mod keypath;
pub mod krm;
pub mod names;
pub mod plugin;
pub mod render;
pub mod run;
pub mod sops;
pub mod source;
pub mod spec;
pub mod target;
pub mod templates;
pub mod workloads;
pub mod yaml;
