//! Command-line entry: picks the mode and prints what it returns.
//!
//! * no arguments: KRM function (kustomize/kpt send a ResourceList on stdin);
//! * one argument that is an existing file: legacy kustomize exec plugin;
//! * otherwise the clap CLI (`render`, `fn`, `--help`, `--version`).

use crate::commands;
use crate::run::{self, Outcome, RenderOptions, SourceOptions};
use clap::{Parser, Subcommand};
use std::io::{Read, Write};
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
}

#[derive(Subcommand)]
enum Command {
    /// Render a YAML stream (or a directory of files) from specs and input manifests
    #[command(after_help = "Examples:
  regcred render -f regcred.yaml manifests/
  regcred render -f regcred.yaml app.yaml -o rendered/
  kubectl kustomize app/ | regcred render -f regcred.yaml -")]
    Render {
        /// A RegistryCredentials spec file (repeatable; several documents per file allowed)
        #[arg(short = 'f', long = "spec", required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
        /// Input manifests: files, directories (recursive *.yaml|*.yml|*.json) or - for stdin
        #[arg(value_name = "INPUT")]
        inputs: Vec<String>,
        /// Write one file per object into DIR instead of a stream to stdout
        #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Let credential files live outside the spec file's directory
        #[arg(long)]
        allow_path_outside_root: bool,
        /// An age identity file to decrypt SOPS/age credential files with (added to sops' usual places)
        #[arg(long, value_name = "FILE")]
        age_key_file: Option<PathBuf>,
    },
    /// Encrypt a file with SOPS (age recipients); the reference sops decrypts the result
    #[command(after_help = "Examples:
  regcred encrypt --age age1... creds.yaml > creds.enc.yaml
  regcred encrypt --encrypted-regex '^(password|token)$' --in-place creds.yaml
  regcred encrypt creds.env -o creds.enc.env      # recipients from .sops.yaml")]
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
    Keygen {
        /// Write the identity to FILE (created with mode 0600) instead of stdout
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Run as a KRM function: ResourceList on stdin, ResourceList on stdout (the default with no arguments)
    #[command(after_help = "Example:
  kpt fn eval --exec regcred --fn-config regcred.yaml")]
    Fn,
    /// Install regcred as a legacy kustomize exec plugin (for kubectl kustomize --enable-alpha-plugins)
    #[command(after_help = "Example:
  eval \"$(regcred install-plugin --plugin-home ~/.config/kustomize/plugin)\"
  kubectl kustomize --enable-alpha-plugins app/")]
    InstallPlugin {
        /// Plugin home (default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin)
        #[arg(long, value_name = "DIR")]
        plugin_home: Option<PathBuf>,
        /// Copy the binary instead of symlinking it
        #[arg(long)]
        copy: bool,
    },
}

const SUBCOMMANDS: &[&str] = &[
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
                Err(e) => failed(e),
            }
        }
        _ => match Cli::try_parse_from(&args) {
            Ok(cli) => dispatch(cli),
            Err(e) => {
                let _ = e.print();
                return e.exit_code();
            }
        },
    };
    emit(outcome)
}

fn is_plugin_config(arg: &std::ffi::OsStr) -> bool {
    let s = arg.to_string_lossy();
    !s.starts_with('-') && !SUBCOMMANDS.contains(&s.as_ref()) && std::path::Path::new(arg).is_file()
}

fn dispatch(cli: Cli) -> Outcome {
    match cli.command {
        Command::Fn => krm_mode(),
        Command::InstallPlugin { plugin_home, copy } => {
            match crate::plugin::install(plugin_home, copy) {
                Ok(home) => Outcome {
                    stdout: format!(
                        "export KUSTOMIZE_PLUGIN_HOME={}\n",
                        crate::plugin::shell_quote(&home)
                    ),
                    stderr: vec![format!(
                        "installed {}",
                        crate::plugin::plugin_path(&home).display()
                    )],
                    code: 0,
                },
                Err(e) => failed(e),
            }
        }
        Command::Render {
            specs,
            inputs,
            output_dir,
            allow_path_outside_root,
            age_key_file,
        } => run::render_cli(
            &RenderOptions {
                specs,
                inputs,
                output_dir,
                sources: SourceOptions {
                    allow_path_outside_root,
                    age_key_file,
                    interactive: true,
                },
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
    }
}

fn krm_mode() -> Outcome {
    let root = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return failed(e.into()),
    };
    match read_stdin() {
        Ok(input) => run::krm_function(&input, &root),
        Err(e) => failed(e),
    }
}

fn failed(e: anyhow::Error) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: vec![format!("error: {e:#}")],
        code: 1,
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
    Ok(s)
}

fn emit(outcome: Outcome) -> i32 {
    let mut err = std::io::stderr().lock();
    for line in &outcome.stderr {
        let _ = writeln!(err, "{line}");
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
