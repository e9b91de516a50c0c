//! The command-line interface, as clap definitions. Subcommand names,
//! help, completions and the man page all come from these.

use crate::commands::{RenderOptions, explain};
use crate::credentials;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  # Render Secrets and ServiceAccount changes for every namespace in a directory
  regcred render -f regcred.yaml manifests/

  # Two teams' specs over one stream from stdin, one file per object
  kubectl kustomize app/ | regcred render -f team-a.yaml -f team-b.yaml - -o rendered/

  # As a KRM function (kustomize, kpt): a ResourceList on stdin
  kpt fn eval --exec regcred --fn-config regcred.yaml

  # As a legacy kustomize exec plugin
  kubectl kustomize --enable-alpha-plugins app/";

#[derive(Parser)]
#[command(
    name = "regcred",
    version,
    about = "Render registry pull Secrets and ServiceAccount imagePullSecrets for every target namespace, offline",
    after_help = EXAMPLES
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
    /// Print errors only (no warnings)
    #[arg(short, long, global = true)]
    pub(super) quiet: bool,
    /// Also print a summary of what was rendered
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(super) verbose: bool,
}

#[derive(Subcommand)]
pub(super) enum Command {
    /// Render a YAML stream (or a directory of files) from specs and input manifests
    #[command(after_help = "Examples:
  regcred render -f regcred.yaml manifests/
  regcred render -f regcred.yaml app.yaml -o rendered/
  kubectl kustomize app/ | regcred render -f regcred.yaml -")]
    #[command(display_order = 1)]
    Render {
        #[command(flatten)]
        spec: SpecArgs,
        /// Input manifests: files, directories (recursive *.yaml|*.yml|*.json) or - for stdin
        #[arg(value_name = "INPUT")]
        inputs: Vec<String>,
        /// Write one file per object into DIR instead of a stream to stdout
        #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Compare with the files a previous `-o DIR` wrote: print a diff (Secret data redacted) and exit 1 if out of date; encrypted files are compared decrypted
        #[arg(long, value_name = "DIR", conflicts_with = "output_dir")]
        check: Option<PathBuf>,
        /// With -o DIR: write each Secret SOPS-encrypted (data and stringData), for Flux and other commit-the-output workflows
        #[arg(long, requires = "output_dir")]
        encrypt: bool,
        /// With --encrypt: comma-separated age recipients (default: SOPS_AGE_RECIPIENTS, then .sops.yaml creation rules)
        #[arg(long, value_name = "RECIPIENTS", requires = "encrypt")]
        age: Option<String>,
    },
    /// Helm post-renderer: the chart's manifests on stdin, the same plus pull Secrets and ServiceAccount changes on stdout
    #[command(
        after_help = "Examples (each --post-renderer-args value is one argument):
  helm template web ./chart --namespace shop --post-renderer regcred \\
    --post-renderer-args post-render --post-renderer-args --spec=regcred.yaml \\
    --post-renderer-args --namespace=shop
  # Helm 4, with the plugin in helm-plugin/ installed:
  helm template web ./chart --namespace shop --post-renderer regcred \\
    --post-renderer-args --spec=regcred.yaml --post-renderer-args --namespace=shop

Objects without metadata.namespace land in the release namespace, which Helm does not pass
to post-renderers: give it with --namespace, or the run fails when a ServiceAccount or
workload has none."
    )]
    #[command(display_order = 9)]
    PostRender {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Encrypt a file with SOPS (age recipients); the reference sops decrypts the result
    #[command(after_help = "Examples:
  regcred encrypt --age age1... creds.yaml > creds.enc.yaml
  regcred encrypt --encrypted-regex '^(password|token)$' --in-place creds.yaml
  regcred encrypt creds.env -o creds.enc.env      # recipients from .sops.yaml")]
    #[command(display_order = 4)]
    Encrypt {
        /// The plaintext file, or - for stdin; its extension picks the format (.yaml/.yml, .json, .env, .ini, else binary)
        file: PathBuf,
        /// The format of the input: yaml, json, dotenv, ini or binary (default: from the extension; yaml for stdin)
        #[arg(long, value_name = "TYPE", value_parser = ["yaml", "json", "dotenv", "ini", "binary"])]
        input_type: Option<String>,
        /// Comma-separated age (age1...) or ssh public key recipients (default: SOPS_AGE_RECIPIENTS, then .sops.yaml)
        #[arg(long, value_name = "RECIPIENTS")]
        age: Option<String>,
        /// Encrypt only values whose key path has a key matching RE
        #[arg(long, value_name = "RE", group = "rule")]
        encrypted_regex: Option<String>,
        /// Leave values whose key path has a key matching RE unencrypted
        #[arg(long, value_name = "RE", group = "rule")]
        unencrypted_regex: Option<String>,
        /// Encrypt only values under keys ending with SUFFIX
        #[arg(long, value_name = "SUFFIX", group = "rule")]
        encrypted_suffix: Option<String>,
        /// Leave values under keys ending with SUFFIX unencrypted (sops' default rule: _unencrypted)
        #[arg(long, value_name = "SUFFIX", group = "rule")]
        unencrypted_suffix: Option<String>,
        /// Compute the MAC over encrypted values only
        #[arg(long)]
        mac_only_encrypted: bool,
        /// Replace FILE with its encrypted form
        #[arg(short = 'i', long, conflicts_with = "output")]
        in_place: bool,
        /// Write to OUT instead of stdout
        #[arg(short = 'o', long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// Decrypt a SOPS or age file (for debugging); output matches sops --decrypt
    #[command(after_help = "Examples:
  regcred decrypt creds.enc.yaml
  regcred decrypt --extract '[\"tokens\"][\"ghcr\"]' creds.enc.yaml")]
    #[command(display_order = 5)]
    Decrypt {
        file: PathBuf,
        // Help given as a string: in a doc comment, rustdoc reads the
        // brackets as links.
        #[arg(
            long,
            value_name = "PATH",
            help = "Print only the value at this path, sops style: '[\"a\"][\"b\"]'"
        )]
        extract: Option<String>,
        /// Write to OUT (mode 0600) instead of stdout
        #[arg(short = 'o', long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// An age identity file, added to sops' usual places
        #[arg(long, value_name = "FILE")]
        age_key_file: Option<PathBuf>,
    },
    /// Generate an age identity (age-keygen format); the public key goes to stderr
    #[command(after_help = "Example:
  regcred keygen -o keys.txt")]
    #[command(display_order = 6)]
    Keygen {
        /// Write the identity to FILE (created with mode 0600) instead of stdout
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print a shell completion script
    #[command(after_help = "Example:
  regcred completions bash > /etc/bash_completion.d/regcred")]
    #[command(display_order = 10)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Argo CD config-management plugin steps (used by plugin.yaml)
    #[command(
        subcommand,
        after_help = "Examples (what the Argo CD sidecar runs in the app directory):
  regcred cmp discover
  PARAM_MODE=render regcred cmp generate"
    )]
    #[command(display_order = 9)]
    Cmp(CmpStep),
    /// Print the JSON Schema of RegistryCredentials (for yaml-language-server and kubeconform)
    #[command(after_help = "Examples:
  regcred schema > regcred.schema.json
  # in a spec, for editors: # yaml-language-server: $schema=./regcred.schema.json")]
    #[command(display_order = 12)]
    Schema,
    /// Print the man page (roff), generated from these definitions
    #[command(after_help = "Example:
  regcred man > /usr/local/share/man/man1/regcred.1")]
    #[command(display_order = 11)]
    Man,
    /// Show, per namespace, the Secret, registries, ServiceAccounts and workloads covered, and what was skipped and why
    #[command(after_help = "Examples:
  regcred explain -f regcred.yaml manifests/
  regcred explain -f regcred.yaml manifests/ --output markdown >> \"$GITHUB_STEP_SUMMARY\"")]
    #[command(display_order = 3)]
    Explain {
        #[command(flatten)]
        spec: SpecArgs,
        /// Input manifests: files, directories or - for stdin
        #[arg(value_name = "INPUT")]
        inputs: Vec<String>,
        /// text, json or markdown
        #[arg(long, value_enum, default_value = "text")]
        output: ExplainFormat,
    },
    /// Report images from private registries that pods could not pull (before they fail with ImagePullBackOff)
    #[command(after_help = "Examples:
  regcred check -f regcred.yaml manifests/
  kubectl kustomize app/ | regcred check -f regcred.yaml - --output json
  regcred check -f regcred.yaml manifests/ --private-registry quay.example.com --pod-spec-path Worker=spec.pod")]
    #[command(display_order = 2)]
    Check {
        #[command(flatten)]
        spec: SpecArgs,
        /// Input manifests: files, directories or - for stdin (at least one)
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<String>,
        /// text or json
        #[arg(long, value_enum, default_value = "text")]
        output: CheckFormat,
        /// Another registry that needs credentials (repeatable; the specs' registries always count)
        #[arg(long, value_name = "REGISTRY")]
        private_registry: Vec<String>,
        /// A kind with a pod template and the dotted path to its PodSpec (repeatable)
        #[arg(long, value_name = "KIND=PATH")]
        pod_spec_path: Vec<String>,
        /// Check the input exactly as given (already rendered), without rendering it first
        #[arg(long)]
        as_is: bool,
        /// Every registry needs credentials, except Docker Hub's official images and --public-registry ones
        #[arg(long)]
        strict: bool,
        /// A registry that needs no credentials, for --strict (repeatable)
        #[arg(long, value_name = "REGISTRY")]
        public_registry: Vec<String>,
    },
    /// Run as a KRM function: ResourceList on stdin, ResourceList on stdout (the default with no arguments)
    #[command(after_help = "Example:
  kpt fn eval --exec regcred --fn-config regcred.yaml")]
    #[command(display_order = 7)]
    Fn,
    /// Install regcred as a legacy kustomize exec plugin (for kubectl kustomize --enable-alpha-plugins)
    #[command(after_help = "Example:
  eval \"$(regcred install-plugin --plugin-home ~/.config/kustomize/plugin)\"
  kubectl kustomize --enable-alpha-plugins app/")]
    #[command(display_order = 8)]
    InstallPlugin {
        /// Plugin home (default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin)
        #[arg(long, value_name = "DIR")]
        plugin_home: Option<PathBuf>,
        /// Copy the binary instead of symlinking it
        #[arg(long)]
        copy: bool,
    },
}

