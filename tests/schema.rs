//! `regcred schema`: a JSON Schema every example spec satisfies and that
//! rejects wrong specs, checked with independent validators (Python's
//! `jsonschema`, which kubernetes-validate also uses, and kubeconform), and
//! used as docs/spec.md says by yaml-language-server, the engine of VS
//! Code's YAML extension, driven over LSP as an editor drives it.

mod lsp;

use crate::common::{TempDir, regcred, run, split_docs, tool};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Validates YAML documents (one file each) against the schema; the names
/// of the files that fail, one per line.
fn invalid(schema: &Path, files: &[PathBuf]) -> String {
    let script = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[2:]:
    for doc in yaml.safe_load_all(open(f)):
        if doc and doc.get("kind") == "RegistryCredentials" and list(v.iter_errors(doc)):
            print(f)
"#;
    let out = run(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(schema)
            .args(files),
        "",
    );
    assert_eq!(
        out.code, 0,
        "python3 with PyYAML and jsonschema (scripts/install-test-tools): {}",
        out.stderr
    );
    out.stdout
}

/// A spec the parser refuses, and the text its schema error starts at.
struct Wrong {
    name: &'static str,
    file: PathBuf,
    at: &'static str,
}

/// A few specs the parser refuses, written into `t` as `NAME.yaml`; block
/// style, so each error has a line of its own.
fn wrong_specs(t: &TempDir) -> Vec<Wrong> {
    let head = "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata: {name: r}\n";
    let selector = "  registries: [{server: r.io, auth: dTpw}]\n  namespaces:\n    selector:\n      matchExpressions:\n";
    let wrong = [
        (
            "unknown-field",
            "spec:\n  registries:\n    - {server: r.io, username: u, password: p}\n  colour: red\n"
                .to_string(),
            "colour",
        ),
        ("no-registries", "spec:\n  registries: []\n".into(), "[]"),
        (
            "both-env-and-file",
            "spec:\n  registries:\n    - server: r.io\n      username: u\n      password: {env: P, fil: x}\n"
                .into(),
            "fil:",
        ),
        (
            "bad-operator",
            format!("spec:\n{selector}        - {{key: a, operator: Has}}\n"),
            "Has",
        ),
        (
            "missing-operator",
            format!("spec:\n{selector}        - key: a\n"),
            "key: a",
        ),
        (
            "docker-config-and-server",
            "spec:\n  registries:\n    - server: r.io\n      dockerConfig: {file: c.json}\n".into(),
            "server: r.io",
        ),
        (
            "bad-secret-name",
            "spec:\n  secretName: Bad_Name\n  registries: [{server: r.io, auth: dTpw}]\n".into(),
            "Bad_Name",
        ),
    ];
    wrong
        .into_iter()
        .map(|(name, body, at)| Wrong {
            name,
            file: t.write(&format!("{name}.yaml"), &format!("{head}{body}")),
            at,
        })
        .collect()
}

/// Every example spec (a YAML file declaring `kind: RegistryCredentials`).
fn example_specs() -> Vec<PathBuf> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut specs = Vec::new();
    let mut stack = vec![examples];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml")
                && std::fs::read_to_string(&p)
                    .is_ok_and(|s| s.contains("kind: RegistryCredentials"))
            {
                specs.push(p);
            }
        }
    }
    specs.sort();
    specs
}

#[test]
fn every_example_spec_is_valid_and_wrong_specs_are_not() {
    let t = TempDir::new("schema");
    let printed = run(regcred().arg("schema"), "");
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let schema = t.write("schema.json", &printed.stdout);
    let specs = example_specs();
    assert!(
        specs.len() >= 10,
        "found only {} example specs",
        specs.len()
    );
    assert_eq!(
        invalid(&schema, &specs),
        "",
        "example specs the schema rejects"
    );

    let wrong = wrong_specs(&t);
    let files: Vec<_> = wrong.iter().map(|w| w.file.clone()).collect();
    let rejected = invalid(&schema, &files);
    for w in &wrong {
        assert!(
            rejected.contains(&format!("{}.yaml", w.name)),
            "the schema accepts {}:\n{rejected}",
            w.name
        );
    }
    // And the parser agrees: each is an error there too.
    for file in &files {
        let out = run(regcred().args(["render", "-f"]).arg(file), "");
        assert_eq!(out.code, 1, "{}: {}", file.display(), out.stdout);
    }
}

