//! A minimal Language Server Protocol client over stdio, enough to drive
//! yaml-language-server the way an editor does: initialize, open a file,
//! read the diagnostics it publishes, ask for completion and hover.
//!
//! Every wait has a deadline, so a server that stops answering fails the
//! test (with its stderr) instead of hanging it; the server is killed on
//! drop, also when a test panics.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one answer may take. Generous: the test machines are shared
/// and the server loads the schema on first use.
const DEADLINE: Duration = Duration::from_secs(90);

/// A running language server.
pub struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    settings: Value,
    next_id: u64,
}

impl Server {
    /// Starts `program --stdio` in `root` and initializes it with `root` as
    /// the workspace folder. `settings` is what the server gets when it
    /// asks for its `yaml` configuration section.
    pub fn start(program: &Path, root: &Path, settings: Value) -> Server {
        let mut child = Command::new(program)
            .arg("--stdio")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} (needs node on PATH): {e}",
                    program.display()
                )
            });
        let stdin = child.stdin.take().unwrap();
        let messages = read_messages(BufReader::new(child.stdout.take().unwrap()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = BufReader::new(child.stderr.take().unwrap());
        let sink = Arc::clone(&stderr);
        // Line by line, so a server that hangs still shows what it said.
        let stderr_reader = std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let mut server = Server {
            child,
            stdin,
            messages,
            stderr,
            stderr_reader: Some(stderr_reader),
            settings,
            next_id: 0,
        };
        let root_uri = file_uri(root);
        server.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "specs"}],
                "capabilities": {"workspace": {"configuration": true}},
            }),
        );
        server.notify("initialized", json!({}));
        server
    }

    /// Opens `path` with `text` (as an editor does for an open buffer) and
    /// returns the diagnostics the server publishes for it.
    pub fn open(&mut self, path: &Path, text: &str) -> Vec<Value> {
        let uri = file_uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        let published = self.wait(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        published["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Sends a request and returns its result; an error response fails.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let reply = self.wait(&format!("the reply to {method}"), |m| {
            m["id"] == id && m.get("method").is_none()
        });
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("the server stopped reading: {e}{}", self.log()));
    }

    /// Reads messages until one satisfies `wanted`, answering the server's
    /// own requests on the way (it asks for its settings with
    /// `workspace/configuration`).
    fn wait(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.messages.recv_timeout(left) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {DEADLINE:?}{}", self.log())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server exited before sending {what}{}", self.log())
                }
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                self.answer(&message);
            } else if wanted(&message) {
                return message;
            }
        }
    }

    /// Answers a request from the server: the `yaml` settings section when
    /// asked for configuration, an empty result otherwise.
    fn answer(&mut self, request: &Value) {
        let result = if request["method"] == "workspace/configuration" {
            let items = request["params"]["items"].as_array().cloned();
            Value::Array(
                items
                    .unwrap_or_default()
                    .iter()
                    .map(|i| match i["section"].as_str() {
                        Some("yaml") => self.settings.clone(),
                        _ => json!({}),
                    })
                    .collect(),
            )
        } else {
            Value::Null
        };
        let id = request["id"].clone();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// What the server wrote to stderr, for a failure message; all of it
    /// once the server has exited.
    fn log(&mut self) -> String {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            if let Some(reader) = self.stderr_reader.take() {
                let _ = reader.join();
            }
        }
        let stderr = self.stderr.lock().unwrap();
        format!("\nserver stderr:\n{stderr}")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `Content-Length`-framed JSON messages on a thread, so waits can
/// time out; the channel closes when the server's stdout does.
fn read_messages(mut out: BufReader<std::process::ChildStdout>) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        while let Some(message) = read_message(&mut out) {
            if tx.send(message).is_err() {
                break;
            }
        }
    });
    rx
}

fn read_message(out: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                length = value.trim().parse().ok();
            }
            _ => {}
        }
    }
    let mut body = vec![0; length?];
    out.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The `file://` URI of an absolute path, percent-encoding what a URI
/// path may not hold.
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_str().expect("a UTF-8 path").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The path a `file://` URI names, decoding percent escapes (the server
/// writes some URIs with minimal encoding, some with full).
pub fn uri_path(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("file://") else {
        return uri.to_string();
    };
    let mut bytes = Vec::new();
    let mut raw = rest.bytes();
    while let Some(b) = raw.next() {
        let hex = |r: &mut std::str::Bytes| {
            let pair = [r.next()?, r.next()?];
            u8::from_str_radix(std::str::from_utf8(&pair).ok()?, 16).ok()
        };
        match b {
            b'%' => bytes.push(hex(&mut raw).expect("a percent escape")),
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).expect("a UTF-8 path")
}
