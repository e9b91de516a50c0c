//! Command-line entry: picks the mode and prints what it returns.
//!
//! * no arguments: KRM function (kustomize/kpt send a ResourceList on stdin);
//! * one argument that is an existing file: legacy kustomize exec plugin;
//! * otherwise the clap CLI (`render`, `fn`, `--help`, `--version`).

use crate::commands;
use crate::run::{self, Outcome, RenderOptions, SourceOptions};
use clap::{CommandFactory, Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
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
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print errors only (no warnings)
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Also print a summary of what was rendered
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
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
        /// Compare with the files a previous `-o DIR` wrote: print a diff (Secret data redacted) and exit 1 if out of date
        #[arg(long, value_name = "DIR", conflicts_with = "output_dir")]
        check: Option<PathBuf>,
    },
    /// Encrypt a file with SOPS (age recipients); the reference sops decrypts the result
    #[command(after_help = "Examples:
  regcred encrypt --age age1... creds.yaml > creds.enc.yaml
  regcred encrypt --encrypted-regex '^(password|token)$' --in-place creds.yaml
  regcred encrypt creds.env -o creds.enc.env      # recipients from .sops.yaml")]
    #[command(display_order = 4)]
    Encrypt {
        /// The plaintext file; its extension picks the format (.yaml/.yml, .json, .env, .ini, else binary)
        file: PathBuf,
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
        /// Print only the value at this path, sops style: '["a"]["b"]'
        #[arg(long, value_name = "PATH")]
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
        output: crate::explain::Format,
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
struct SpecArgs {
    /// A RegistryCredentials spec file (repeatable; several documents per file allowed)
    #[arg(short = 'f', long = "spec", required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// Namespace for namespaced inputs without metadata.namespace (as kubectl apply -n would place them)
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// Let credential files live outside the spec file's directory
    #[arg(long)]
    allow_path_outside_root: bool,
    /// An age identity file to decrypt SOPS/age credential files with (added to sops' usual places)
    #[arg(long, value_name = "FILE")]
    age_key_file: Option<PathBuf>,
}

impl SpecArgs {
    fn options(self, inputs: Vec<String>) -> RenderOptions {
        RenderOptions {
            specs: self.specs,
            inputs,
            output_dir: None,
            check_dir: None,
            default_namespace: self.namespace,
            exclude_specs: Vec::new(),
            keep_trees: false,
            sources: SourceOptions {
                allow_path_outside_root: self.allow_path_outside_root,
                age_key_file: self.age_key_file,
                interactive: true,
            },
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum CmpStep {
    /// Print the first file holding a RegistryCredentials spec (Argo CD discovery)
    Discover,
    /// Render the app in the current directory to stdout (Argo CD generate)
    Generate,
}

const SUBCOMMANDS: &[&str] = &[
    "check",
    "explain",
    "cmp",
    "render",
    "fn",
    "install-plugin",
    "encrypt",
    "decrypt",
    "keygen",
    "help",
];

/// Runs the binary; returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let outcome = match args.len() {
        1 => krm_mode(),
        2 if is_plugin_config(&args[1]) => {
            let root = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT").map(PathBuf::from);
            match read_stdin() {
                Ok(stdin) => {
                    run::legacy_plugin(PathBuf::from(&args[1]).as_path(), &stdin, root.as_deref())
                }
                Err(e) => Outcome::error(e),
            }
        }
        _ => match Cli::try_parse_from(&args) {
            Ok(cli) => {
                let verbosity = if cli.quiet {
                    Verbosity::Quiet
                } else if cli.verbose {
                    Verbosity::Verbose
                } else {
                    Verbosity::Normal
                };
                return emit(dispatch(cli), verbosity);
            }
            Err(e) => {
                let _ = e.print();
                return e.exit_code();
            }
        },
    };
    emit(outcome, Verbosity::Normal)
}

#[derive(Clone, Copy, PartialEq)]
enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

fn is_plugin_config(arg: &std::ffi::OsStr) -> bool {
    let s = arg.to_string_lossy();
    !s.starts_with('-') && !SUBCOMMANDS.contains(&s.as_ref()) && std::path::Path::new(arg).is_file()
}

fn dispatch(cli: Cli) -> Outcome {
    match cli.command {
        Command::Fn => krm_mode(),
        Command::Check {
            spec,
            inputs,
            output,
            private_registry,
            pod_spec_path,
        } => {
            let mut extra = crate::check::CheckOptions {
                private_registries: private_registry,
                ..Default::default()
            };
            for p in &pod_spec_path {
                match p.split_once('=') {
                    Some((kind, path)) if !kind.is_empty() && !path.is_empty() => {
                        extra.extra_kinds.push(crate::workloads::ExtraKind {
                            kind: kind.to_string(),
                            path: path.to_string(),
                        })
                    }
                    _ => {
                        return Outcome::error(anyhow::anyhow!(
                            "--pod-spec-path {p:?}: expected KIND=PATH, e.g. Worker=spec.pod"
                        ));
                    }
                }
            }
            let opts = spec.options(inputs);
            run::check_cli(
                &opts,
                &extra,
                matches!(output, CheckFormat::Json),
                read_stdin,
            )
        }
        Command::Explain {
            spec,
            inputs,
            output,
        } => {
            let opts = spec.options(inputs);
            match run::load_and_render(&opts, read_stdin) {
                Ok(r) => Outcome {
                    stdout: crate::explain::explain(&r.output, output),
                    stderr: r.output.findings.iter().map(run::format_finding).collect(),
                    ..Outcome::default()
                },
                Err(e) => Outcome::error(e),
            }
        }
        Command::InstallPlugin { plugin_home, copy } => {
            match crate::plugin::install(plugin_home, copy) {
                Ok(home) => Outcome {
                    stdout: format!(
                        "export KUSTOMIZE_PLUGIN_HOME={}\n",
                        crate::plugin::shell_quote(&home)
                    ),
                    info: vec![format!(
                        "installed {}",
                        crate::plugin::plugin_path(&home).display()
                    )],
                    ..Outcome::default()
                },
                Err(e) => Outcome::error(e),
            }
        }
        Command::Render {
            spec,
            inputs,
            output_dir,
            check,
        } => run::render_cli(
            &RenderOptions {
                output_dir,
                check_dir: check,
                ..spec.options(inputs)
            },
            read_stdin,
        ),
        Command::Encrypt {
            file,
            age,
            encrypted_regex,
            unencrypted_regex,
            encrypted_suffix,
            unencrypted_suffix,
            mac_only_encrypted,
            in_place,
            output,
        } => {
            let rule = [
                ("encrypted_regex", encrypted_regex),
                ("unencrypted_regex", unencrypted_regex),
                ("encrypted_suffix", encrypted_suffix),
                ("unencrypted_suffix", unencrypted_suffix),
            ]
            .into_iter()
            .find_map(|(k, v)| v.map(|v| (k.to_string(), v)));
            commands::encrypt(&commands::EncryptArgs {
                file,
                age,
                rule,
                mac_only_encrypted,
                in_place,
                output,
            })
        }
        Command::Decrypt {
            file,
            extract,
            output,
            age_key_file,
        } => commands::decrypt(&commands::DecryptArgs {
            file,
            extract,
            output,
            age_key_file,
        }),
        Command::Keygen { output } => commands::keygen(output.as_deref()),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "regcred", &mut buf);
            Outcome {
                stdout: String::from_utf8_lossy(&buf).into_owned(),
                ..Outcome::default()
            }
        }
        Command::Cmp(step) => match std::env::current_dir() {
            Ok(dir) => match step {
                CmpStep::Discover => crate::cmp::discover(&dir),
                CmpStep::Generate => crate::cmp::generate(&dir, &|n| std::env::var(n).ok()),
            },
            Err(e) => Outcome::error(e.into()),
        },
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut buf) {
                Ok(()) => Outcome {
                    stdout: String::from_utf8_lossy(&buf).into_owned(),
                    ..Outcome::default()
                },
                Err(e) => Outcome::error(e.into()),
            }
        }
    }
}