/// kubeconform, configured as docs/spec.md says, accepts every example spec
/// and rejects each wrong one.
#[test]
fn kubeconform_validates_specs_with_the_schema() {
    let t = TempDir::new("schema-kubeconform");
    let printed = run(regcred().arg("schema"), "");
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    t.write("schemas/registrycredentials_v1alpha1.json", &printed.stdout);
    let kubeconform = |files: &[PathBuf]| {
        run(
            Command::new(tool("kubeconform"))
                .current_dir(t.path())
                .args(["-strict", "-summary", "-output", "text"])
                .arg("-ignore-missing-schemas")
                .args([
                    "-schema-location",
                    "schemas/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
                ])
                .args(files),
            "",
        )
    };
    let specs = example_specs();
    let out = kubeconform(&specs);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let summary = out.stdout.lines().last().unwrap_or_default();
    let valid: usize = summary
        .split("Valid: ")
        .nth(1)
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no summary: {}", out.stdout));
    assert!(valid >= specs.len(), "{summary}");
    assert!(summary.contains("Invalid: 0, Errors: 0"), "{summary}");
    for w in wrong_specs(&t) {
        let out = kubeconform(std::slice::from_ref(&w.file));
        assert_eq!(
            out.code, 1,
            "kubeconform accepts {}: {}",
            w.name, out.stdout
        );
        assert!(
            out.stdout.contains("is invalid"),
            "{}: {}",
            w.name,
            out.stdout
        );
    }
}

/// The modeline docs/spec.md gives, for a spec saved next to the schema.
const MODELINE: &str = "# yaml-language-server: $schema=./regcred.schema.json\n";

/// yaml-language-server (Red Hat's, the engine of VS Code's YAML extension)
/// follows the modeline docs/spec.md gives: every example spec is clean,
/// every wrong spec gets regcred's schema error where the mistake is, and
/// completion and hover come from the schema.
#[test]
fn yaml_language_server_applies_the_schema_named_by_the_modeline() {
    let t = TempDir::new("schema-yls");
    let printed = run(regcred().arg("schema"), "");
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    // The specs sit below the workspace root, so a path the server resolved
    // against the root or its working directory would miss the schema.
    let schema = t.write("specs/regcred.schema.json", &printed.stdout);
    let settings = json!({"validate": true, "hover": true, "completion": true,
        "schemaStore": {"enable": false}});
    let mut server = lsp::Server::start(&tool("yaml-language-server"), t.path(), settings);

    let mut opened = 0;
    for (name, doc) in example_docs() {
        let text = format!("{MODELINE}{doc}");
        let file = t.write(&format!("specs/{name}"), &text);
        let diagnostics = server.open(&file, &text);
        assert_eq!(diagnostics, Vec::<Value>::new(), "{name}");
        // The same spec with a field the schema lacks: the schema was
        // applied to this file, not skipped.
        let extra = format!("{text}notASpecField: 1\n");
        let file = t.write(&format!("specs/extra-{name}"), &extra);
        let at = position(&extra, "notASpecField");
        assert_schema_error(&server.open(&file, &extra), &schema, at, &name);
        opened += 1;
    }
    assert!(
        opened >= example_specs().len(),
        "opened {opened} example specs"
    );

    for w in wrong_specs(&t) {
        let text = format!("{MODELINE}{}", std::fs::read_to_string(&w.file).unwrap());
        let file = t.write(&format!("specs/wrong-{}.yaml", w.name), &text);
        let diagnostics = server.open(&file, &text);
        assert_schema_error(&diagnostics, &schema, position(&text, w.at), w.name);
    }

    completion_and_hover_come_from_the_schema(&mut server, &t, &printed.stdout);
}

