//! The one owner of the filesystem and of stdin/stdout.
//!
//! Every byte regcred reads from disk or writes to it goes through here:
//! credential files through one confined open ([`confined`]), input
//! manifests through one walker ([`walk`]) and one document reader
//! ([`documents`]), output through one atomic writer ([`files`]) and one
//! `-o DIR` layout ([`output_dir`]), committed output through the drift
//! check ([`drift`]). The KRM `ResourceList` read/process/write loop, with
//! its echo-the-input-on-error policy, lives in [`resourcelist`].
//!
//! Nothing is printed here: a run returns an [`Outcome`] and the CLI
//! prints it, so nothing reaches stdout unless the whole run succeeded (or,
//! for KRM, as a ResourceList that carries the error). This layer knows
//! Kubernetes objects (`k8s`) and YAML, not specs or rendering.

pub(crate) mod confined;
pub(crate) mod documents;
pub(crate) mod drift;
pub(crate) mod files;
pub(crate) mod output_dir;
pub(crate) mod resourcelist;
pub(crate) mod walk;

use anyhow::Result;
use std::io::{Read, Write};

/// What a run wants printed, and its exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Bytes, not text: `decrypt` prints binary plaintext as it is.
    pub stdout: Vec<u8>,
    /// Output written after `stdout` as it is produced, so that a large
    /// render is never held whole. It cannot fail but for the writer.
    pub stream: Option<Stream>,
    /// Errors and warnings, one per line.
    pub stderr: Vec<String>,
    /// Informational lines, shown with `--verbose`.
    pub info: Vec<String>,
    pub code: i32,
}

impl Outcome {
    /// A failure with nothing on stdout.
    pub fn error(err: anyhow::Error) -> Self {
        Self::failed(err, Vec::new())
    }

    /// A failure; `stdout` is only ever a KRM ResourceList carrying the error.
    pub fn failed(err: anyhow::Error, stdout: impl Into<Vec<u8>>) -> Self {
        Outcome {
            stdout: stdout.into(),
            stream: None,
            stderr: vec![format!("error: {err:#}")],
            info: Vec::new(),
            code: 1,
        }
    }

    /// Success with `stdout`.
    pub fn print(stdout: impl Into<Vec<u8>>) -> Self {
        Outcome {
            stdout: stdout.into(),
            ..Outcome::default()
        }
    }
}

/// Writes output to a writer, once.
pub type WriteOnce = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()>>;

/// Output produced while it is written.
pub struct Stream(pub WriteOnce);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

impl Outcome {
    /// The outcome with its stream written into `stdout`, for callers that
    /// need the bytes.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn collected(mut self) -> Self {
        if let Some(Stream(write)) = self.stream.take() {
            write(&mut self.stdout).expect("writing to memory does not fail");
        }
        self
    }
}

/// Whether stdin is a pipe, a socket or a non-empty file: something a user
/// may have meant regcred to read. A terminal is not, and neither is
/// `/dev/null`, which CI runners and benchmark tools give commands.
pub fn stdin_is_piped() -> bool {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        // /dev/stdin names the open descriptor, whatever stdin is.
        if let Ok(meta) = std::fs::metadata("/dev/stdin") {
            let kind = meta.file_type();
            return kind.is_fifo() || kind.is_socket() || (kind.is_file() && meta.len() > 0);
        }
    }
    true
}

/// All of stdin, as text.
pub fn read_stdin() -> Result<String> {
    // Sized up front when stdin is a file: a large input read into a
    // doubling buffer is copied several times and held at up to twice its size.
    let size = std::fs::metadata("/dev/stdin").map_or(0, |m| m.len());
    let mut s = String::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
    Ok(s)
}
