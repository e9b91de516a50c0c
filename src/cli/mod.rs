//! Command-line entry: picks the mode, dispatches, and prints what the
//! command returns.
//!
//! * no arguments: KRM function (kustomize/kpt send a ResourceList on stdin);
//! * one argument that is an existing file and not a subcommand: legacy
//!   kustomize exec plugin;
//! * otherwise the clap CLI (`render`, `check`, `fn`, `--help`, ...).

mod args;
mod print;

use crate::commands::{
    RenderOptions, check, cmp, crypt, explain, krm, plugin, post_render, render,
};
use crate::engine::check::CheckOptions;
use crate::io::{Outcome, read_stdin};
use crate::k8s::workloads::ExtraKind;
use anyhow::{Result, anyhow};
use args::{
    CheckArgs, CheckFormat, CmpStep, Command, DecryptArgs, EncryptArgs, ExplainArgs, Globals,
    InstallPluginArgs, RenderArgs,
};
use clap::FromArgMatches;
use print::{Verbosity, emit};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Runs the binary; returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match args.len() {
        1 => emit(krm_mode(), Verbosity::Normal),
        2 if is_plugin_config(&args[1]) => emit(legacy_plugin(&args[1]), Verbosity::Normal),
        _ => match parse(&args) {
            Ok((globals, command)) => {
                let verbosity = if globals.quiet {
                    Verbosity::Quiet
                } else if globals.verbose {
                    Verbosity::Verbose
                } else {
                    Verbosity::Normal
                };
                emit(dispatch(command), verbosity)
            }
            Err(e) => {
                let _ = e.print();
                e.exit_code()
            }
        },
    }
}

/// The global flags and the subcommand of a command line.
fn parse(args: &[std::ffi::OsString]) -> Result<(Globals, Command), clap::Error> {
    let mut cmd = args::command();
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    let parsed = Globals::from_arg_matches_mut(&mut matches)
        .and_then(|g| Ok((g, Command::from_arg_matches_mut(&mut matches)?)))
        .map_err(|e| e.format(&mut cmd));
    // The command and its matches are a few hundred small allocations
    // the process's exit frees faster than dropping them one by one.
    std::mem::forget((cmd, matches));
    parsed
}

/// Whether the only argument is a legacy plugin config: an existing file
/// that is neither a flag nor a subcommand (or one of their aliases). The
/// names come from the clap definition, so a new subcommand can never be
/// mistaken for a file of that name.
fn is_plugin_config(arg: &OsStr) -> bool {
    let s = arg.to_string_lossy();
    !s.starts_with('-') && !is_subcommand(&s) && Path::new(arg).is_file()
}

fn is_subcommand(name: &str) -> bool {
    name == "help" || args::SUBCOMMANDS.iter().any(|s| s.name == name)
}

fn dispatch(command: Command) -> Outcome {
    match command {
        Command::Fn => krm_mode(),
        Command::Render(RenderArgs {
            spec,
            inputs,
            output_dir,
            check,
            encrypt,
            age,
        }) => render::run(
            &RenderOptions {
                output_dir,
                check_dir: check,
                encrypt,
                encrypt_for: age,
                ..spec.options(inputs)
            },
            read_stdin,
        ),
        Command::PostRender(args::PostRenderArgs { spec }) => {
            post_render::run(&spec.options(Vec::new()), read_stdin)
        }
        Command::Check(CheckArgs {
            spec,
            inputs,
            output,
            private_registry,
            pod_spec_path,
            as_is,
            strict,
            public_registry,
        }) => match extra_kinds(&pod_spec_path) {
            Ok(extra_kinds) => check::run(
                &names_only(spec.options(inputs)),
                &CheckOptions {
                    private_registries: private_registry,
                    extra_kinds,
                    strict,
                    public_registries: public_registry,
                    ..CheckOptions::default()
                },
                matches!(output, CheckFormat::Json),
                as_is,
                read_stdin,
            ),
            Err(e) => Outcome::error(e),
        },
        Command::Explain(ExplainArgs {
            spec,
            inputs,
            output,
        }) => explain::run(&names_only(spec.options(inputs)), output.into(), read_stdin),
        Command::InstallPlugin(InstallPluginArgs { plugin_home, copy }) => {
            plugin::install_command(plugin_home, copy)
        }
        Command::Encrypt(EncryptArgs {
            file,
            input_type,
            age,
            encrypted_regex,
            unencrypted_regex,
            encrypted_suffix,
            unencrypted_suffix,
            mac_only_encrypted,
            in_place,
            output,
        }) => {
            let rule = [
                ("encrypted_regex", encrypted_regex),
                ("unencrypted_regex", unencrypted_regex),
                ("encrypted_suffix", encrypted_suffix),
                ("unencrypted_suffix", unencrypted_suffix),
            ]
            .into_iter()
            .find_map(|(k, v)| v.map(|v| (k.to_string(), v)));
            crypt::encrypt(&crypt::EncryptArgs {
                file,
                input_type,
                age,
                rule,
                mac_only_encrypted,
                in_place,
                output,
            })
        }
        Command::Decrypt(DecryptArgs {
            file,
            extract,
            output,
            age_key_file,
        }) => crypt::decrypt(&crypt::DecryptArgs {
            file,
            extract,
            output,
            age_key_file,
        }),
        Command::Keygen(args::KeygenArgs { output }) => crypt::keygen(output.as_deref()),
        Command::Completions(args::CompletionsArgs { shell }) => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut args::full_command(), "regcred", &mut buf);
            Outcome::print(buf)
        }
        Command::Schema => Outcome::print(crate::spec::SCHEMA.to_string()),
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(args::full_command()).render(&mut buf) {
                Ok(()) => Outcome::print(buf),
                Err(e) => Outcome::error(e.into()),
            }
        }
        Command::Cmp(step) => match std::env::current_dir() {
            Ok(dir) => match step {
                CmpStep::Discover => cmp::discover(&dir),
                CmpStep::Generate => cmp::generate(&dir, &|n| std::env::var(n).ok()),
            },
            Err(e) => Outcome::error(e.into()),
        },
    }
}

