//! The spec parser: fields, errors and the schema kept in step with it.

use super::*;
use crate::yaml;

fn load(text: &str) -> Result<Spec> {
    let doc = yaml::load_stream(text, "t").unwrap().remove(0).value;
    parse(&doc, "spec.yaml")
}

const HEAD: &str =
    "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata: {name: regcred}\n";

fn err(body: &str) -> String {
    format!("{:#}", load(&format!("{HEAD}{body}")).unwrap_err())
}

#[test]
fn minimal_spec_gets_defaults() {
    let s = load(&format!(
        "{HEAD}spec:\n  registries:\n  - {{server: r.io, username: u, password: {{env: P}}}}\n"
    ))
    .unwrap();
    assert_eq!(s.secret_name, "regcred");
    assert_eq!(s.namespaces.include[0].as_str(), "*");
    assert_eq!(s.service_accounts.include[0].name.as_str(), "default");
    assert!(s.service_accounts.create_missing);
}

#[test]
fn unknown_fields_are_named_with_their_path() {
    let e = err("spec:\n  registries:\n  - {server: r.io, username: u, passwrod: x}\n");
    assert!(
        e.contains("spec.registries[0]: unknown field `passwrod`"),
        "{e}"
    );
    let e =
        err("spec:\n  registries: [{server: r.io, username: u, password: x}]\n  namespace: {}\n");
    assert!(e.contains("spec: unknown field `namespace`"), "{e}");
}

#[test]
fn validation_errors_name_the_field_and_hide_values() {
    let e = err("spec:\n  registries:\n  - {server: r.io, username: u, password: [CANARY]}\n");
    assert!(e.contains("spec.registries[0].password"), "{e}");
    assert!(!e.contains("CANARY"), "{e}");
    let e = err("spec:\n  registries: []\n");
    assert!(e.contains("spec.registries: must list at least one"), "{e}");
    let e = err("spec:\n  registries: [{server: 'a b', username: u, password: p}]\n");
    assert!(e.contains("spec.registries[0].server"), "{e}");
    let e = err(
        "spec:\n  registries:\n  - {server: r.io, username: u, password: p}\n  - {server: r.io, username: u, password: p}\n",
    );
    assert!(
        e.contains("spec.registries[1].server: duplicate server"),
        "{e}"
    );
    let e = err(
        "spec:\n  secretName: Bad_Name\n  registries: [{server: r.io, username: u, password: p}]\n",
    );
    assert!(e.contains("spec.secretName"), "{e}");
    let e = err(
        "spec:\n  registries: [{server: r.io, username: u, password: p}]\n  namespaces: {names: [Team_A]}\n",
    );
    assert!(e.contains("spec.namespaces.names[0]"), "{e}");
    let e =
        err("spec:\n  registries: [{server: r.io, username: u, password: {env: A, file: b}}]\n");
    assert!(
        e.contains("spec.registries[0].password: exactly one of env or file"),
        "{e}"
    );
}

#[test]
fn wrong_kind_is_rejected() {
    let doc = yaml::load_stream("apiVersion: v1\nkind: ConfigMap\n", "t")
        .unwrap()
        .remove(0)
        .value;
    let e = format!("{:#}", parse(&doc, "x.yaml").unwrap_err());
    assert!(e.contains("x.yaml") && e.contains("apiVersion/kind"), "{e}");
}

/// For every object of the schema, the fields it lists are exactly the
/// ones the parser accepts there: an unknown field planted at that
/// place is rejected with the parser's own list, which must match.
#[test]
fn schema_lists_exactly_the_fields_the_parser_accepts() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let reg = "registries: [{server: r.io, username: u, password: p}]";
    let places = [
        ("", "zzz: 1\nspec: {REG}"),
        ("/properties/spec", "spec: {REG, zzz: 1}"),
        (
            "/definitions/registry",
            "spec: {registries: [{server: r.io, username: u, password: p, zzz: 1}]}",
        ),
        (
            "/definitions/source",
            "spec: {registries: [{server: r.io, username: u, password: {file: f, zzz: 1}}]}",
        ),
        (
            "/properties/spec/properties/namespaces",
            "spec: {REG, namespaces: {zzz: 1}}",
        ),
        (
            "/definitions/labelSelector",
            "spec: {REG, namespaces: {selector: {zzz: 1}}}",
        ),
        (
            "/definitions/labelSelector/properties/matchExpressions/items",
            "spec: {REG, namespaces: {selector: {matchExpressions: [{key: a, operator: Exists, zzz: 1}]}}}",
        ),
        (
            "/properties/spec/properties/serviceAccounts",
            "spec: {REG, serviceAccounts: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/secret",
            "spec: {REG, secret: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/serviceAccount",
            "spec: {REG, serviceAccount: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/decryption",
            "spec: {REG, decryption: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/inject",
            "spec: {REG, inject: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/inject/properties/fieldPaths/items",
            "spec: {REG, inject: {fieldPaths: [{kind: K, path: a.b, zzz: 1}]}}",
        ),
        (
            "/properties/spec/properties/check",
            "spec: {REG, check: {zzz: 1}}",
        ),
        (
            "/properties/spec/properties/check/properties/podSpecPaths/items",
            "spec: {REG, check: {podSpecPaths: [{kind: K, path: a.b, zzz: 1}]}}",
        ),
    ];
    for (pointer, body) in places {
        let text = format!(
            "apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata: {{name: r}}\n{}\n",
            body.replace("REG", reg)
        );
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        let e = format!("{:#}", parse(&doc, "t").unwrap_err());
        let listed = e
            .split("expected one of: ")
            .nth(1)
            .unwrap_or_else(|| panic!("{pointer}: {e}"))
            .trim_end_matches(')');
        let mut parser: Vec<&str> = listed.split(", ").collect();
        parser.sort_unstable();
        // A value source's object forms ({env}, {file}) are the
        // alternatives of one parser object.
        let object = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer}"));
        let objects: Vec<&serde_json::Value> = match object["oneOf"].as_array() {
            Some(forms) if object.get("properties").is_none() => {
                forms.iter().filter(|f| f["type"] == "object").collect()
            }
            _ => vec![object],
        };
        let mut schema_fields: Vec<&str> = objects
            .iter()
            .flat_map(|o| {
                assert_eq!(o["additionalProperties"], false, "{pointer}");
                o["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
            })
            .collect();
        schema_fields.sort_unstable();
        schema_fields.dedup();
        assert_eq!(schema_fields, parser, "{pointer}");
    }
}

/// `parse_owned` reads what `parse` reads, and fails with the same first
/// error: a bad registry or a server listed twice, whichever comes first.
#[test]
fn owned_documents_parse_the_same() {
    let registries = [
        "[{server: a.io, username: u, password: p}, {server: b.io, auth: dTpw}]",
        "[{server: a.io, username: u, password: p}, {server: a.io, auth: dTpw}, {server: c}]",
        "[{server: a.io, username: u, password: p}, {server: c}, {server: a.io, auth: dTpw}]",
        "[]",
        "{a: b}",
        "null",
        "!!seq [{server: a.io, auth: dTpw}]",
    ];
    for list in registries {
        let text = format!("{HEAD}spec:\n  registries: {list}\n");
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        let shown = |r: Result<Spec>| match r {
            Ok(s) => format!("{s:?}"),
            Err(e) => format!("{e:#}"),
        };
        let borrowed = shown(parse(&doc, "spec.yaml"));
        assert_eq!(shown(parse_owned(doc, "spec.yaml")), borrowed, "{list}");
    }
}
