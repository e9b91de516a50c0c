//! Printing an outcome: stderr lines (warnings dropped with `--quiet`,
//! info added with `--verbose`, prefixes coloured on a terminal unless
//! `NO_COLOR` is set), then stdout. Nothing else in the crate writes to
//! stdout.

use crate::io::Outcome;
use std::io::{IsTerminal, Write};

/// How much goes to stderr.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Prints an outcome: stderr lines (warnings dropped with `--quiet`, info
/// added with `--verbose`, prefixes coloured on a terminal unless
/// `NO_COLOR` is set), then stdout.
pub(super) fn emit(outcome: Outcome, verbosity: Verbosity) -> i32 {
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
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = out
        .write_all(&outcome.stdout)
        .and_then(|()| match outcome.stream {
            Some(crate::io::Stream(write)) => write(&mut out),
            None => Ok(()),
        });
    if written.and_then(|()| out.flush()).is_err() {
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
