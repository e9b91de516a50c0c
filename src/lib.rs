//! regcred renders registry pull Secrets and ServiceAccount
//! `imagePullSecrets` for every target namespace, offline, from one
//! declarative spec.
//!
//! The binary (`main.rs`) calls [`run`]; everything else is private. The
//! crate is built in layers, and a module imports only from layers below
//! its own (see `ARCHITECTURE.md`):
//!
//! | layer | owns |
//! |---|---|
//! | `cli` | arguments (clap), picking the run mode, printing |
//! | `commands` | what each subcommand and mode does: render, check, explain, KRM function, legacy plugin, Argo CD plugin, encrypt/decrypt/keygen |
//! | `engine` | the render itself: targeting, Secrets, ServiceAccounts, injection, the image check; pure, no I/O |
//! | `credentials` | credential documents: value sources, decryption, formats, key paths, docker config.json |
//! | `spec` | the `RegistryCredentials` contract and its validation |
//! | `sops` | SOPS files: stores, metadata, AES-GCM, MAC, Shamir |
//! | `identities` | age identities found as sops finds them; age files |
//! | `io` | the filesystem and stdin/stdout: confined open, input walker, output writer, drift check, the KRM `ResourceList` loop |
//! | `k8s` | Kubernetes facts: object metadata, names, workloads, image references and kubelet's keyring, findings |
//! | `gocompat` | byte-exact Go formatting and parsing |
//! | `yaml`, `env` | YAML that keeps every scalar's meaning; environment lookups |
//!
//! For a question about X, see Y: how a value is read from an encrypted
//! file, `credentials`; which namespace an object lands in, `k8s::meta`;
//! what happens to the items when a KRM function fails,
//! `io::resourcelist::execute`; why a string is quoted in the output,
//! `yaml`.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod credentials;
mod engine;
mod env;
mod gocompat;
mod identities;
mod io;
mod k8s;
mod sops;
mod spec;
mod yaml;

// Fuzz entry points for `fuzz/` (feature `fuzzing`); the crate's tests
// replay the committed corpus through them.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(all(test, not(feature = "fuzzing")))]
mod fuzzing;

/// Runs regcred with the process's arguments, stdin and environment;
/// returns the exit code.
pub fn run() -> i32 {
    cli::main()
}
