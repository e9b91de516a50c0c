//! Pass-through fidelity, determinism and idempotence, checked with a
//! YAML 1.1 reader (PyYAML, as kubectl reads manifests) and a YAML 1.2
//! reader (serde_yaml_ng, as kustomize's kyaml does).
//!
//! The property every test here checks: whatever regcred does not generate
//! or patch comes out meaning exactly what it meant going in, to both
//! readers, and the same input always gives the same bytes.

use crate::common::{self, Out, TempDir, json_diffs, resource_list, split_docs, yaml11, yaml12};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

const USER_VAR: &str = "REGCRED_FIDELITY_USER";
const PASS_VAR: &str = "REGCRED_FIDELITY_PASS";
const USER: &str = "robot$ci";
const PASS: &str = "s3cr:et\"pa\\ss";

/// A spec with one env-sourced registry and the given extra `spec:` lines.
fn env_spec(name: &str, server: &str, extra: &str) -> String {
    let mut s = common::spec(&format!(
        "  registries:\n  - server: {server}\n    username: {{env: {USER_VAR}}}\n    password: {{env: {PASS_VAR}}}\n{extra}"
    ));
    s = s.replacen("name: regcred", &format!("name: {name}"), 1);
    s
}

fn with_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env(USER_VAR, USER).env(PASS_VAR, PASS)
}

/// `regcred render -f SPEC... -` with `input` on stdin.
fn render(specs: &[&Path], input: &str) -> Out {
    let mut cmd = common::regcred();
    cmd.arg("render");
    for s in specs {
        cmd.arg("-f").arg(s);
    }
    cmd.arg("-");
    let out = common::run(with_env(&mut cmd), input);
    out.assert_ok();
    out
}

/// KRM function mode (no arguments) with `rl` on stdin, run in `dir`.
fn krm(dir: &Path, rl: &str) -> Out {
    let mut cmd = common::regcred();
    cmd.current_dir(dir);
    let out = common::run(with_env(&mut cmd), rl);
    out.assert_ok();
    out
}

/// The `items` of a ResourceList as one reader sees it.
fn rl_items(docs: Vec<J>) -> Vec<J> {
    assert_eq!(docs.len(), 1, "expected one ResourceList document");
    docs[0]["items"]
        .as_array()
        .expect("ResourceList without items")
        .clone()
}

