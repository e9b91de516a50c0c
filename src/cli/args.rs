//! The command-line interface, as clap definitions. Subcommand names,
//! help, completions and the man page all come from these.

use crate::commands::{RenderOptions, explain};
use crate::credentials;
use clap::{Args, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Render registry pull Secrets and ServiceAccount imagePullSecrets for every target namespace, offline";

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

// The global flags, beside the subcommand. (A doc comment here would
// become the help text of every command they are added to.)
#[derive(clap::Args)]
pub(super) struct Globals {
    /// Print errors only (no warnings)
    #[arg(short, long, global = true)]
    pub(super) quiet: bool,
    /// Also print a summary of what was rendered
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(super) verbose: bool,
}

/// The subcommands, each parsed from its `Args` struct below. What `--help`
/// lists (name, summary, examples, order) is in [`SUBCOMMANDS`].
#[derive(Subcommand)]
pub(super) enum Command {
    Render(RenderArgs),
    PostRender(PostRenderArgs),
    Encrypt(EncryptArgs),
    Decrypt(DecryptArgs),
    Keygen(KeygenArgs),
    Completions(CompletionsArgs),
    #[command(subcommand)]
    Cmp(CmpStep),
    Schema,
    Man,
    Explain(ExplainArgs),
    Check(CheckArgs),
    Fn,
    InstallPlugin(InstallPluginArgs),
}

/// One subcommand as the top-level help lists it; `args` adds its
/// arguments, and clap calls it only when the subcommand is used or its
/// help, the man page or completions are written (`Command::defer`).
pub(super) struct Sub {
    pub(super) name: &'static str,
    about: &'static str,
    after_help: &'static str,
    order: usize,
    args: fn(clap::Command) -> clap::Command,
    nested: bool,
}

/// Every subcommand, in the order of [`Command`]'s variants.
pub(super) const SUBCOMMANDS: &[Sub] = &[
    Sub {
        name: "render",
        about: "Render a YAML stream (or a directory of files) from specs and input manifests",
        after_help: "Examples:
  regcred render -f regcred.yaml manifests/
  regcred render -f regcred.yaml app.yaml -o rendered/
  kubectl kustomize app/ | regcred render -f regcred.yaml -",
        order: 1,
        args: RenderArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "post-render",
        about: "Helm post-renderer: the chart's manifests on stdin, the same plus pull Secrets and ServiceAccount changes on stdout",
        after_help: "Examples (each --post-renderer-args value is one argument):
  helm template web ./chart --namespace shop --post-renderer regcred \\
    --post-renderer-args post-render --post-renderer-args --spec=regcred.yaml \\
    --post-renderer-args --namespace=shop
  # Helm 4, with the plugin in helm-plugin/ installed:
  helm template web ./chart --namespace shop --post-renderer regcred \\
    --post-renderer-args --spec=regcred.yaml --post-renderer-args --namespace=shop

Objects without metadata.namespace land in the release namespace, which Helm does not pass
to post-renderers: give it with --namespace, or the run fails when a ServiceAccount or
workload has none.",
        order: 9,
        args: PostRenderArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "encrypt",
        about: "Encrypt a file with SOPS (age recipients); the reference sops decrypts the result",
        after_help: "Examples:
  regcred encrypt --age age1... creds.yaml > creds.enc.yaml
  regcred encrypt --encrypted-regex '^(password|token)$' --in-place creds.yaml
  regcred encrypt creds.env -o creds.enc.env      # recipients from .sops.yaml",
        order: 4,
        args: EncryptArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "decrypt",
        about: "Decrypt a SOPS or age file (for debugging); output matches sops --decrypt",
        after_help: "Examples:
  regcred decrypt creds.enc.yaml
  regcred decrypt --extract '[\"tokens\"][\"ghcr\"]' creds.enc.yaml",
        order: 5,
        args: DecryptArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "keygen",
        about: "Generate an age identity (age-keygen format); the public key goes to stderr",
        after_help: "Example:
  regcred keygen -o keys.txt",
        order: 6,
        args: KeygenArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "completions",
        about: "Print a shell completion script",
        after_help: "Example:
  regcred completions bash > /etc/bash_completion.d/regcred",
        order: 10,
        args: CompletionsArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "cmp",
        about: "Argo CD config-management plugin steps (used by plugin.yaml)",
        after_help: "Examples (what the Argo CD sidecar runs in the app directory):
  regcred cmp discover
  PARAM_MODE=render regcred cmp generate",
        order: 9,
        args: cmp_steps,
        nested: true,
    },
    Sub {
        name: "schema",
        about: "Print the JSON Schema of RegistryCredentials (for yaml-language-server and kubeconform)",
        after_help: "Examples:
  regcred schema > regcred.schema.json
  # in a spec, for editors: # yaml-language-server: $schema=./regcred.schema.json",
        order: 12,
        args: no_args,
        nested: false,
    },
    Sub {
        name: "man",
        about: "Print the man page (roff), generated from these definitions",
        after_help: "Example:
  regcred man > /usr/local/share/man/man1/regcred.1",
        order: 11,
        args: no_args,
        nested: false,
    },
    Sub {
        name: "explain",
        about: "Show, per namespace, the Secret, registries, ServiceAccounts and workloads covered, and what was skipped and why",
        after_help: "Examples:
  regcred explain -f regcred.yaml manifests/
  regcred explain -f regcred.yaml manifests/ --output markdown >> \"$GITHUB_STEP_SUMMARY\"",
        order: 3,
        args: ExplainArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "check",
        about: "Report images from private registries that pods could not pull (before they fail with ImagePullBackOff)",
        after_help: "Examples:
  regcred check -f regcred.yaml manifests/
  kubectl kustomize app/ | regcred check -f regcred.yaml - --output json
  regcred check -f regcred.yaml manifests/ --private-registry quay.example.com --pod-spec-path Worker=spec.pod",
        order: 2,
        args: CheckArgs::augment_args,
        nested: false,
    },
    Sub {
        name: "fn",
        about: "Run as a KRM function: ResourceList on stdin, ResourceList on stdout (the default with no arguments)",
        after_help: "Example:
  kpt fn eval --exec regcred --fn-config regcred.yaml",
        order: 7,
        args: no_args,
        nested: false,
    },
    Sub {
        name: "install-plugin",
        about: "Install regcred as a legacy kustomize exec plugin (for kubectl kustomize --enable-alpha-plugins)",
        after_help: "Example:
  eval \"$(regcred install-plugin --plugin-home ~/.config/kustomize/plugin)\"
  kubectl kustomize --enable-alpha-plugins app/",
        order: 8,
        args: InstallPluginArgs::augment_args,
        nested: false,
    },
];

/// The command line for parsing: a subcommand's arguments are built only
/// when it runs (clap's `defer`). Building all of them was 7% of a small
/// render (issue 12).
pub(super) fn command() -> clap::Command {
    build(true)
}

/// The whole command line, every subcommand built, for the completion
/// scripts and the man page (whose order of options follows the order in
/// which they were added).
pub(super) fn full_command() -> clap::Command {
    build(false)
}

/// The command line, built by hand around the derived arguments.
fn build(lazy: bool) -> clap::Command {
    let top = clap::Command::new("regcred")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .after_help(EXAMPLES)
        .subcommand_required(true)
        .arg_required_else_help(true);
    let with_subcommands = SUBCOMMANDS.iter().fold(top, |cmd, sub| {
        let named = clap::Command::new(sub.name)
            .about(sub.about)
            .after_help(sub.after_help)
            .display_order(sub.order);
        // clap's `help` subcommand copies the tree of subcommands before
        // deferred parts run, so one with subcommands of its own is built
        // at once (`regcred help cmp discover`).
        cmd.subcommand(if sub.nested || !lazy {
            (sub.args)(named)
        } else {
            named.defer(sub.args)
        })
    });
    // Added after the subcommands, as the derived parser did: their place
    // in every subcommand's help (after its own options) follows from it.
    Globals::augment_args(with_subcommands)
}

/// A subcommand without arguments.
fn no_args(cmd: clap::Command) -> clap::Command {
    cmd
}

/// `cmp`'s own subcommands, one of which is required.
fn cmp_steps(cmd: clap::Command) -> clap::Command {
    CmpStep::augment_subcommands(cmd)
        .subcommand_required(true)
        .arg_required_else_help(true)
}

// The arguments of `regcred render` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct RenderArgs {
    #[command(flatten)]
    pub(super) spec: SpecArgs,
    /// Input manifests: files, directories (recursive *.yaml|*.yml|*.json) or - for stdin
    #[arg(value_name = "INPUT")]
    pub(super) inputs: Vec<String>,
    /// Write one file per object into DIR instead of a stream to stdout
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub(super) output_dir: Option<PathBuf>,
    /// Compare with the files a previous `-o DIR` wrote: print a diff (Secret data redacted) and exit 1 if out of date; encrypted files are compared decrypted
    #[arg(long, value_name = "DIR", conflicts_with = "output_dir")]
    pub(super) check: Option<PathBuf>,
    /// With -o DIR: write each Secret SOPS-encrypted (data and stringData), for Flux and other commit-the-output workflows
    #[arg(long, requires = "output_dir")]
    pub(super) encrypt: bool,
    /// With --encrypt: comma-separated age recipients (default: SOPS_AGE_RECIPIENTS, then .sops.yaml creation rules)
    #[arg(long, value_name = "RECIPIENTS", requires = "encrypt")]
    pub(super) age: Option<String>,
}

