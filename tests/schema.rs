//! `regcred schema`: a JSON Schema every example spec satisfies and that
//! rejects wrong specs, checked with an independent validator (Python's
//! `jsonschema`, which kubernetes-validate also uses).

use crate::common::{TempDir, regcred, run, tool};
use std::path::Path;
use std::process::Command;

/// Validates YAML documents (one file each) against the schema; the names
/// of the files that fail, one per line.
fn invalid(schema: &Path, files: &[std::path::PathBuf]) -> String {
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

/// A few specs the parser refuses, written into `t`: (name, file).
fn wrong_specs(t: &TempDir) -> (Vec<&'static str>, Vec<std::path::PathBuf>) {
    let head = "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata: {name: r}\n";
    let wrong = [
        (
            "unknown-field",
            "spec: {registries: [{server: r.io, username: u, password: p}], colour: red}",
        ),
        ("no-registries", "spec: {registries: []}"),
        (
            "both-env-and-file",
            "spec: {registries: [{server: r.io, username: u, password: {env: P, fil: x}}]}",
        ),
        (
            "bad-operator",
            "spec: {registries: [{server: r.io, auth: dTpw}], namespaces: {selector: {matchExpressions: [{key: a, operator: Has}]}}}",
        ),
        (
            "docker-config-and-server",
            "spec: {registries: [{server: r.io, dockerConfig: {file: c.json}}]}",
        ),
        (
            "bad-secret-name",
            "spec: {secretName: Bad_Name, registries: [{server: r.io, auth: dTpw}]}",
        ),
    ];
    let files = wrong
        .iter()
        .map(|(name, body)| t.write(&format!("{name}.yaml"), &format!("{head}{body}\n")))
        .collect();
    (wrong.iter().map(|(name, _)| *name).collect(), files)
}

/// Every example spec (a YAML file declaring `kind: RegistryCredentials`).
fn example_specs() -> Vec<std::path::PathBuf> {
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

    let (wrong, files) = wrong_specs(&t);
    let rejected = invalid(&schema, &files);
    for name in wrong {
        assert!(
            rejected.contains(&format!("{name}.yaml")),
            "the schema accepts {name}:\n{rejected}"
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
    let kubeconform = |files: &[std::path::PathBuf]| {
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
    let (wrong, files) = wrong_specs(&t);
    for (name, file) in wrong.iter().zip(&files) {
        let out = kubeconform(std::slice::from_ref(file));
        assert_eq!(out.code, 1, "kubeconform accepts {name}: {}", out.stdout);
        assert!(out.stdout.contains("is invalid"), "{name}: {}", out.stdout);
    }
}