/// `REGCRED_ROOT`: the confinement root in every mode (`--root` wins on
/// the command line).
fn root_from_env() -> Option<PathBuf> {
    std::env::var_os("REGCRED_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `check` and `explain` need registry names, never credential values:
/// they run without the decryption keys pull-request CI should not hold.
fn names_only(mut opts: RenderOptions) -> RenderOptions {
    opts.sources.names_only = true;
    opts
}

/// `--pod-spec-path KIND=PATH` arguments.
fn extra_kinds(args: &[String]) -> Result<Vec<ExtraKind>> {
    args.iter()
        .map(|p| match p.split_once('=') {
            Some((kind, path)) if !kind.is_empty() && !path.is_empty() => Ok(ExtraKind {
                kind: kind.to_string(),
                path: path.to_string(),
            }),
            _ => Err(anyhow!(
                "--pod-spec-path {p:?}: expected KIND=PATH, e.g. Worker=spec.pod"
            )),
        })
        .collect()
}

/// KRM function mode: the working directory is the kustomization root.
fn krm_mode() -> Outcome {
    let root = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::error(e.into()),
    };
    krm::run(read_stdin(), &root, root_from_env())
}

/// Legacy plugin mode: `config` is kustomize's copy of the plugin config.
fn legacy_plugin(config: &OsStr) -> Outcome {
    let root = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT").map(PathBuf::from);
    match read_stdin() {
        Ok(stdin) => plugin::run(Path::new(config), stdin, root.as_deref(), root_from_env()),
        Err(e) => Outcome::error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_is_known_and_nothing_else() {
        for name in [
            "render",
            "check",
            "man",
            "completions",
            "cmp",
            "fn",
            "help",
            "post-render",
        ] {
            assert!(is_subcommand(name), "{name}");
        }
        assert!(!is_subcommand("regcred.yaml"));
    }

    /// The hand-written table and the derived enum name the same
    /// subcommands, so every listed subcommand parses into a variant.
    #[test]
    fn the_table_and_the_enum_agree() {
        use clap::Subcommand;
        let derived = Command::augment_subcommands(clap::Command::new("regcred"));
        let mut from_enum: Vec<&str> = derived.get_subcommands().map(|c| c.get_name()).collect();
        let mut from_table: Vec<&str> = args::SUBCOMMANDS.iter().map(|s| s.name).collect();
        from_enum.sort_unstable();
        from_table.sort_unstable();
        assert_eq!(from_enum, from_table);
    }

    /// The parser's lazily built subcommands end up with the same
    /// arguments and help as the fully built tree the man page and
    /// completions use.
    #[test]
    fn lazy_and_full_command_lines_have_the_same_arguments() {
        let ids = |mut cmd: clap::Command| {
            cmd.build();
            cmd.get_subcommands()
                .map(|sub| {
                    let mut sub = sub.clone();
                    sub.build();
                    let mut args: Vec<String> = sub
                        .get_arguments()
                        .map(|a| a.get_id().to_string())
                        .collect();
                    args.sort_unstable();
                    // What `regcred SUB --help` prints (its order of options
                    // comes from display orders, not from the order added).
                    let help = sub.render_help().to_string();
                    (sub.get_name().to_string(), args, help)
                })
                .collect::<Vec<_>>()
        };
        let full = ids(args::full_command());
        assert!(
            full.iter()
                .any(|(name, a, _)| name == "render" && a.len() > 5)
        );
        assert_eq!(ids(args::command()), full);
    }

    #[test]
    fn a_command_line_parses_into_its_variant() {
        let args: Vec<std::ffi::OsString> =
            ["regcred", "-q", "check", "-f", "a.yaml", "m/", "--strict"]
                .iter()
                .map(Into::into)
                .collect();
        let (globals, command) = parse(&args).unwrap();
        assert!(globals.quiet && !globals.verbose);
        match command {
            Command::Check(c) => assert!(c.strict && c.inputs == ["m/"]),
            _ => panic!("not check"),
        }
        let err = parse(&["regcred".into(), "rendr".into()]).err().unwrap();
        assert!(err.to_string().contains("unrecognized subcommand"), "{err}");
    }
}