// The arguments of `regcred post-render` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct PostRenderArgs {
    #[command(flatten)]
    pub(super) spec: SpecArgs,
}

// The arguments of `regcred encrypt` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct EncryptArgs {
    /// The plaintext file, or - for stdin; its extension picks the format (.yaml/.yml, .json, .env, .ini, else binary)
    pub(super) file: PathBuf,
    /// The format of the input: yaml, json, dotenv, ini or binary (default: from the extension; yaml for stdin)
    #[arg(long, value_name = "TYPE", value_parser = ["yaml", "json", "dotenv", "ini", "binary"])]
    pub(super) input_type: Option<String>,
    /// Comma-separated age (age1...) or ssh public key recipients (default: SOPS_AGE_RECIPIENTS, then .sops.yaml)
    #[arg(long, value_name = "RECIPIENTS")]
    pub(super) age: Option<String>,
    /// Encrypt only values whose key path has a key matching RE
    #[arg(long, value_name = "RE", group = "rule")]
    pub(super) encrypted_regex: Option<String>,
    /// Leave values whose key path has a key matching RE unencrypted
    #[arg(long, value_name = "RE", group = "rule")]
    pub(super) unencrypted_regex: Option<String>,
    /// Encrypt only values under keys ending with SUFFIX
    #[arg(long, value_name = "SUFFIX", group = "rule")]
    pub(super) encrypted_suffix: Option<String>,
    /// Leave values under keys ending with SUFFIX unencrypted (sops' default rule: _unencrypted)
    #[arg(long, value_name = "SUFFIX", group = "rule")]
    pub(super) unencrypted_suffix: Option<String>,
    /// Compute the MAC over encrypted values only
    #[arg(long)]
    pub(super) mac_only_encrypted: bool,
    /// Replace FILE with its encrypted form
    #[arg(short = 'i', long, conflicts_with = "output")]
    pub(super) in_place: bool,
    /// Write to OUT instead of stdout
    #[arg(short = 'o', long, value_name = "OUT")]
    pub(super) output: Option<PathBuf>,
}

