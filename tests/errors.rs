//! Every error path: exit code 1, a message naming the file/line/field,
//! nothing on stdout (KRM: only a ResourceList carrying the error), and a
//! canary credential appearing nowhere in stdout or stderr.

use crate::common::{self, TempDir, regcred, run};

const CANARY: &str = "CANARY-7f3a91-s3cr3t";
const CANARY_ENV: &str = "CANARY-env-55b2";

/// A registry whose credentials (the canaries) are resolved before most
/// errors are detected, so a leak anywhere would show.
const CANARY_REGISTRY: &str = "  - server: canary.example.com\n    username: robot\n    password: {file: creds/pw}\n  - server: canary-env.example.com\n    username: robot\n    password: {env: CANARY_PW}\n";

const APP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: team-a\n";

struct Case {
    name: &'static str,
    spec: String,
    input: &'static str,
    expect: &'static [&'static str],
}

fn spec_with(registries_extra: &str, rest: &str) -> String {
    format!(
        "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n  registries:\n{CANARY_REGISTRY}{registries_extra}{rest}"
    )
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "invalid YAML in spec",
            spec: "apiVersion: regcred.dev/v1alpha1\nkind: [RegistryCredentials\n".into(),
            input: APP,
            expect: &["regcred.yaml: invalid YAML: line 3"],
        },
        Case {
            name: "invalid YAML in input",
            spec: spec_with("", ""),
            input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
            expect: &["app.yaml: invalid YAML: line", "column"],
        },
        Case {
            name: "unknown apiVersion",
            spec: spec_with("", "").replace("regcred.dev/v1alpha1", "regcred.dev/v9"),
            input: APP,
            expect: &["regcred.yaml", "apiVersion/kind"],
        },
        Case {
            name: "unknown field",
            spec: spec_with("", "  namespace:\n    include: ['*']\n"),
            input: APP,
            expect: &["spec: unknown field `namespace`"],
        },
        Case {
            name: "unknown field in a registry",
            spec: spec_with("  - server: x.io\n    username: u\n    passwrod: {env: CANARY_PW}\n", ""),
            input: APP,
            expect: &["spec.registries[2]: unknown field `passwrod`"],
        },
        Case {
            name: "missing registries",
            spec: "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n  secretName: regcred\n".into(),
            input: APP,
            expect: &["spec.registries: required"],
        },
        Case {
            name: "empty registries",
            spec: "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n  registries: []\n".into(),
            input: APP,
            expect: &["spec.registries: must list at least one registry"],
        },
        Case {
            name: "empty server",
            spec: spec_with("  - server: ''\n    username: u\n    password: {env: CANARY_PW}\n", ""),
            input: APP,
            expect: &["spec.registries[2].server: must not be empty"],
        },
        Case {
            name: "server with whitespace",
            spec: spec_with("  - server: 'a b.io'\n    username: u\n    password: {env: CANARY_PW}\n", ""),
            input: APP,
            expect: &["spec.registries[2].server: must not contain whitespace"],
        },
        Case {
            name: "server with a control character",
            spec: spec_with("  - server: \"a\\u0007b.io\"\n    username: u\n    password: {env: CANARY_PW}\n", ""),
            input: APP,
            expect: &["spec.registries[2].server: must not contain whitespace or control"],
        },
        Case {
            name: "invalid namespace name",
            spec: spec_with("", "  namespaces:\n    names: [Team_A]\n"),
            input: APP,
            expect: &["spec.namespaces.names[0]", "not a valid namespace name"],
        },
        Case {
            name: "invalid secret name",
            spec: spec_with("", "  secretName: Reg_Cred\n"),
            input: APP,
            expect: &["spec.secretName", "not a valid name"],
        },
        Case {
            name: "invalid service account name",
            spec: spec_with("", "  serviceAccounts:\n    include: [Builder_SA]\n"),
            input: APP,
            expect: &["spec.serviceAccounts.include[0]", "not a valid name"],
        },
        Case {
            name: "duplicate servers",
            spec: spec_with("  - server: canary.example.com\n    username: u\n    password: {env: CANARY_PW}\n", ""),
            input: APP,
            expect: &["spec.registries[2].server: duplicate server"],
        },
        Case {
            name: "duplicate server through dockerConfig",
            spec: spec_with("  - dockerConfig: {file: creds/config.json}\n", ""),
            input: APP,
            expect: &["spec.registries[2].dockerConfig", "duplicate server \"canary.example.com\""],
        },
        Case {
            name: "missing env var",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {env: NOT_SET_ANYWHERE_42}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.env: environment variable NOT_SET_ANYWHERE_42 is not set"],
        },
        Case {
            name: "missing file",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {file: creds/nope}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.file: cannot read creds/nope"],
        },
        Case {
            name: "missing key",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {file: creds/tokens.json, key: tokens.gitlab}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.key: key \"tokens.gitlab\" not found in creds/tokens.json"],
        },
        Case {
            name: "path escaping the root with ..",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {file: ../outside.txt}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.file", "leave the credentials root", "--allow-path-outside-root"],
        },
        Case {
            name: "absolute path",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {file: /etc/hostname}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.file: absolute path", "--allow-path-outside-root"],
        },
        Case {
            name: "symlink out of the root",
            spec: spec_with("  - server: x.io\n    username: u\n    password: {file: creds/link}\n", ""),
            input: APP,
            expect: &["spec.registries[2].password.file", "through a symlink", "outside the credentials root"],
        },
        Case {
            name: "conflicting unmanaged Secret",
            spec: spec_with("", ""),
            input: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: team-a\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\n",
            expect: &["Secret team-a/regcred already exists", "not managed by regcred"],
        },
        Case {
            name: "invalid selector operator",
            spec: spec_with("", "  namespaces:\n    selector:\n      matchExpressions: [{key: a, operator: Has}]\n"),
            input: APP,
            expect: &["spec.namespaces.selector.matchExpressions[0].operator"],
        },
        Case {
            name: "password given as a list",
            spec: spec_with("  - server: x.io\n    username: u\n    password: [CANARY-7f3a91-s3cr3t]\n", ""),
            input: APP,
            expect: &["spec.registries[2].password"],
        },
    ]
}

