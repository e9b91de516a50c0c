//! The Dockerfile's images, tested as far as a machine without a container
//! engine allows: its pins agree with the versions the tests run, every
//! COPY source exists, and the images' files, built the same way (regcred
//! by scripts/build-static, kustomize without cgo), run in a root filesystem holding
//! only what the Dockerfile copies, entered with `unshare --root` as the
//! image's user. That is the image minus the engine: the layers are not
//! built, and the base image (distroless, which adds no program) is absent.

use crate::common::{self, Out, TempDir, run, tool};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The target tests/container_image.rs builds the image's regcred for.
const TARGET: &str = "x86_64-unknown-linux-gnu";

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap()
}

/// One Dockerfile instruction, continuation lines joined, comments dropped.
struct Instruction {
    keyword: String,
    args: String,
}

/// A build stage: its `FROM` line and what follows it.
struct Stage {
    from: String,
    name: String,
    body: Vec<Instruction>,
}

/// A `COPY [--from=S] [--chown=U:G] [--chmod=M] SRC... DEST`.
struct Copy {
    from: Option<String>,
    chown: Option<String>,
    sources: Vec<String>,
    dest: String,
}

struct Dockerfile {
    global_args: BTreeMap<String, String>,
    stages: Vec<Stage>,
}

impl Dockerfile {
    fn parse(text: &str) -> Dockerfile {
        let mut instructions = Vec::new();
        let mut pending = String::new();
        for line in text.lines() {
            if line.trim_start().starts_with('#') || line.trim().is_empty() {
                continue;
            }
            match line.strip_suffix('\\') {
                Some(part) => pending.push_str(part),
                None => {
                    pending.push_str(line);
                    let (keyword, args) = pending.trim().split_once(' ').unwrap();
                    instructions.push(Instruction {
                        keyword: keyword.to_uppercase(),
                        args: args.split_whitespace().collect::<Vec<_>>().join(" "),
                    });
                    pending.clear();
                }
            }
        }
        let mut df = Dockerfile {
            global_args: BTreeMap::new(),
            stages: Vec::new(),
        };
        for i in instructions {
            if i.keyword == "FROM" {
                let words: Vec<&str> = i.args.split(' ').filter(|w| !w.starts_with("--")).collect();
                assert!(
                    words.len() == 3 && words[1].eq_ignore_ascii_case("AS"),
                    "every stage is named: FROM {}",
                    i.args
                );
                df.stages.push(Stage {
                    from: words[0].to_string(),
                    name: words[2].to_string(),
                    body: Vec::new(),
                });
            } else if let Some(stage) = df.stages.last_mut() {
                stage.body.push(i);
            } else {
                assert_eq!(i.keyword, "ARG", "only ARG may precede the first FROM");
                let (k, v) = i.args.split_once('=').expect("a global ARG has a default");
                df.global_args.insert(k.into(), v.into());
            }
        }
        df
    }

    fn stage(&self, name: &str) -> &Stage {
        self.stages
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("the Dockerfile has no stage {name}"))
    }
}

impl Stage {
    fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a str> {
        self.body
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }

    /// The default of `ARG name=value` in this stage.
    fn arg(&self, name: &str) -> Option<&str> {
        self.all("ARG")
            .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
    }