/// What every rendering command (render, explain, check) takes.
#[derive(clap::Args)]
pub(super) struct SpecArgs {
    /// A RegistryCredentials spec file (repeatable; several documents per file allowed)
    #[arg(short = 'f', long = "spec", required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// Namespace for namespaced inputs without metadata.namespace (as kubectl apply -n would place them)
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// Credential files may not leave DIR (default: $REGCRED_ROOT, else the enclosing Git repository of each spec, else the spec's directory)
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Let credential files live outside the root
    #[arg(long)]
    allow_path_outside_root: bool,
    /// An age identity file to decrypt SOPS/age credential files with (added to sops' usual places)
    #[arg(long, value_name = "FILE")]
    age_key_file: Option<PathBuf>,
}

impl SpecArgs {
    /// The render options these arguments and `inputs` make.
    pub(super) fn options(self, inputs: Vec<String>) -> RenderOptions {
        RenderOptions {
            specs: self.specs,
            inputs,
            default_namespace: self.namespace,
            sources: credentials::Options {
                allow_path_outside_root: self.allow_path_outside_root,
                root: self.root.or_else(super::root_from_env),
                age_key_file: self.age_key_file,
                interactive: true,
                from_cli: true,
                names_only: false,
            },
            ..RenderOptions::default()
        }
    }
}

/// `explain --output`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum ExplainFormat {
    Text,
    Json,
    Markdown,
}

impl From<ExplainFormat> for explain::Format {
    fn from(f: ExplainFormat) -> Self {
        match f {
            ExplainFormat::Text => explain::Format::Text,
            ExplainFormat::Json => explain::Format::Json,
            ExplainFormat::Markdown => explain::Format::Markdown,
        }
    }
}

/// `check --output`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum CheckFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(super) enum CmpStep {
    /// Print the first file holding a RegistryCredentials spec (Argo CD discovery)
    Discover,
    /// Render the app in the current directory to stdout (Argo CD generate)
    Generate,
}
