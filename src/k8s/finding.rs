//! The one finding type: what render, check and the KRM function report.
//!
//! Shaped like kyaml's `framework.Result` (message, severity, resource
//! reference, field, file), so the same value becomes a stderr line, a
//! `regcred check` row and a KRM `results` entry. A finding never carries a
//! credential value.

/// How serious a finding is, as KRM results spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The object a finding is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// Something worth telling the user.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    /// The object: a `RegistryCredentials` spec, or a workload.
    pub resource: Option<ResourceRef>,
    /// Field path in that object, e.g. `spec.registries[0].password`.
    pub field: Option<String>,
    /// The file the object came from, when known.
    pub file: Option<String>,
    /// For an image finding: the container and the image it runs.
    pub container: Option<String>,
    pub image: Option<String>,
}

impl Finding {
    /// A finding with just a severity and a message.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            severity,
            message: message.into(),
            resource: None,
            field: None,
            file: None,
            container: None,
            image: None,
        }
    }

    /// An error with the whole message and nothing else (a failed run).
    pub fn error(message: impl Into<String>) -> Self {
        Finding::new(Severity::Error, message)
    }

    /// The message with the container and image in front, when known.
    pub fn full_message(&self) -> String {
        match (&self.container, &self.image) {
            (Some(c), Some(i)) => format!("container {c} image {i}: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// `severity: field: message (file)`, the stderr line of a spec
    /// finding: the file says which spec (and document) when there are
    /// several.
    pub fn to_line(&self) -> String {
        let mut line = match &self.field {
            Some(field) => format!("{}: {field}: {}", self.severity.as_str(), self.message),
            None => format!("{}: {}", self.severity.as_str(), self.message),
        };
        if let Some(file) = &self.file {
            line.push_str(&format!(" ({file})"));
        }
        line
    }
}