// The arguments of `regcred decrypt` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct DecryptArgs {
    pub(super) file: PathBuf,
    // Help given as a string: in a doc comment, rustdoc reads the
    // brackets as links.
    #[arg(
        long,
        value_name = "PATH",
        help = "Print only the value at this path, sops style: '[\"a\"][\"b\"]'"
    )]
    pub(super) extract: Option<String>,
    /// Write to OUT (mode 0600) instead of stdout
    #[arg(short = 'o', long, value_name = "OUT")]
    pub(super) output: Option<PathBuf>,
    /// An age identity file, added to sops' usual places
    #[arg(long, value_name = "FILE")]
    pub(super) age_key_file: Option<PathBuf>,
}

// The arguments of `regcred keygen` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct KeygenArgs {
    /// Write the identity to FILE (created with mode 0600) instead of stdout
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
}

// The arguments of `regcred completions` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct CompletionsArgs {
    #[arg(value_enum)]
    pub(super) shell: clap_complete::Shell,
}

// The arguments of `regcred explain` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct ExplainArgs {
    #[command(flatten)]
    pub(super) spec: SpecArgs,
    /// Input manifests: files, directories or - for stdin
    #[arg(value_name = "INPUT")]
    pub(super) inputs: Vec<String>,
    /// text, json or markdown
    #[arg(long, value_enum, default_value = "text")]
    pub(super) output: ExplainFormat,
}

// The arguments of `regcred check` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    pub(super) spec: SpecArgs,
    /// Input manifests: files, directories or - for stdin (at least one)
    #[arg(value_name = "INPUT", required = true)]
    pub(super) inputs: Vec<String>,
    /// text or json
    #[arg(long, value_enum, default_value = "text")]
    pub(super) output: CheckFormat,
    /// Another registry that needs credentials (repeatable; the specs' registries always count)
    #[arg(long, value_name = "REGISTRY")]
    pub(super) private_registry: Vec<String>,
    /// A kind with a pod template and the dotted path to its PodSpec (repeatable)
    #[arg(long, value_name = "KIND=PATH")]
    pub(super) pod_spec_path: Vec<String>,
    /// Check the input exactly as given (already rendered), without rendering it first
    #[arg(long)]
    pub(super) as_is: bool,
    /// Every registry needs credentials, except Docker Hub's official images and --public-registry ones
    #[arg(long)]
    pub(super) strict: bool,
    /// A registry that needs no credentials, for --strict (repeatable)
    #[arg(long, value_name = "REGISTRY")]
    pub(super) public_registry: Vec<String>,
}

// The arguments of `regcred install-plugin` (derived; the doc comment would become its help text).
#[derive(clap::Args)]
pub(super) struct InstallPluginArgs {
    /// Plugin home (default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin)
    #[arg(long, value_name = "DIR")]
    pub(super) plugin_home: Option<PathBuf>,
    /// Copy the binary instead of symlinking it
    #[arg(long)]
    pub(super) copy: bool,
}

// What every rendering command (render, explain, check) takes. (A doc
// comment would become their help text.)
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