fn ident(v: &J) -> String {
    format!(
        "{}/{}/{}",
        v["kind"].as_str().unwrap_or("?"),
        v["metadata"]["namespace"].as_str().unwrap_or("-"),
        v["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Records, in `failures`, every value of `output[i]` that does not mean
/// what it meant in `input[i]`, for every input item.
fn same_meaning(reader: &str, input: &[J], output: &[J], failures: &mut Vec<String>) {
    if output.len() < input.len() {
        failures.push(format!(
            "{reader}: {} input items but only {} output items",
            input.len(),
            output.len()
        ));
        return;
    }
    let diffs: Vec<String> = input
        .iter()
        .zip(output)
        .enumerate()
        .flat_map(|(i, (a, b))| {
            json_diffs(a, b, "")
                .into_iter()
                .map(move |d| format!("item {i} ({}): {d}", ident(a)))
        })
        .collect();
    if !diffs.is_empty() {
        failures.push(format!(
            "{reader} reads {} pass-through value(s) differently after regcred (input vs output):\n  {}",
            diffs.len(),
            diffs.join("\n  ")
        ));
    }
}

fn assert_no_failures(failures: &[String]) {
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The items a render appended after the pass-through ones, as (kind, namespace, name).
fn added(output: &[J], n_input: usize) -> Vec<(String, String, String)> {
    output[n_input..]
        .iter()
        .map(|v| {
            (
                v["kind"].as_str().unwrap_or_default().to_string(),
                v["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn triple(k: &str, ns: &str, n: &str) -> (String, String, String) {
    (k.to_string(), ns.to_string(), n.to_string())
}

// ---------------------------------------------------------------------------
// YAML 1.1 look-alikes
// ---------------------------------------------------------------------------

/// Strings that some YAML reader would take for something else if written
/// plain, or that need escaping or block style.
const LOOKALIKES: &[&str] = &[
    // the contract's list
    "yes",
    "on",
    "no",
    "off",
    "Y",
    "n",
    "0755",
    "1e3",
    "1_000",
    "~",
    "null",
    "2024-01-01",
    "1:20",
    "0x1F",
    "true",
    "+12",
    ".inf",
    "=",
    "<<",
    "- a",
    "a: b",
    "#x",
    " lead",
    "trail ",
    "multi\nline\n",
    "tab\there",
    "пароль",
    // more of the same families
    "",
    "True",
    "FALSE",
    "NO",
    "Yes",
    "ON",
    "Off",
    "y",
    "N",
    "NULL",
    "Null",
    "0o17",
    "0b101",
    "-0",
    "0",
    "-1",
    "1.",
    ".5",
    "1.5",
    "3.0e8",
    "1.0e+300",
    "1.0e-7",
    "12:30:45",
    "-1:20",
    "1:20.5",
    "0.1_0",
    "1_0.5",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "123456789012345678901234",
    "12345678901234567890",
    ".NaN",
    "-.inf",
    "NaN",
    "inf",
    "Infinity",
    "=x",
    "@at",
    "`tick",
    "%pct",
    "!bang",
    "&amp",
    "*star",
    "|pipe",
    ">gt",
    "'",
    "\"",
    "[a]",
    "{a}",
    "?",
    "? x",
    "a #b",
    "a:",
    "a:b",
    "\\",
    "-",
    "---",
    "...",
    "a, b",
    "/path/to",
    "http://example.com/a?b=c#frag",
    // multi-line and whitespace shapes
    "a\n  b\n",
    "a\n\nb\n\n\n",
    "  indented\nline\n",
    "no trailing\nnewline",
    "a\n   \nb\n",
    "a\n  ",
    "\n\nleading",
    "\r\n",
    "x\r\ny",
    "\t",
    "tab\n\tin block\n",
    "trailing space \nline\n",
    // characters YAML readers treat specially
    "ctrl\u{7}bell",
    "nul\u{0}byte",
    "sep\u{2028}line",
    "para\u{2029}graph",
    "nel\u{85}x",
    "\u{feff}bom",
    "\u{a0}nbsp",
    "emoji 🔑 key",
    "日本語",
    "e\u{301}",
    "quote's",
    "both '\" quotes",
];

/// A YAML double-quoted scalar with every non-printable character escaped
/// (raw U+2028 and friends are line breaks to a YAML 1.1 reader).
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}') => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML single-quoted scalar, when the string can be one (printable, one line).
fn sq(s: &str) -> Option<String> {
    let printable = s.chars().all(|c| {
        !c.is_control()
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}' | '\n' | '\r' | '\t'
            )
    });
    printable.then(|| format!("'{}'", s.replace('\'', "''")))
}

/// Plain (unquoted) scalars whose meaning differs between YAML 1.1 and
/// 1.2, or that are typed: `key: value` lines exactly as a user writes them.
/// (`.inf`/`.nan` are left out only because PyYAML's floats cannot cross the
/// JSON bridge the yaml11 helper uses; `=` because PyYAML refuses it.)
const PLAIN: &str = "  mode: 0755
  flag: yes
  count: 1_000
  int: 42
  negative: -7
  zero: 0
  float: 1.5
  bool: true
  boolFalse: false
  nothing: null
  tilde: ~
  empty:
  upperYes: Yes
  capsOn: ON
  off: off
  y: n
  upperN: N
  octal: 0o17
  hex: 0x1F
  binary: 0b101
  sexagesimal: 1:20
  sexagesimalFloat: 1:20.5
  date: 2024-01-01
  timestamp: 2001-12-14t21:59:43.10-05:00
  expNoDot: 1e3
  expNoSign: 3.0e8
  expHuge: 1.0e+300
  expTiny: 1.0e-7
  expPlain: 1.5e+3
  plusInt: +12
  minusZero: -0
  leadingDot: .5
  trailingDot: 1.
  underscoreFloat: 1_0.5
  bigInt: 12345678901234567890
  upperNull: NULL
  titleTrue: True
  upperFalse: FALSE
  words: hello world
  url: http://example.com/a?b=c
  colons: a:b:c
";

/// The look-alike test input: a Namespace, ConfigMaps with the strings
/// double-quoted, single-quoted and as block scalars, one with plain
/// scalars, and a custom resource with look-alike keys, nesting, anchors
/// and a merge key.
fn lookalike_input() -> String {
    let mut dq_data = String::new();
    let mut sq_data = String::new();
    let mut list = String::new();
    for (i, s) in LOOKALIKES.iter().enumerate() {
        dq_data.push_str(&format!("  k{i:03}: {}\n", dq(s)));
        if let Some(q) = sq(s) {
            sq_data.push_str(&format!("  k{i:03}: {q}\n"));
        }
        list.push_str(&format!("    - {}\n", dq(s)));
    }
    let mut quoted_keys = String::new();
    for (i, s) in LOOKALIKES.iter().enumerate() {
        if !s.is_empty() {
            quoted_keys.push_str(&format!("    {}: v{i}\n", dq(s)));
        }
    }
    let plain_nested: String = PLAIN.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: app
  labels:
    enabled: \"yes\"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: double-quoted
  namespace: app
  annotations:
    note: \"on\"
    octal: \"0755\"
data:
{dq_data}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: single-quoted
  namespace: app
data:
{sq_data}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: block-scalars
  namespace: app
data:
  literal: |
    first line
      indented: yes
    # not a comment
    last
  literalKeep: |+
    kept

  literalStrip: |-
    no: newline
  folded: >
    folded yes
    on one line

    next: paragraph
  foldedStrip: >-
    0755
  indentIndicator: |2
      two extra spaces
    then none
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
  namespace: app
data:
{PLAIN}---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: nested
  namespace: app
spec:
  quotedKeys:
{quoted_keys}  plainKeys:
    on: 1
    y: 2
    N: 3
    Off: 4
  list:
{list}  plainNested:
{plain_nested}  flow: {{a: yes, b: [on, \"off\", 0755, 1_000, ~], c: 'Y'}}
  emptyMap: {{}}
  emptyList: []
  base: &base
    x: yes
    y: 0755
  derived:
    <<: *base
    z: 1_000
  aliasList:
  - *base
  - &scalar 2024-01-01
  - *scalar
  explicitStr: !!str 0755
  explicitInt: !!int \"42\"
  explicitFloat: !!float 1
  explicitBool: !!bool true
  explicitNull: !!null null
"
    )
}

#[test]
fn lookalike_scalars_mean_the_same_after_render_to_yaml_1_1_and_1_2() {
    let dir = TempDir::new("fidelity-lookalike");
    let spec = dir.write(
        "spec.yaml",
        &env_spec(
            "regcred",
            "registry.example.com",
            "  namespaces:\n    include: [app]\n",
        ),
    );
    let input = lookalike_input();

    // The input really exercises the difference between the two readers.
    let in11 = yaml11(&input);
    let in12 = yaml12(&input);
    assert_eq!(in11.len(), 6);
    assert_eq!(in12.len(), 6);
    let plain11 = &in11[4]["data"];
    let plain12 = &in12[4]["data"];
    assert_eq!(
        plain11["flag"],
        J::Bool(true),
        "PyYAML reads plain yes as a bool"
    );
    assert_eq!(
        plain12["flag"], "yes",
        "YAML 1.2 reads plain yes as a string"
    );
    assert_eq!(plain11["mode"], 493, "PyYAML reads plain 0755 as octal");
    assert_eq!(plain11["count"], 1000);
    assert_eq!(plain12["count"], "1_000");
    assert_eq!(
        plain11["expNoSign"], "3.0e8",
        "PyYAML's float needs a signed exponent"
    );
    assert_eq!(in11[1]["data"]["k000"], "yes");
    assert_eq!(
        in11[5]["spec"]["derived"]["x"],
        J::Bool(true),
        "PyYAML applies the merge key"
    );

    let out = render(&[&spec], &input);
    let out11 = yaml11(&out.stdout);
    let out12 = yaml12(&out.stdout);
    // Exactly the generated objects were added.
    assert_eq!(
        added(&out12, in12.len()),
        [
            triple("Secret", "app", "regcred"),
            triple("ServiceAccount", "app", "default")
        ]
    );
    assert_eq!(added(&out11, in11.len()), added(&out12, in12.len()));
    let mut failures = Vec::new();
    same_meaning("YAML 1.1 (PyYAML)", &in11, &out11, &mut failures);
    same_meaning("YAML 1.2 (serde_yaml_ng)", &in12, &out12, &mut failures);
    assert_no_failures(&failures);
}

#[test]
fn lookalike_scalars_mean_the_same_through_krm_mode() {
    let dir = TempDir::new("fidelity-lookalike-krm");
    let spec = env_spec(
        "regcred",
        "registry.example.com",
        "  namespaces:\n    include: [app]\n",
    );
    let docs = split_docs(&lookalike_input());
    assert_eq!(docs.len(), 6);
    let rl = resource_list(&docs, &spec);
    let in11 = rl_items(yaml11(&rl));
    let in12 = rl_items(yaml12(&rl));
    assert_eq!(in11.len(), 6);
    assert_eq!(
        in11[4]["data"]["flag"],
        J::Bool(true),
        "the ResourceList keeps plain scalars plain"
    );

    let out = krm(dir.path(), &rl);
    let out11 = rl_items(yaml11(&out.stdout));
    let out12 = rl_items(yaml12(&out.stdout));
    assert_eq!(
        added(&out12, in12.len()),
        [
            triple("Secret", "app", "regcred"),
            triple("ServiceAccount", "app", "default")
        ]
    );
    let mut failures = Vec::new();
    same_meaning("YAML 1.1 (PyYAML), KRM", &in11, &out11, &mut failures);
    same_meaning(
        "YAML 1.2 (serde_yaml_ng), KRM",
        &in12,
        &out12,
        &mut failures,
    );
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------
// Real-world corpus: Argo CD's install.yaml
// ---------------------------------------------------------------------------

fn corpus() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argo-cd-install.yaml");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

const CLUSTER_SCOPED: &[&str] = &[
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
];

fn kind_of(doc: &str) -> &str {
    doc.lines()
        .find_map(|l| l.strip_prefix("kind: "))
        .map(str::trim)
        .unwrap_or_default()
}

/// The corpus with `metadata.namespace: argocd` added (by text, right after
/// the top-level `metadata:` line) to every namespaced object, as
/// `kubectl apply -n argocd` would place them.
fn corpus_in_namespace() -> Vec<String> {
    split_docs(&corpus())
        .into_iter()
        .map(|doc| {
            if CLUSTER_SCOPED.contains(&kind_of(&doc)) {
                return doc;
            }
            assert!(
                doc.contains("\nmetadata:\n"),
                "no top-level metadata in:\n{doc}"
            );
            doc.replacen("\nmetadata:\n", "\nmetadata:\n  namespace: argocd\n", 1)
        })
        .collect()
}

fn join_docs(docs: &[String]) -> String {
    docs.join("---\n")
}

#[test]
fn corpus_is_the_documented_argo_cd_install() {
    let docs = split_docs(&corpus());
    assert_eq!(docs.len(), 59, "README says 59 objects");
    let items = yaml12(&corpus());
    assert_eq!(items.len(), 59);
    // install.yaml leaves the namespace to `kubectl apply -n argocd`.
    assert!(
        items
            .iter()
            .all(|i| i["metadata"].get("namespace").is_none())
    );
    let namespaced = yaml12(&join_docs(&corpus_in_namespace()));
    for item in &namespaced {
        let cluster = CLUSTER_SCOPED.contains(&item["kind"].as_str().unwrap());
        assert_eq!(
            item["metadata"].get("namespace").is_none(),
            cluster,
            "{}",
            ident(item)
        );
    }
}

/// Renders the corpus twice: as published (no metadata.namespace, so only
/// `names` can target argocd) and with the namespace set on namespaced
/// objects, selected by pattern, with one existing SA patched.
#[test]
fn argo_cd_install_passes_through_render_unchanged() {
    let dir = TempDir::new("fidelity-argo");

    // As published: the spec names the namespace.
    let spec = dir.write(
        "spec.yaml",
        &env_spec(
            "regcred",
            "registry.example.com",
            "  namespaces:\n    names: [argocd]\n",
        ),
    );
    let input = corpus();
    let (in11, in12) = (yaml11(&input), yaml12(&input));
    assert_eq!(in12.len(), 59);
    let out = render(&[&spec], &input);
    let (out11, out12) = (yaml11(&out.stdout), yaml12(&out.stdout));
    let mut failures = Vec::new();
    same_meaning(
        "YAML 1.1 (PyYAML), argo-cd as published",
        &in11,
        &out11,
        &mut failures,
    );
    same_meaning(
        "YAML 1.2 (serde_yaml_ng), argo-cd as published",
        &in12,
        &out12,
        &mut failures,
    );
    assert_eq!(
        added(&out12, 59),
        [
            triple("Secret", "argocd", "regcred"),
            triple("ServiceAccount", "argocd", "default")
        ]
    );
    assert_eq!(added(&out11, 59), added(&out12, 59));

    // With metadata.namespace: targeted by pattern; argocd-server's SA gets
    // the pull secret and nothing else changes.
    let spec = dir.write(
        "spec-ns.yaml",
        &env_spec(
            "regcred",
            "registry.example.com",
            "  namespaces:\n    include: [argocd]\n  serviceAccounts:\n    include: [default, argocd-server]\n",
        ),
    );
    let input = join_docs(&corpus_in_namespace());
    let (in11, in12) = (yaml11(&input), yaml12(&input));
    let out = render(&[&spec], &input);
    let (out11, out12) = (yaml11(&out.stdout), yaml12(&out.stdout));
    let server_sa = in12
        .iter()
        .position(|i| i["kind"] == "ServiceAccount" && i["metadata"]["name"] == "argocd-server")
        .expect("argocd-server ServiceAccount in the corpus");
    for (reader, input, output) in [
        ("YAML 1.1 (PyYAML)", &in11, &out11),
        ("YAML 1.2 (serde_yaml_ng)", &in12, &out12),
    ] {
        assert!(input[server_sa].get("imagePullSecrets").is_none());
        argocd_rendered(
            &format!("{reader}, argo-cd in namespace argocd"),
            input,
            output,
            server_sa,
            &mut failures,
        );
    }
    assert_no_failures(&failures);
}

/// The Argo CD corpus after rendering with `namespaces: [argocd]` and
/// `serviceAccounts: [default, argocd-server]`: every input object means the
/// same except `argocd-server`, which gains the pull secret, and exactly the
/// Secret and the `default` ServiceAccount are added.
fn argocd_rendered(
    label: &str,
    input: &[J],
    output: &[J],
    server_sa: usize,
    failures: &mut Vec<String>,
) {
    let mut expected = input.to_vec();
    expected[server_sa]["imagePullSecrets"] = serde_json::json!([{"name": "regcred"}]);
    same_meaning(label, &expected, output, failures);
    assert_eq!(
        added(output, 59),
        [
            triple("Secret", "argocd", "regcred"),
            triple("ServiceAccount", "argocd", "default")
        ],
        "{label}"
    );
}

#[test]
fn argo_cd_install_passes_through_krm_mode_unchanged() {
    let dir = TempDir::new("fidelity-argo-krm");
    let spec = env_spec(
        "regcred",
        "registry.example.com",
        "  namespaces:\n    include: [argocd]\n  serviceAccounts:\n    include: [default, argocd-server]\n",
    );
    let docs = corpus_in_namespace();
    let mut failures = Vec::new();

    // The documents embedded verbatim in a YAML ResourceList.
    let rl = resource_list(&docs, &spec);
    let (in11, in12) = (rl_items(yaml11(&rl)), rl_items(yaml12(&rl)));
    assert_eq!(in12.len(), 59);
    let out = krm(dir.path(), &rl);
    let (out11, out12) = (rl_items(yaml11(&out.stdout)), rl_items(yaml12(&out.stdout)));
    let server_sa = in12
        .iter()
        .position(|i| i["kind"] == "ServiceAccount" && i["metadata"]["name"] == "argocd-server")
        .unwrap();
    for (reader, input, output) in [
        ("YAML 1.1 (PyYAML)", &in11, &out11),
        ("YAML 1.2 (serde_yaml_ng)", &in12, &out12),
    ] {
        argocd_rendered(
            &format!("{reader}, argo-cd YAML ResourceList"),
            input,
            output,
            server_sa,
            &mut failures,
        );
    }

    // The same items as a JSON ResourceList (JSON is YAML).
    let items = yaml12(&join_docs(&docs));
    let spec_json = yaml12(&spec).remove(0);
    let rl = serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
        "functionConfig": spec_json,
    })
    .to_string();
    let (in11, in12) = (rl_items(yaml11(&rl)), rl_items(yaml12(&rl)));
    let out = krm(dir.path(), &rl);
    let (out11, out12) = (rl_items(yaml11(&out.stdout)), rl_items(yaml12(&out.stdout)));
    for (reader, input, output) in [
        ("YAML 1.1 (PyYAML)", &in11, &out11),
        ("YAML 1.2 (serde_yaml_ng)", &in12, &out12),
    ] {
        argocd_rendered(
            &format!("{reader}, argo-cd JSON ResourceList"),
            input,
            output,
            server_sa,
            &mut failures,
        );
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

/// A multi-namespace input: Namespace objects (one selected by label, one
/// excluded by pattern, one opted out), namespaces only implied by objects,
/// existing ServiceAccounts with and without imagePullSecrets.
fn determinism_docs() -> Vec<String> {
    let mut docs = Vec::new();
    for (ns, labels) in [
        ("team-a", "    pull: enabled\n"),
        ("team-b", "    pull: disabled\n"),
        ("team-c", "    pull: enabled\n    tier: \"1\"\n"),
        ("sandbox-x", "    pull: enabled\n"),
        ("zeta", ""),
    ] {
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("  labels:\n{labels}")
        };
        docs.push(format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n{labels}"
        ));
    }
    docs.push(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: opted-out\n  annotations:\n    regcred.dev/skip: \"true\"\n".into(),
    );
    docs.push(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: team-a\nimagePullSecrets:\n- name: other\n".into(),
    );
    docs.push(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  namespace: team-b\n"
            .into(),
    );
    docs.push(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: team-c\nautomountServiceAccountToken: false\n".into(),
    );
    for (i, ns) in [
        "team-a",
        "team-b",
        "team-c",
        "implied",
        "also-implied",
        "sandbox-x",
    ]
    .iter()
    .enumerate()
    {
        docs.push(format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: {ns}\ndata:\n  flag: yes\n  mode: 0755\n"
        ));
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: {ns}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.{i}\n"
        ));
    }
    docs
}

/// Two specs over the determinism input: A by pattern (with `names`), B by
/// label selector, with their own Secret names and registries.
fn determinism_specs(dir: &TempDir) -> (PathBuf, PathBuf) {
    let a = dir.write(
        "team-a.yaml",
        &env_spec(
            "regcred-a",
            "registry.example.com:5000",
            "  namespaces:\n    include: [\"*\"]\n    exclude: [\"sandbox-*\"]\n    names: [extra, kube-system]\n  serviceAccounts:\n    include: [default, builder, deployer]\n",
        ),
    );
    let b = dir.write(
        "team-b.yaml",
        &env_spec(
            "regcred-b",
            "ghcr.io",
            "  namespaces:\n    selector:\n      matchLabels: {pull: enabled}\n  serviceAccounts:\n    include: [\"*\"]\n  secret:\n    annotations:\n      argocd.argoproj.io/sync-wave: \"-1\"\n",
        ),
    );
    (a, b)
}

/// A deterministic Fisher-Yates shuffle (xorshift; no external crates).
fn shuffled<T: Clone>(v: &[T], mut seed: u64) -> Vec<T> {
    let mut v = v.to_vec();
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    v
}

/// (sorted pass-through documents, generated tail as text) of one render.
fn split_output(stdout: &str, n_input: usize) -> (Vec<String>, String) {
    let docs = split_docs(stdout);
    assert!(docs.len() > n_input, "nothing generated:\n{stdout}");
    let mut pass: Vec<String> = docs[..n_input].to_vec();
    pass.sort();
    (pass, docs[n_input..].join("---\n"))
}

#[test]
fn shuffled_input_gives_identical_generated_output() {
    let dir = TempDir::new("fidelity-determinism");
    let (a, b) = determinism_specs(&dir);
    let docs = determinism_docs();
    let n = docs.len();
    let base = render(&[&a, &b], &join_docs(&docs));
    let (base_pass, base_gen) = split_output(&base.stdout, n);
    // Sanity: both specs generated Secrets, SAs were created and patched.
    assert!(
        base_gen.contains("name: regcred-a") && base_gen.contains("name: regcred-b"),
        "{base_gen}"
    );
    assert!(base_gen.contains("kind: ServiceAccount"), "{base_gen}");
    assert!(
        base_pass
            .iter()
            .any(|d| d.contains("- name: other\n- name: regcred-a")),
        "team-a default SA not patched"
    );

    let mut orders: Vec<Vec<String>> = vec![docs.iter().rev().cloned().collect()];
    let mut rotated = docs.clone();
    rotated.rotate_left(7);
    orders.push(rotated);
    for seed in [1u64, 2, 3, 42, 0x9e3779b97f4a7c15, 1234567] {
        orders.push(shuffled(&docs, seed));
    }
    // Only the Namespace objects permuted among their own positions.
    let ns_pos: Vec<usize> = (0..n)
        .filter(|&i| docs[i].contains("kind: Namespace"))
        .collect();
    for seed in [5u64, 6, 7] {
        let mut d = docs.clone();
        let perm = shuffled(&ns_pos, seed);
        for (&to, &from) in ns_pos.iter().zip(&perm) {
            d[to] = docs[from].clone();
        }
        orders.push(d);
    }
    let mut distinct = 0;
    for (i, order) in orders.iter().enumerate() {
        if order != &docs {
            distinct += 1;
        }
        let out = render(&[&a, &b], &join_docs(order));
        let (pass, generated) = split_output(&out.stdout, n);
        common::assert_same_text(
            &base_gen,
            &generated,
            &format!("permutation {i}: generated Secrets/ServiceAccounts"),
        );
        assert_eq!(
            pass, base_pass,
            "permutation {i}: pass-through items differ as a multiset"
        );
        // Pass-through items keep the (permuted) input order.
        let out_docs = split_docs(&out.stdout);
        for (j, d) in order.iter().enumerate() {
            let first_line = d.lines().find(|l| l.starts_with("  name: ")).unwrap();
            assert!(
                out_docs[j].contains(first_line),
                "permutation {i}: item {j} moved"
            );
        }
    }
    assert!(
        distinct >= orders.len() - 1,
        "the permutations must actually reorder the input"
    );
}

#[test]
fn spec_order_does_not_change_the_secrets() {
    let dir = TempDir::new("fidelity-spec-order");
    let (a, b) = determinism_specs(&dir);
    let input = join_docs(&determinism_docs());
    let secrets = |stdout: &str| -> Vec<String> {
        split_docs(stdout)
            .into_iter()
            .filter(|d| d.contains("\ntype: kubernetes.io/dockerconfigjson"))
            .collect()
    };
    let ab = render(&[&a, &b], &input);
    let ba = render(&[&b, &a], &input);
    let (s_ab, s_ba) = (secrets(&ab.stdout), secrets(&ba.stdout));
    assert!(
        s_ab.len() >= 6,
        "expected Secrets from both specs, got {}",
        s_ab.len()
    );
    assert_eq!(
        s_ab, s_ba,
        "Secrets differ with the specs given in the other order"
    );

    // The same two specs as two documents of one file, in both orders.
    let spec_a = std::fs::read_to_string(&a).unwrap();
    let spec_b = std::fs::read_to_string(&b).unwrap();
    let one_ab = dir.write("ab.yaml", &format!("{spec_a}---\n{spec_b}"));
    let one_ba = dir.write("ba.yaml", &format!("{spec_b}---\n{spec_a}"));
    assert_eq!(secrets(&render(&[&one_ab], &input).stdout), s_ab);
    assert_eq!(secrets(&render(&[&one_ba], &input).stdout), s_ab);

    // ServiceAccounts get the same set of pull secrets either way.
    let pull_sets = |stdout: &str| -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = yaml12(stdout)
            .iter()
            .filter(|i| i["kind"] == "ServiceAccount")
            .map(|sa| {
                let mut names: Vec<String> = sa["imagePullSecrets"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .map(|e| e["name"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                names.sort();
                (ident(sa), names)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(pull_sets(&ab.stdout), pull_sets(&ba.stdout));
}

// ---------------------------------------------------------------------------
// Idempotence
// ---------------------------------------------------------------------------

#[test]
fn render_on_its_own_output_is_byte_identical() {
    let dir = TempDir::new("fidelity-idempotent");
    let (a, _) = determinism_specs(&dir);
    let mut input = join_docs(&determinism_docs());
    input.push_str("---\n");
    input.push_str(&lookalike_input());
    let once = render(&[&a], &input);
    assert!(once.stdout.contains("kind: Secret") && once.stdout.contains("- name: regcred-a"));
    let twice = render(&[&a], &once.stdout);
    common::assert_same_text(&once.stdout, &twice.stdout, "render on its own output");
    // Through a file input as well as stdin.
    let file = dir.write("rendered/out.yaml", &once.stdout);
    let mut cmd = common::regcred();
    cmd.arg("render").arg("-f").arg(&a).arg(&file);
    let thrice = common::run(with_env(&mut cmd), "");
    thrice.assert_ok();
    common::assert_same_text(
        &once.stdout,
        &thrice.stdout,
        "render on its own output, as a file",
    );
}

/// Two specs composing: A creates ServiceAccounts (literal names), B selects
/// every ServiceAccount (`*`) in some of the same namespaces. Rendering the
/// output again must not change it.
#[test]
fn render_with_two_specs_on_its_own_output_is_byte_identical() {
    let dir = TempDir::new("fidelity-idempotent-two");
    let (a, b) = determinism_specs(&dir);
    let input = join_docs(&determinism_docs());
    let once = render(&[&a, &b], &input);
    let twice = render(&[&a, &b], &once.stdout);
    // Re-rendering replaced the managed Secrets instead of adding copies.
    assert_eq!(
        split_docs(&twice.stdout).len(),
        split_docs(&once.stdout).len()
    );
    common::assert_same_text(
        &once.stdout,
        &twice.stdout,
        "render with two specs on its own output",
    );
}

/// Appends the spec as `functionConfig` to an output ResourceList (regcred
/// does not echo it), so the output can be fed back in.
fn with_function_config(rl: &str, spec: &str) -> String {
    assert!(
        !rl.contains("\nfunctionConfig:"),
        "output unexpectedly carries a functionConfig"
    );
    let mut s = rl.to_string();
    s.push_str("functionConfig:\n");
    for line in spec.lines() {
        s.push_str("  ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[test]
fn krm_mode_on_its_own_output_is_byte_identical() {
    let dir = TempDir::new("fidelity-krm-idempotent");
    let spec = env_spec(
        "regcred",
        "registry.example.com:5000",
        "  namespaces:\n    exclude: [\"sandbox-*\"]\n    names: [extra]\n  serviceAccounts:\n    include: [default, builder]\n",
    );
    let mut docs = determinism_docs();
    docs.extend(split_docs(&lookalike_input()));
    let rl = resource_list(&docs, &spec);
    let once = krm(dir.path(), &rl);
    assert!(once.stdout.contains("kind: Secret"), "{}", once.stdout);
    let twice = krm(dir.path(), &with_function_config(&once.stdout, &spec));
    common::assert_same_text(&once.stdout, &twice.stdout, "KRM mode on its own output");
}

/// Annotations kustomize and kpt put on every item.
fn runner_annotations(path: &str, index: usize, id: usize) -> Vec<(String, String)> {
    vec![
        ("config.kubernetes.io/index".into(), index.to_string()),
        ("config.kubernetes.io/path".into(), path.into()),
        (
            "internal.config.kubernetes.io/index".into(),
            index.to_string(),
        ),
        ("internal.config.kubernetes.io/path".into(), path.into()),
        ("internal.config.kubernetes.io/id".into(), id.to_string()),
        (
            "internal.config.kubernetes.io/seqindent".into(),
            "compact".into(),
        ),
        ("config.k8s.io/id".into(), id.to_string()),
    ]
}

#[test]
fn kpt_shaped_annotations_survive_on_every_item() {
    let dir = TempDir::new("fidelity-kpt-annotations");
    let spec = env_spec(
        "regcred",
        "registry.example.com",
        "  namespaces:\n    include: [\"team-*\"]\n",
    );
    let ann_block = |anns: &[(String, String)]| -> String {
        anns.iter()
            .map(|(k, v)| format!("    {k}: '{v}'\n"))
            .collect()
    };
    let mut docs = Vec::new();
    let mut expected: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut id = 0;
    let mut push = |docs: &mut Vec<String>,
                    kind: &str,
                    ns: Option<&str>,
                    name: &str,
                    rest: &str,
                    path: &str,
                    index: usize| {
        id += 1;
        let anns = runner_annotations(path, index, id);
        let ns_line = ns
            .map(|n| format!("  namespace: {n}\n"))
            .unwrap_or_default();
        let api = if kind == "Deployment" {
            "apps/v1"
        } else {
            "v1"
        };
        docs.push(format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n{ns_line}  annotations:\n{}{rest}",
            ann_block(&anns)
        ));
        expected.push((format!("{kind}/{}/{name}", ns.unwrap_or("-")), anns));
    };
    push(
        &mut docs,
        "Namespace",
        None,
        "team-a",
        "",
        "namespaces.yaml",
        0,
    );
    push(
        &mut docs,
        "Namespace",
        None,
        "team-b",
        "",
        "namespaces.yaml",
        1,
    );
    push(
        &mut docs,
        "ServiceAccount",
        Some("team-a"),
        "default",
        "imagePullSecrets:\n- name: other\n",
        "team-a/sa.yaml",
        0,
    );
    push(
        &mut docs,
        "ConfigMap",
        Some("team-b"),
        "settings",
        "data:\n  flag: yes\n  mode: 0755\n",
        "team-b/cm.yaml",
        0,
    );
    push(
        &mut docs,
        "Deployment",
        Some("team-b"),
        "web",
        "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: example/web\n",
        "team-b/deploy.yaml",
        0,
    );
    // A Secret regcred rendered earlier (managed), now stale, in kpt's files.
    let mut secret_anns = runner_annotations("team-a/regcred-secret.yaml", 0, 99);
    secret_anns.push(("argocd.argoproj.io/sync-wave".into(), "-1".into()));
    docs.push(format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: team-a\n  labels:\n    app.kubernetes.io/managed-by: regcred\n  annotations:\n{}type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\n",
        ann_block(&secret_anns)
    ));
    expected.push((
        "Secret/team-a/regcred".into(),
        runner_annotations("team-a/regcred-secret.yaml", 0, 99),
    ));

    let rl = resource_list(&docs, &spec);
    let once = krm(dir.path(), &rl);
    let out = rl_items(yaml12(&once.stdout));
    assert_eq!(
        out.len(),
        docs.len() + 2,
        "expected a new Secret and SA in team-b only:\n{}",
        once.stdout
    );
    let by_id = |want: &str| {
        out.iter()
            .find(|i| ident(i) == want)
            .unwrap_or_else(|| panic!("{want} missing"))
    };
    for (who, anns) in &expected {
        let item = by_id(who);
        for (k, v) in anns {
            assert_eq!(
                item["metadata"]["annotations"][k].as_str(),
                Some(v.as_str()),
                "{who}: annotation {k} not preserved:\n{}",
                serde_json::to_string_pretty(item).unwrap()
            );
        }
    }
    // The stale managed Secret was replaced in place (same position, fresh payload).
    let secret_pos = docs.len() - 1;
    assert_eq!(ident(&out[secret_pos]), "Secret/team-a/regcred");
    let fresh = common::dockerconfig(&out[secret_pos]);
    assert!(
        fresh.starts_with("{\"auths\":{\"registry.example.com\":"),
        "{fresh}"
    );
    let new_secret = by_id("Secret/team-b/regcred");
    assert_eq!(common::dockerconfig(new_secret), fresh);
    // The patched SA kept its entry and got one more, annotations intact.
    assert_eq!(
        by_id("ServiceAccount/team-a/default")["imagePullSecrets"],
        serde_json::json!([{"name": "other"}, {"name": "regcred"}])
    );

    // Once more over its own output: byte-identical, annotations included.
    let twice = krm(dir.path(), &with_function_config(&once.stdout, &spec));
    common::assert_same_text(
        &once.stdout,
        &twice.stdout,
        "KRM mode on its own kpt-annotated output",
    );
}