/// A workspace: spec dir with canary credential files, plus a file and a
/// symlink outside it.
fn workspace(case: &Case) -> TempDir {
    let t = TempDir::new("errors");
    // `w` is a repository of its own: the confinement root.
    std::fs::create_dir_all(t.path().join("w/.git")).unwrap();
    t.write("outside.txt", &format!("{CANARY}\n"));
    t.write("w/creds/pw", &format!("{CANARY}\n"));
    t.write(
        "w/creds/tokens.json",
        &format!("{{\"tokens\": {{\"ghcr\": \"{CANARY}\"}}}}"),
    );
    t.write(
        "w/creds/config.json",
        &format!("{{\"auths\": {{\"canary.example.com\": {{\"username\": \"u\", \"password\": \"{CANARY}\"}}}}}}"),
    );
    std::os::unix::fs::symlink(t.path().join("outside.txt"), t.path().join("w/creds/link"))
        .unwrap();
    t.write("w/regcred.yaml", &case.spec);
    t.write("w/app.yaml", case.input);
    t
}

fn check(case: &Case, mode: &str, out: &common::Out) {
    assert_eq!(
        out.code, 1,
        "[{}/{mode}] expected exit 1, stderr:\n{}",
        case.name, out.stderr
    );
    for needle in case.expect {
        // Only the CLI has the opt-in flag; other modes must not advise it.
        if *needle == "--allow-path-outside-root" && mode != "render" {
            assert!(
                !out.stderr.contains(needle),
                "[{}/{mode}] advises a flag this mode does not have:\n{}",
                case.name,
                out.stderr
            );
            continue;
        }
        assert!(
            out.stderr.contains(needle),
            "[{}/{mode}] stderr lacks {needle:?}:\n{}",
            case.name,
            out.stderr
        );
    }
    assert!(
        out.stderr.starts_with("error: "),
        "[{}/{mode}] {}",
        case.name,
        out.stderr
    );
    out.assert_no_canary(CANARY);
    out.assert_no_canary(CANARY_ENV);
}

#[test]
fn render_cli_fails_closed_on_every_error() {
    for case in cases() {
        let t = workspace(&case);
        let w = t.path().join("w");
        let out = run(
            regcred()
                .current_dir(&w)
                .env("CANARY_PW", CANARY_ENV)
                .args(["render", "-f", "regcred.yaml", "app.yaml"]),
            "",
        );
        check(&case, "render", &out);
        assert_eq!(
            out.stdout, "",
            "[{}] render wrote to stdout on error",
            case.name
        );
    }
}