/// A modeline path is resolved against the directory of the spec file,
/// whatever the workspace root; absolute paths and `file://` URIs work too.
/// In a file of several specs, each document needs a modeline of its own.
#[test]
fn yaml_language_server_resolves_modeline_paths_from_the_spec_file() {
    let t = TempDir::new("schema-yls-paths");
    let printed = run(regcred().arg("schema"), "");
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let schema = t.write("specs/regcred.schema.json", &printed.stdout);
    let mut server = lsp::Server::start(
        &tool("yaml-language-server"),
        t.path(),
        json!({"schemaStore": {"enable": false}}),
    );
    let wrong = wrong_specs(&t)
        .into_iter()
        .find(|w| w.name == "unknown-field")
        .unwrap();
    let body = std::fs::read_to_string(&wrong.file).unwrap();
    // The modeline's value ends at the first space: a path with spaces
    // must be a file:// URI with %20.
    let spaced = t.write("with space/regcred.schema.json", &printed.stdout);
    let forms = [
        (
            "specs/team-a/spec.yaml",
            "../regcred.schema.json".into(),
            &schema,
        ),
        ("specs/absolute.yaml", schema.display().to_string(), &schema),
        ("uri.yaml", lsp::file_uri(&schema), &schema),
        ("with space/spec.yaml", lsp::file_uri(&spaced), &spaced),
    ];
    for (rel, reference, named) in forms {
        let text = format!("# yaml-language-server: $schema={reference}\n{body}");
        let file = t.write(rel, &text);
        let at = position(&text, wrong.at);
        assert_schema_error(&server.open(&file, &text), named, at, rel);
    }

    // In a file of several specs, a modeline covers the document it heads:
    // the second spec is checked only with a modeline of its own.
    for (n, second) in ["", MODELINE].into_iter().enumerate() {
        let head = format!("{MODELINE}{body}---\n{second}");
        let text = format!("{head}{body}");
        let file = t.write(&format!("specs/two-{n}.yaml"), &text);
        let diagnostics = server.open(&file, &text);
        assert_schema_error(
            &diagnostics,
            &schema,
            position(&text, wrong.at),
            "two specs",
        );
        let line = head.matches('\n').count() + position(&body, wrong.at).0;
        let checked = diagnostics
            .iter()
            .any(|d| d["range"]["start"]["line"] == line);
        assert_eq!(
            checked,
            n == 1,
            "second modeline {second:?}: {diagnostics:?}"
        );
    }
}

/// Completion inside `spec:` offers the schema's fields, and hover on a
/// field shows its description from the schema (`schema_text`).
fn completion_and_hover_come_from_the_schema(
    server: &mut lsp::Server,
    t: &TempDir,
    schema_text: &str,
) {
    let text = format!(
        "{MODELINE}apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata: {{name: r}}\nspec:\n  \n  secretName: pull\n"
    );
    let file = t.write("specs/editing.yaml", &text);
    server.open(&file, &text);
    let document = json!({"uri": lsp::file_uri(&file)});
    let (line, _) = position(&text, "  \n");
    let completion = server.request(
        "textDocument/completion",
        json!({"textDocument": document, "position": {"line": line, "character": 2}}),
    );
    let items = completion.get("items").unwrap_or(&completion);
    let labels: Vec<&str> = items
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["label"].as_str()).collect())
        .unwrap_or_default();
    for field in ["registries", "namespaces", "serviceAccounts"] {
        assert!(
            labels.contains(&field),
            "completion lacks {field}: {labels:?}"
        );
    }
    let (line, character) = position(&text, "secretName");
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": document, "position": {"line": line, "character": character + 2}}),
    );
    let schema_json: Value = serde_json::from_str(schema_text).unwrap();
    let description = schema_json["properties"]["spec"]["properties"]["secretName"]["description"]
        .as_str()
        .unwrap();
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains(description), "hover on secretName: {hover}");
}

/// Each `RegistryCredentials` document of the example specs, with a file
/// name saying where it came from.
fn example_docs() -> Vec<(String, String)> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut docs = Vec::new();
    for file in example_specs() {
        let from = file.strip_prefix(&examples).unwrap().with_extension("");
        let from = from.to_str().unwrap().replace('/', "--");
        let text = std::fs::read_to_string(&file).unwrap();
        let specs = split_docs(&text)
            .into_iter()
            .filter(|d| d.lines().any(|l| l == "kind: RegistryCredentials"));
        for (i, mut doc) in specs.enumerate() {
            if !doc.ends_with('\n') {
                doc.push('\n');
            }
            docs.push((format!("{from}-{i}.yaml"), doc));
        }
    }
    docs
}

/// The LSP position (line, character) where `needle` first occurs in
/// `text` (ASCII, so characters are bytes).
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"));
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
    (line, offset - start)
}

/// Asserts `diagnostics` hold an error from regcred's schema (named by its
/// title and its file) starting at `at`, and nothing that is not from it.
fn assert_schema_error(diagnostics: &[Value], schema: &Path, at: (usize, usize), what: &str) {
    let all = serde_json::to_string_pretty(diagnostics).unwrap();
    for d in diagnostics {
        assert_eq!(
            d["source"], "yaml-schema: RegistryCredentials",
            "{what}: {all}"
        );
        let uris = d["data"]["schemaUri"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let from: Vec<String> = uris
            .iter()
            .map(|u| lsp::uri_path(u.as_str().unwrap_or_default()))
            .collect();
        assert_eq!(from, [schema.display().to_string()], "{what}: {all}");
    }
    let start = json!({"line": at.0, "character": at.1});
    assert!(
        diagnostics
            .iter()
            .any(|d| d["range"]["start"] == start && d["severity"] == 1),
        "{what}: no schema error at line {}, character {}: {all}",
        at.0 + 1,
        at.1
    );
}