fn krm_mode() -> Outcome {
    let root = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::error(e.into()),
    };
    match read_stdin() {
        Ok(input) => run::krm_function(&input, &root),
        Err(e) => Outcome::error(e),
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
    Ok(s)
}

/// Prints an outcome: stderr lines (warnings dropped with `--quiet`, info
/// added with `--verbose`, prefixes coloured on a terminal unless
/// `NO_COLOR` is set), then stdout.
fn emit(outcome: Outcome, verbosity: Verbosity) -> i32 {
    let mut err = std::io::stderr().lock();
    let color = err.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb");
    for line in &outcome.stderr {
        if verbosity == Verbosity::Quiet && line.starts_with("warning:") {
            continue;
        }
        let _ = writeln!(err, "{}", paint(line, color));
    }
    if verbosity == Verbosity::Verbose {
        for line in &outcome.info {
            let _ = writeln!(err, "{}", paint(&format!("info: {line}"), color));
        }
    }
    let mut out = std::io::stdout().lock();
    if out
        .write_all(outcome.stdout.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        let _ = writeln!(err, "error: cannot write stdout");
        return 1;
    }
    outcome.code
}

/// Colours the `error:`/`warning:`/`info:` prefix (red, yellow, blue).
fn paint(line: &str, color: bool) -> String {
    if !color {
        return line.to_string();
    }
    for (prefix, code) in [("error:", "1;31"), ("warning:", "1;33"), ("info:", "1;34")] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return format!("\x1b[{code}m{prefix}\x1b[0m{rest}");
        }
    }
    line.to_string()
}