#[test]
fn legacy_plugin_fails_closed_on_every_error() {
    for case in cases()
        .into_iter()
        .filter(|c| c.name != "invalid YAML in input")
    {
        let t = workspace(&case);
        let w = t.path().join("w");
        // kustomize passes a temporary copy of the config elsewhere.
        let config = t.write("tmp-config/cfg.yaml", &case.spec);
        let out = run(
            regcred()
                .current_dir(&w)
                .env("CANARY_PW", CANARY_ENV)
                .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", &w)
                .arg(&config),
            case.input,
        );
        let mut case_expect = case.expect.to_vec();
        // Messages name the config file kustomize gave us, not regcred.yaml.
        case_expect.retain(|e| !e.starts_with("regcred.yaml"));
        let adjusted = Case {
            expect: Vec::leak(case_expect),
            spec: String::new(),
            ..case
        };
        check(&adjusted, "legacy", &out);
        assert_eq!(
            out.stdout, "",
            "[{}] legacy plugin wrote to stdout on error",
            adjusted.name
        );
    }
}

#[test]
fn krm_function_fails_with_error_results_and_unchanged_items() {
    let skip = ["invalid YAML in spec", "invalid YAML in input"];
    for case in cases().into_iter().filter(|c| !skip.contains(&c.name)) {
        let t = workspace(&case);
        let w = t.path().join("w");
        let indent = |s: &str| s.lines().map(|l| format!("  {l}\n")).collect::<String>();
        let items: Vec<String> = case
            .input
            .split("---\n")
            .map(|doc| {
                let mut lines = doc.lines();
                let first = lines.next().unwrap();
                format!(
                    "- {first}\n{}",
                    lines.map(|l| format!("  {l}\n")).collect::<String>()
                )
            })
            .collect();
        let rl = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}functionConfig:\n{}",
            items.concat(),
            indent(&case.spec)
        );
        let out = run(regcred().current_dir(&w).env("CANARY_PW", CANARY_ENV), &rl);
        let mut expect = case.expect.to_vec();
        expect.retain(|e| !e.starts_with("regcred.yaml"));
        let adjusted = Case {
            expect: Vec::leak(expect),
            spec: String::new(),
            ..case
        };
        check(&adjusted, "krm", &out);
        let docs = common::yaml12(&out.stdout);
        assert_eq!(
            docs.len(),
            1,
            "[{}] stdout must be one ResourceList",
            adjusted.name
        );
        let rl_out = &docs[0];
        assert_eq!(rl_out["kind"], "ResourceList");
        assert_eq!(
            rl_out["results"][0]["severity"], "error",
            "[{}]",
            adjusted.name
        );
        let msg = rl_out["results"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains(adjusted.expect[0]),
            "[{}] result message: {msg}",
            adjusted.name
        );
        let input_items = common::yaml12(adjusted.input);
        assert_eq!(
            rl_out["items"].as_array().unwrap(),
            &input_items,
            "[{}] items must come back unchanged",
            adjusted.name
        );
    }
}

#[test]
fn krm_function_rejects_a_missing_function_config_and_garbage() {
    let out = run(
        &mut regcred(),
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
    );
    out.assert_error("functionConfig: missing");
    let out = run(&mut regcred(), "kind: ResourceList\nitems: [\n");
    out.assert_error("invalid YAML: line");
    let rl = common::yaml12(&out.stdout);
    assert_eq!(rl[0]["results"][0]["severity"], "error");
}

#[test]
fn allow_path_outside_root_lets_the_cli_read_elsewhere() {
    let case = Case {
        name: "outside allowed",
        spec: spec_with(
            "  - server: x.io\n    username: u\n    password: {file: ../outside.txt}\n",
            "",
        ),
        input: APP,
        expect: &[],
    };
    let t = workspace(&case);
    let w = t.path().join("w");
    let out = run(
        regcred()
            .current_dir(&w)
            .env("CANARY_PW", CANARY_ENV)
            .args([
                "render",
                "--allow-path-outside-root",
                "-f",
                "regcred.yaml",
                "app.yaml",
            ]),
        "",
    );
    out.assert_ok();
    let docs = common::yaml12(&out.stdout);
    let secret = common::of_kind(&docs, "Secret")[0];
    assert!(common::dockerconfig(secret).contains("\"x.io\""));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(regcred().args(["render"]), "");
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run(regcred().args(["render", "-f", "x.yaml", "--bogus"]), "");
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn literal_passwords_warn_but_render() {
    let t = TempDir::new("literal");
    t.write(
        "regcred.yaml",
        &common::spec(
            "  registries:\n  - server: r.io\n    username: u\n    password: literal-pw\n",
        ),
    );
    t.write("app.yaml", APP);
    let out = run(
        regcred()
            .current_dir(t.path())
            .args(["render", "-f", "regcred.yaml", "app.yaml"]),
        "",
    );
    out.assert_ok();
    assert!(
        out.stderr
            .contains("warning: spec.registries[0].password: literal password"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("literal-pw"), "{}", out.stderr);
}