    /// `ENV K=V` pairs.
    fn env(&self) -> Vec<(String, String)> {
        self.all("ENV")
            .flat_map(|a| a.split(' '))
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("ENV K=V");
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn copies(&self) -> Vec<Copy> {
        self.all("COPY")
            .map(|args| {
                let mut copy = Copy {
                    from: None,
                    chown: None,
                    sources: Vec::new(),
                    dest: String::new(),
                };
                for w in args.split(' ') {
                    if let Some(v) = w.strip_prefix("--from=") {
                        copy.from = Some(v.into());
                    } else if let Some(v) = w.strip_prefix("--chown=") {
                        copy.chown = Some(v.into());
                    } else if !w.starts_with("--") {
                        copy.sources.push(w.into());
                    }
                }
                copy.dest = copy.sources.pop().expect("COPY has a destination");
                copy
            })
            .collect()
    }

    /// `USER`, as uid and gid; distroless's `nonroot` is 65532.
    fn user(&self) -> (u32, u32) {
        let user = self.all("USER").last().expect("the stage sets USER");
        let id = |s: &str| match s {
            "nonroot" => 65532,
            n => n
                .parse()
                .unwrap_or_else(|_| panic!("USER {user}: not numeric")),
        };
        let (u, g) = user.split_once(':').unwrap_or((user, user));
        (id(u), id(g))
    }
}

fn dockerfile() -> Dockerfile {
    Dockerfile::parse(&read("Dockerfile"))
}

/// `major.minor[.patch]` as numbers.
fn version(v: &str) -> Vec<u32> {
    v.trim_start_matches('v')
        .split('.')
        .map(|n| n.parse().unwrap_or_else(|_| panic!("not a version: {v}")))
        .collect()
}

/// Every base image has a version that does not move on its own (distroless
/// aside, which has none), the Rust one builds the crate's `rust-version`,
/// and `REGCRED_BINARY` picks one of the two regcred stages.
#[test]
fn base_images_are_pinned() {
    let df = dockerfile();
    let names: Vec<&str> = df.stages.iter().map(|s| s.name.as_str()).collect();
    for stage in &df.stages {
        let from = stage.from.as_str();
        if from == "scratch" || names.contains(&from) {
            continue;
        }
        if let Some(arg) = from.strip_prefix("regcred-${REGCRED_BINARY}") {
            assert!(arg.is_empty());
            for v in ["source", "prebuilt"] {
                assert!(names.contains(&format!("regcred-{v}").as_str()), "{v}");
            }
            assert_eq!(df.global_args["REGCRED_BINARY"], "source");
            continue;
        }
        let (image, tag) = from
            .split_once(':')
            .unwrap_or_else(|| panic!("{from}: no tag"));
        assert_ne!(tag, "latest", "{from}");
        match image {
            // The Rust the image builds with is at least the crate's rust-version.
            "rust" => {
                let v = version(tag.strip_suffix("-bookworm").expect("rust:X.Y-bookworm"));
                assert!(v >= version(&manifest("rust-version")), "{from}");
            }
            "golang" => {
                let v = tag.split('-').next().unwrap();
                assert_eq!(version(v).len(), 3, "{from}: pin the patch version");
            }
            // distroless has no version tags; the Debian release is in the name.
            "gcr.io/distroless/static-debian12" => assert_eq!(tag, "nonroot"),
            other => panic!("unexpected base image {other}"),
        }
    }
}

/// A `key = "value"` field of Cargo.toml's `[package]`.
fn manifest(key: &str) -> String {
    read("Cargo.toml")
        .lines()
        .find(|l| l.starts_with(&format!("{key} =")))
        .and_then(|l| l.split('"').nth(1))
        .unwrap_or_else(|| panic!("Cargo.toml has no {key}"))
        .to_string()
}

/// The kustomize version the sidecar image builds is the one
/// scripts/install-test-tools pins (for the tests' kustomize and the static
/// build these tests put in the image's place), and that binary says so.
#[test]
fn the_sidecar_kustomize_is_the_tested_version() {
    let df = dockerfile();
    let stage = df.stage("kustomize");
    let pinned = stage
        .arg("KUSTOMIZE_VERSION")
        .expect("ARG KUSTOMIZE_VERSION");
    let run_line = stage.all("RUN").next().unwrap();
    assert!(
        run_line.contains("CGO_ENABLED=0")
            && run_line
                .contains("go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"),
        "{run_line}"
    );
    let tools = read("scripts/install-test-tools");
    for link in ["kustomize", "kustomize-static"] {
        let line = format!("go_tool {link} sigs.k8s.io/kustomize/kustomize/v5 {pinned}");
        assert!(
            tools.lines().any(|l| l.ends_with(&line)),
            "scripts/install-test-tools lacks `{line}`"
        );
    }
    assert!(tools.contains(&format!(
        "CGO_ENABLED=0 go_tool kustomize-static sigs.k8s.io/kustomize/kustomize/v5 {pinned}"
    )));
    let out = run(Command::new(tool("kustomize-static")).arg("version"), "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), pinned);
    let binary = std::fs::read(tool("kustomize-static")).unwrap();
    assert!(
        is_static(&binary),
        "kustomize-static asks for a dynamic loader"
    );
}

/// Every `COPY` from the build context names a file that is there and not
/// in .dockerignore; the release workflow's `dist/` is checked against the
/// workflow, which writes it. Every `COPY --from` names an earlier stage.
#[test]
fn every_copy_source_exists() {
    let df = dockerfile();
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(|l| l.trim().trim_matches('/').to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let workflow = read(".github/workflows/release.yml");
    let mut checked = 0;
    for (i, stage) in df.stages.iter().enumerate() {
        for copy in stage.copies() {
            if let Some(from) = &copy.from {
                assert!(
                    df.stages[..i].iter().any(|s| &s.name == from),
                    "COPY --from={from} in {}: no earlier stage",
                    stage.name
                );
                continue;
            }
            for src in &copy.sources {
                let top = src.split('/').next().unwrap();
                assert!(
                    !ignored.iter().any(|i| i == top),
                    "{src} is in .dockerignore"
                );
                if src.contains("${TARGETARCH}") {
                    for arch in ["amd64", "arm64"] {
                        let file = src.replace("${TARGETARCH}", arch);
                        assert!(workflow.contains(&file), "release.yml never writes {file}");
                    }
                } else {
                    assert!(
                        Path::new(ROOT).join(src).exists(),
                        "COPY {src}: no such file"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "only {checked} COPY sources found");
}

/// The sidecar as Argo CD runs it: uid 999 (Argo CD's user), plugin.yaml
/// where argocd-cmp-server reads it, regcred and kustomize on the PATH
/// plugin.yaml's commands use, and no entrypoint (Argo CD sets the command
/// to /var/run/argocd/argocd-cmp-server).
#[test]
fn the_sidecar_stage_is_what_argo_cd_expects() {
    let df = dockerfile();
    let cmp = df.stage("argocd-cmp");
    assert_eq!(cmp.user(), (999, 999));
    assert!(cmp.all("ENTRYPOINT").next().is_none());
    let copies = cmp.copies();
    let dest = |d: &str| copies.iter().find(|c| c.dest == d);
    let plugin = dest("/home/argocd/cmp-server/config/plugin.yaml").expect("plugin.yaml");
    assert_eq!(plugin.sources, ["plugin.yaml"]);
    assert_eq!(plugin.chown.as_deref(), Some("999:999"));
    assert_eq!(
        dest("/usr/local/bin/regcred").and_then(|c| c.from.as_deref()),
        Some("regcred")
    );
    assert_eq!(
        dest("/usr/local/bin/kustomize").and_then(|c| c.from.as_deref()),
        Some("kustomize")
    );
    // The recipe's patch runs the image the release workflow pushes, with
    // the command and user above.
    let patch = &common::yaml12(&read("examples/argocd-cmp/argocd/repo-server-patch.yaml"))[0];
    let sidecar = &patch["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let image = sidecar["image"].as_str().unwrap();
    assert_eq!(image, released_image("-argocd-cmp"));
}

/// `ghcr.io/<repository>{suffix}:<version>`, the name release.yml gives an
/// image of this version.
fn released_image(suffix: &str) -> String {
    let repo = manifest("repository");
    let path = repo
        .strip_prefix("https://github.com/")
        .unwrap()
        .to_lowercase();
    let workflow = read(".github/workflows/release.yml");
    assert!(workflow.contains(r#"image="ghcr.io/${GITHUB_REPOSITORY,,}""#));
    assert!(workflow.contains(r#"cmp=$image-argocd-cmp:${GITHUB_REF_NAME#v}""#));
    assert!(workflow.contains(r#"krm=$image:${GITHUB_REF_NAME#v}""#));
    format!("ghcr.io/{path}{suffix}:{}", manifest("version"))
}

/// True when the ELF file asks for no program interpreter (`PT_INTERP`):
/// it needs no dynamic loader or libc, which the distroless static image
/// lacks.
fn is_static(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).all(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) != 3
    })
}

/// regcred as the images build it: scripts/build-static (glibc,
/// static-pie), stripped. Built once per run in a target dir of its own
/// (cargo reuses it between runs).
fn static_regcred() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("image-static");
        let out = run(
            Command::new(Path::new(ROOT).join("scripts/build-static"))
                .env("CARGO_PROFILE_RELEASE_STRIP", "true")
                .env("CARGO_TARGET_DIR", &target_dir)
                .arg(TARGET),
            "",
        );
        assert_eq!(
            out.code, 0,
            "scripts/build-static {TARGET} failed (it needs glibc's static libc.a: apt-get install libc6-dev):\n{}",
            out.stderr
        );
        let bin = target_dir.join(TARGET).join("release/regcred");
        assert!(
            is_static(&std::fs::read(&bin).unwrap()),
            "{} asks for a dynamic loader",
            bin.display()
        );
        bin
    })
}

/// A root filesystem holding what one Dockerfile stage copies (regcred and
/// kustomize built as that stage builds them), plus what a container
/// runtime gives every container: /proc, /dev/null and a /tmp.
struct Rootfs {
    dir: TempDir,
    user: (u32, u32),
    env: Vec<(String, String)>,
}

impl Rootfs {
    fn of(stage: &Stage) -> Rootfs {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "these tests enter the image's root filesystem with `unshare --root` and switch to its user: run them as root (CI does)"
        );
        let dir = TempDir::new(&format!("rootfs-{}", stage.name));
        for copy in stage.copies() {
            let [src] = &copy.sources[..] else {
                panic!("one source per COPY: {:?}", copy.sources)
            };
            let from = match copy.from.as_deref() {
                Some("regcred") => static_regcred().to_path_buf(),
                Some("kustomize") => tool("kustomize-static"),
                Some(other) => panic!("COPY --from={other}: unknown here"),
                None => Path::new(ROOT).join(src),
            };
            let to = dir.path().join(copy.dest.trim_start_matches('/'));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
            if let Some(owner) = &copy.chown {
                chown(&to, owner);
            }
        }
        for d in ["proc", "dev", "tmp"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        sh(Command::new("chmod")
            .arg("1777")
            .arg(dir.path().join("tmp")));
        sh(Command::new("mknod")
            .args(["-m", "666"])
            .arg(dir.path().join("dev/null"))
            .args(["c", "1", "3"]));
        // distroless's PATH, then the stage's ENV.
        let mut env = vec![(
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        )];
        env.extend(stage.env());
        Rootfs {
            dir,
            user: stage.user(),
            env,
        }
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    /// Copies a directory of the repository to `inside`, owned by `owner`.
    fn put(&self, repo_dir: &str, inside: &str, owner: &str) {
        let to = self.path(inside);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        sh(Command::new("cp")
            .arg("-r")
            .arg(Path::new(ROOT).join(repo_dir))
            .arg(&to));
        sh(Command::new("chown").args(["-R", owner]).arg(&to));
    }

    /// Runs `argv` inside, in `workdir`, as the stage's user, with only the
    /// image's environment plus `extra`; a new mount and PID namespace give
    /// it its own /proc.
    fn run(&self, workdir: &str, extra: &[(&str, &str)], argv: &[&str], stdin: &str) -> Out {
        let mut cmd = Command::new(tool("unshare"));
        cmd.env_clear()
            .args(["--mount", "--pid", "--fork"])
            .arg("--mount-proc=/proc")
            .arg(format!("--root={}", self.dir.path().display()))
            .arg(format!("--wd={workdir}"))
            .args(["--setuid", &self.user.0.to_string()])
            .args(["--setgid", &self.user.1.to_string()])
            .arg("--")
            .args(argv);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        run(&mut cmd, stdin)
    }
}

fn sh(cmd: &mut Command) {
    let out = run(cmd, "");
    assert_eq!(out.code, 0, "{cmd:?}: {}", out.stderr);
}

fn chown(path: &Path, owner: &str) {
    sh(Command::new("chown").arg(owner).arg(path));
}

/// plugin.yaml's command for `step` (`discover.find` or `generate`), as
/// the image holds it.
fn plugin_command(rootfs: &Rootfs, step: &[&str]) -> Vec<String> {
    let text =
        std::fs::read_to_string(rootfs.path("/home/argocd/cmp-server/config/plugin.yaml")).unwrap();
    let plugin = &common::yaml12(&text)[0];
    let mut node = &plugin["spec"];
    for s in step {
        node = &node[s];
    }
    node["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// The sidecar's files run plugin.yaml as Argo CD runs it: in the app's
/// copy under the CMP server's temporary directory, as uid 999, with only
/// the image's PATH (no kubectl), and the age key where the recipe's
/// repo-server patch mounts the Secret (root-owned files with the patch's
/// `defaultMode`, as the kubelet writes them without an fsGroup).
#[test]
fn the_sidecar_image_runs_plugin_yaml_as_uid_999() {
    let df = dockerfile();
    let image = Rootfs::of(df.stage("argocd-cmp"));
    // YAML 1.1, as the API server reads it: `defaultMode: 0400` is octal.
    let patch = &common::yaml11(&read("examples/argocd-cmp/argocd/repo-server-patch.yaml"))[0];
    let pod = &patch["spec"]["template"]["spec"];
    let key_env = pod["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "SOPS_AGE_KEY_FILE")
        .expect("SOPS_AGE_KEY_FILE in the patch");
    let key_file = key_env["value"].as_str().unwrap();
    let mode = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|v| v["secret"]["defaultMode"].as_u64())
        .expect("the key Secret's defaultMode");
    let key = image.path(key_file);
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::copy(
        Path::new(ROOT).join("examples/argocd-cmp/demo-age-key.txt"),
        &key,
    )
    .unwrap();
    sh(Command::new("chmod").arg(format!("{mode:o}")).arg(&key));

    let app = "/tmp/_cmp_server/app";
    image.put("examples/argocd-cmp/app", app, "999:999");
    let env = [
        ("SOPS_AGE_KEY_FILE", key_file),
        ("ARGOCD_APP_NAME", "storefront"),
        ("ARGOCD_APP_NAMESPACE", "storefront"),
    ];
    let discover = plugin_command(&image, &["discover", "find"]);
    let argv: Vec<&str> = discover.iter().map(String::as_str).collect();
    let out = image.run(app, &env, &argv, "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "regcred.yaml\n");

    let generate = plugin_command(&image, &["generate"]);
    let argv: Vec<&str> = generate.iter().map(String::as_str).collect();
    let out = image.run(app, &env, &argv, "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    common::assert_same_text(
        &read("examples/argocd-cmp/expected.yaml"),
        &out.stdout,
        "generate in the sidecar's files",
    );

    // A kustomization: regcred runs the image's standalone kustomize, as
    // the image has no kubectl.
    let kapp = "/tmp/_cmp_server/kustomized";
    image.put("examples/argocd-cmp/app", kapp, "999:999");
    std::fs::write(
        image.path(&format!("{kapp}/kustomization.yaml")),
        "resources: [deployment.yaml]\ntransformers: [regcred.yaml]\n",
    )
    .unwrap();
    let out = image.run(kapp, &env, &argv, "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let objects = |docs: &[Json]| {
        let mut ids: Vec<String> = docs
            .iter()
            .map(|d| {
                format!(
                    "{}/{}/{}",
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["namespace"].as_str().unwrap_or(""),
                    d["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect();
        ids.sort();
        ids
    };
    let expected = common::yaml12(&read("examples/argocd-cmp/expected.yaml"));
    let built = common::yaml12(&out.stdout);
    assert!(
        common::of_kind(&built, "Secret")
            .iter()
            .any(|s| common::dockerconfig(s).contains("ghcr.io")),
        "no pull Secret from the kustomization:\n{}",
        out.stdout
    );
    assert_eq!(objects(&built), objects(&expected), "{}", out.stdout);
}

/// The KRM function image: its entrypoint, in its working directory with
/// the example's credentials mounted where the example's annotation mounts
/// them, as uid 65532, turns a ResourceList into one with the pull Secret.
#[test]
fn the_krm_function_image_runs_its_entrypoint() {
    let df = dockerfile();
    let stage = df.stage("krm-function");
    assert_eq!(
        df.stages.last().unwrap().name,
        "krm-function",
        "the default target"
    );
    let image = Rootfs::of(stage);
    let entrypoint: Vec<String> =
        serde_json::from_str(stage.all("ENTRYPOINT").next().expect("ENTRYPOINT")).unwrap();
    let workdir = stage.all("WORKDIR").next().expect("WORKDIR");
    let example = "examples/container-function";
    let config = read(&format!("{example}/regcred.yaml"));
    let function =
        &common::yaml12(&config)[0]["metadata"]["annotations"]["config.kubernetes.io/function"];
    let function = &common::yaml12(function.as_str().unwrap())[0]["container"];
    assert_eq!(function["mounts"][0]["dst"], format!("{workdir}/creds"));
    image.put(
        &format!("{example}/creds"),
        &format!("{workdir}/creds"),
        "0:0",
    );
    let input = common::resource_list(
        &common::split_docs(&read(&format!("{example}/app.yaml"))),
        &config,
    );
    let argv: Vec<&str> = entrypoint.iter().map(String::as_str).collect();
    let out = image.run(workdir, &[], &argv, &input);
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, out.stdout);
    let list = &common::yaml12(&out.stdout)[0];
    let items: Vec<Json> = list["items"].as_array().unwrap().clone();
    let secrets = common::of_kind(&items, "Secret");
    assert!(!secrets.is_empty(), "no Secret:\n{}", out.stdout);
    for s in secrets {
        assert!(common::dockerconfig(s).contains("ghcr.io"));
    }
}

/// An image with regcred but neither kubectl nor kustomize (the KRM
/// function image) cannot build a kustomization as a sidecar: generate
/// fails closed, saying what is missing, and prints no manifests.
#[test]
fn generate_without_any_kustomize_fails_closed() {
    let df = dockerfile();
    let image = Rootfs::of(df.stage("krm-function"));
    let app = "/tmp/_cmp_server/kustomized";
    image.put("examples/argocd-cmp/app", app, "65532:65532");
    std::fs::write(
        image.path(&format!("{app}/kustomization.yaml")),
        "resources: [deployment.yaml]\ntransformers: [regcred.yaml]\n",
    )
    .unwrap();
    let out = image.run(app, &[], &["/usr/local/bin/regcred", "cmp", "generate"], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("neither kubectl nor kustomize is on PATH"),
        "{}",
        out.stderr
    );
}
