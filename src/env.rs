//! Environment variables, looked up through a replaceable function so
//! tests (and the Argo CD plugin's `PARAM_*` handling) need not touch the
//! process environment.

/// Looks up one environment variable.
pub(crate) type EnvLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The process environment.
pub(crate) fn process() -> EnvLookup {
    Box::new(|name| std::env::var(name).ok())
}
