#!/usr/bin/env python3
"""Differential check: two regcred binaries must write the same bytes.

    bench/compare.py --before OLD_BIN --after NEW_BIN [--sizes 10,300,3000] [--seed N] [--keep]

Generates inputs of several shapes and sizes into a temporary directory,
runs both binaries on each (render to stdout, `render -` from stdin, KRM
mode, the legacy plugin, `render -o DIR`) and compares stdout, the exit
code and stderr byte for byte, and `-o DIR` trees file by file. Shapes:
namespaces with ServiceAccounts, workloads with `inject`, label selectors,
several specs composed, `createMissing`, specs of many registries (Secrets
of megabytes; one with the Secret's payload placeholder in an annotation),
a re-render of regcred's own output (managed Secrets replaced in place),
input order shuffled, and hand-written YAML styles (comments, quoting, flow
collections, literal blocks, indented sequences, documents markers) that
the writer normalises. Error inputs (duplicate keys, invalid names, a SOPS
file among the inputs, a duplicate or invalid registry among hundreds)
must fail the same way.

Python 3 standard library only. Exit status 1 on the first difference
(the inputs are kept and their directory printed).
"""

import argparse
import filecmp
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402  (bench/gen.py: credentials and the 3-registry spec)


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# --- input shapes -----------------------------------------------------------

def styled(rng, key, value, indent):
    """`key: value` in one of the styles a person or a tool might write."""
    pad = " " * indent
    style = rng.randrange(6)
    if style == 0:
        return f"{pad}{key}: '{value}'\n"
    if style == 1:
        return f'{pad}{key}: "{value}"\n'
    if style == 2:
        return f"{pad}{key}: {value}  # a comment\n"
    if style == 3:
        return f'{pad}"{key}": {value}\n'
    return f"{pad}{key}: {value}\n"


def namespace_doc(rng, i, hand):
    ns = f"team-{i:05d}"
    labels = {"team": f"t{i % 7}", "tier": rng.choice(["web", "db", "batch"])}
    skip = rng.random() < 0.05
    if hand and rng.random() < 0.3:
        flow = ", ".join(f"{k}: {v}" for k, v in labels.items())
        text = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{{flow}}}}}\n"
        if skip:
            text = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  annotations: {{regcred.dev/skip: 'true'}}\n"
        return ns, text
    out = "apiVersion: v1\nkind: Namespace\nmetadata:\n"
    out += styled(rng, "name", ns, 2) if hand else f"  name: {ns}\n"
    out += "  labels:\n"
    for k, v in labels.items():
        out += styled(rng, k, v, 4) if hand else f"    {k}: {v}\n"
    if skip:
        out += "  annotations:\n    regcred.dev/skip: \"true\"\n"
    return ns, out


def sa_doc(rng, ns, name, hand):
    out = f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
    r = rng.random()
    if r < 0.2:
        out += "imagePullSecrets:\n- name: legacy-pull\n"
    elif r < 0.3:
        out += "imagePullSecrets: []\n"
    elif r < 0.35:
        out += "imagePullSecrets:\n"
    elif r < 0.45 and hand:
        out += "imagePullSecrets:\n  - name: legacy-pull\n  - {name: other, extra: kept}\n"
    elif r < 0.5:
        out += "imagePullSecrets:\n- name: regcred-pull\n"
    if rng.random() < 0.1:
        out += "automountServiceAccountToken: false\n"
    if rng.random() < 0.05:
        out = out.replace("metadata:\n", "metadata:\n  annotations:\n    regcred.dev/skip: 'true'\n", 1)
    return out


def deployment_doc(rng, i, ns, hand):
    image = rng.choice(["ghcr.io/shop/app:1.4", "registry.example.com:5000/x/y@sha256:" + "a" * 64,
                        "nginx:1.25", "quay.io/team/tool", "docker.io/library/busybox:latest"])
    sa = rng.choice(["", "      serviceAccountName: app\n", "      serviceAccountName: builder\n"])
    pulls = "      imagePullSecrets:\n      - name: own\n" if rng.random() < 0.1 else ""
    containers = "      containers:\n" if not hand else "      containers:\n"
    body = (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i:05d}\n  namespace: {ns}\n"
            f"  labels:\n    app: svc-{i:05d}\nspec:\n  replicas: {rng.randrange(1, 4)}\n  template:\n    spec:\n"
            f"{sa}{pulls}{containers}      - name: app\n        image: {image}\n"
            f"        env:\n        - name: MODE\n          value: 'on'\n        - name: PORT\n          value: \"8080\"\n"
            f"        resources: {{}}\n")
    if hand and rng.random() < 0.3:
        body += "        args: [--verbose, --port, '8080']\n"
    return body


def configmap_doc(rng, i, ns, hand):
    out = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: {ns}\ndata:\n"
    out += "  config.yaml: |\n    a: 1\n    b:\n      - x\n\n    c: yes\n"
    out += "  FLAG: 'on'\n  COUNT: '0755'\n  EMPTY: ''\n  VERSION: 1.10\n  DATE: 2024-01-01\n"
    if hand:
        out += "  note: >\n    folded text\n    over lines\n"
        out += "  keep: |+\n    kept\n\n"
        out += "  strip: |-\n    stripped\n"
        out += "  quoted: \"tab\\there\"\n"
        out += "  unicode: \"caf\u00e9\"\n"
    return out


def cluster_doc(i):
    return (f"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: role-{i}\n"
            "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get, list]\n")


def manifests(rng, n, hand=False, workloads=True, extra_sa="app"):
    docs = []
    for i in range(n):
        ns, text = namespace_doc(rng, i, hand)
        if rng.random() < 0.9:
            docs.append(text)
        docs.append(sa_doc(rng, ns, "default", hand))
        if rng.random() < 0.7:
            docs.append(sa_doc(rng, ns, extra_sa, hand))
        if workloads and rng.random() < 0.5:
            docs.append(deployment_doc(rng, i, ns, hand))
        if rng.random() < 0.2:
            docs.append(configmap_doc(rng, i, ns, hand))
        if rng.random() < 0.02:
            docs.append(cluster_doc(i))
    return docs


def spec(secret="regcred-pull", sa=("default", "app"), selector=None, inject=False, create=True, include=None,
         names=None, check=False, annotations=None):
    text = gen.spec_text(sa_include=list(sa), include=include, names=names).replace(
        "secretName: regcred-pull", f"secretName: {secret}")
    text = text.replace("  name: regcred\n", f"  name: {secret}\n", 1)
    extra = ""
    if selector:
        extra += f"  # selector\n"
        text = text.replace("  namespaces:\n", f"  namespaces:\n    selector:\n      matchLabels: {{{selector}}}\n", 1)
    if not create:
        text = text.replace("  serviceAccounts:\n", "  serviceAccounts:\n    createMissing: false\n", 1)
    if annotations:
        text = text.replace("  serviceAccounts:\n", "  serviceAccount:\n    annotations: {" + annotations + "}\n  serviceAccounts:\n", 1)
    if inject:
        extra += "  inject:\n    workloads: true\n"
    if check:
        extra += "  check:\n    enabled: true\n"
    return text + extra


def registries_spec(k, mark=False):
    """A spec of k registries: a Secret of k `auths` entries (megabytes at
    thousands), some with characters JSON escapes. With `mark`, a Secret
    annotation holds the placeholder regcred renders the Secret with, so
    that it renders with the value itself instead."""
    text = spec()
    lines = ["  registries:"]
    for i in range(k):
        lines.append(f"  - server: r{i:06d}.example.com" + (":5000" if i % 3 == 0 else ""))
        lines.append("    username: " + ("'robot<&>\"\u00e9'" if i % 5 == 0 else f"robot{i}"))
        lines.append("    password: {file: creds/tokens.yaml, key: tokens.example}")
        if i % 7 == 0:
            lines.append("    email: ops@example.com")
    start, end = text.index("  registries:\n"), text.index("  namespaces:\n")
    text = text[:start] + "".join(l + "\n" for l in lines) + text[end:]
    wave = '      argocd.argoproj.io/sync-wave: "-1"\n'
    assert wave in text
    return text.replace(wave, wave + "      note: regcredDockerconfigjsonValue7f3a\n") if mark else text


def stream(docs, rng, style):
    """Documents as one stream: `---` before each, between, or with `...` ends."""
    if style == "leading":
        return "".join("---\n" + d for d in docs)
    if style == "between":
        return "---\n".join(docs)
    if style == "comments":
        return "# generated\n" + "".join(f"--- # doc {i}\n" + d for i, d in enumerate(docs))
    return "".join(d + "...\n---\n" for d in docs)


def krm_list(docs, spec_text, rng, kustomize_quotes=True):
    items = []
    for idx, d in enumerate(docs):
        lines = d.splitlines()
        if "metadata:" in lines:
            at = lines.index("metadata:") + 1
            q = "'" if kustomize_quotes else '"'
            ann = ["  annotations:", f"    config.kubernetes.io/index: {q}0{q}",
                   f"    internal.config.kubernetes.io/index: {q}{idx}{q}",
                   f"    internal.config.kubernetes.io/path: {q}resources.yaml{q}"]
            if not any(l.startswith("  annotations:") for l in lines):
                lines[at:at] = ann
        items.append("- " + lines[0] + "\n" + "".join("  " + l + "\n" if l else "\n" for l in lines[1:]))
    spec_indented = "".join("  " + l + "\n" for l in spec_text.splitlines())
    return ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(items)
            + "functionConfig:\n" + spec_indented)


# --- running and comparing --------------------------------------------------

class Diff(Exception):
    pass


def run(bin_, args, stdin=None, cwd=None, env=None):
    p = subprocess.run([bin_, *args], input=stdin, capture_output=True, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


def compare(name, before, after, args, stdin=None, cwd=None, env=None, expect_ok=True):
    b = run(before, args, stdin, cwd, env)
    a = run(after, args, stdin, cwd, env)
    for what, x, y in (("exit code", b[0], a[0]), ("stdout", b[1], a[1]), ("stderr", b[2], a[2])):
        if x != y:
            detail = ""
            if what == "stdout":
                at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
                detail = f" (first difference at byte {at}: before {x[at - 80:at + 80]!r}, after {y[at - 80:at + 80]!r})"
            elif what == "stderr":
                detail = f" (before {x[:400]!r}, after {y[:400]!r})"
            else:
                detail = f" (before {x}, after {y}; stderr {a[2][:300]!r})"
            raise Diff(f"{name}: {what} differs{detail}")
    if expect_ok and b[0] != 0:
        raise Diff(f"{name}: both failed (exit {b[0]}): {b[2][:400]!r}")
    return len(b[1])


def compare_dirs(name, d1, d2):
    cmp = filecmp.dircmp(d1, d2)
    stack = [("", cmp)]
    while stack:
        rel, c = stack.pop()
        if c.left_only or c.right_only or c.diff_files or c.funny_files:
            raise Diff(f"{name}: -o DIR differs under {rel or '.'}: only before {c.left_only[:5]}, "
                       f"only after {c.right_only[:5]}, different {c.diff_files[:5]}")
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        if mismatch or errors:
            raise Diff(f"{name}: -o DIR files differ under {rel or '.'}: {mismatch[:5]} {errors[:5]}")
        stack.extend((os.path.join(rel, k), v) for k, v in c.subdirs.items())


def case(tmp, name, docs, specs, rng, before, after, style="leading", krm=True, outdir=True, plugin=True):
    d = os.path.join(tmp, name)
    gen.write_creds(d)
    spec_files = []
    for i, s in enumerate(specs):
        write(os.path.join(d, f"spec{i}.yaml"), s)
        spec_files += ["-f", os.path.join(d, f"spec{i}.yaml")]
    text = stream(docs, rng, style)
    write(os.path.join(d, "in", "input.yaml"), text)
    n = compare(f"{name}: render", before, after, ["render", *spec_files, os.path.join(d, "in")])
    compare(f"{name}: render -", before, after, ["render", *spec_files, "-"], stdin=text.encode())
    if outdir:
        o1, o2 = os.path.join(d, "out-before"), os.path.join(d, "out-after")
        for b, o in ((before, o1), (after, o2)):
            code, _, err = run(b, ["render", *spec_files, os.path.join(d, "in"), "-o", o])
            if code != 0:
                raise Diff(f"{name}: render -o failed: {err[:300]!r}")
        compare_dirs(f"{name}: render -o", o1, o2)
    if krm:
        for quotes in (True, False):
            rl = krm_list(docs, specs[0].replace("metadata:\n", "metadata:\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: regcred\n", 1), rng, quotes)
            compare(f"{name}: KRM (quotes {quotes})", before, after, [], stdin=rl.encode(), cwd=d)
    if plugin:
        compare(f"{name}: legacy plugin", before, after, [os.path.join(d, "spec0.yaml")], stdin=text.encode(),
                env=dict(os.environ, KUSTOMIZE_PLUGIN_CONFIG_ROOT=d))
    return n


def error_cases(tmp, before, after):
    d = os.path.join(tmp, "errors")
    gen.write_creds(d)
    write(os.path.join(d, "spec.yaml"), spec())
    bad = {
        "duplicate-key": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
        "bad-namespace": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: Bad_NS\n",
        "bad-name": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: UPPER\n",
        "sops": "apiVersion: v1\nkind: ConfigMap\nsops:\n  mac: x\n",
        "not-resource": "a: 1\n",
        "syntax": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n",
        "scalar-doc": "just text\n",
        "sa-pulls-scalar": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: a\nimagePullSecrets: x\n",
        "unmanaged-secret": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred-pull\n  namespace: a\n",
        "tab": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n",
        "control": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\u0001\n",
    }
    many = registries_spec(500)
    for name, text in (("duplicate-server", many.replace("r000400.example.com", "r000100.example.com")),
                       ("bad-registry", many.replace("r000300.example.com", "bad server"))):
        write(os.path.join(d, f"{name}.yaml"), text)
        compare(f"error {name}: render", before, after, ["render", "-f", os.path.join(d, f"{name}.yaml")],
                expect_ok=False)
    good = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n"
    for name, text in bad.items():
        for order in ("first", "last"):
            stream_text = text + "---\n" + good if order == "first" else good + "---\n" + text
            path = os.path.join(d, f"{name}-{order}.yaml")
            write(path, stream_text)
            compare(f"error {name} ({order}): render", before, after, ["render", "-f", os.path.join(d, "spec.yaml"), path],
                    expect_ok=False)
            items = "".join("- " + doc.replace("\n", "\n  ").rstrip(" ") for doc in stream_text.split("---\n"))
            rl = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items + \
                 "functionConfig:\n" + "".join("  " + l + "\n" for l in spec().splitlines())
            compare(f"error {name} ({order}): KRM", before, after, [], stdin=rl.encode(), cwd=d, expect_ok=False)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--sizes", default="1,10,300,3000")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    before, after = os.path.abspath(args.before), os.path.abspath(args.after)
    tmp = tempfile.mkdtemp(prefix="regcred-compare.")
    rng = random.Random(args.seed)
    done = 0
    try:
        error_cases(tmp, before, after)
        done += 1
        for n in map(int, args.sizes.split(",")):
            big = n > 1000
            shapes = {
                "plain": (manifests(rng, n, workloads=False), [spec()], {}),
                "workloads": (manifests(rng, n), [spec()], {}),
                "inject": (manifests(rng, n), [spec(inject=True)], {}),
                "selector": (manifests(rng, n), [spec(selector="tier: web")], {}),
                "two-specs": (manifests(rng, n), [spec(), spec(secret="team-b", sa=("default", "builder"),
                                                            include=["team-0*"], annotations="a.io/x: 'y'")], {}),
                "create-off": (manifests(rng, n), [spec(create=False, sa=("default", "builder", "team-*/ci"))], {}),
                "names": (manifests(rng, n), [spec(names=["extra-a", "team-00000", "kube-system"])], {}),
                "check": (manifests(rng, n), [spec(check=True)], {"krm": False}),
                # More specs than a ServiceAccount keeps bits for (32).
                "many-specs": (manifests(rng, n), [spec(secret=f"pull-{i:02d}", sa=("default", "app", "builder"))
                                                   for i in range(34)], {}),
                "hand-written": (manifests(rng, n, hand=True), [spec(inject=True)], {}),
                # Large Secrets: 20,000 registries for one namespace, 30 for 3,000.
                "registries": (manifests(rng, n), [registries_spec(max(30, min(20000, 60000 // n)))], {}),
                "registries-marked": (manifests(rng, n), [registries_spec(max(30, min(2000, 6000 // n)), mark=True)],
                                      {}),
            }
            for shape, (docs, specs, opts) in shapes.items():
                if big and shape in ("names", "check", "many-specs"):
                    continue
                for style in (["leading", "between", "comments", "ends"] if n <= 10 else ["leading"]):
                    name = f"{shape}-{n}-{style}"
                    size = case(tmp, name, docs, specs, rng, before, after, style=style,
                                outdir=not big, **opts)
                    done += 1
                    print(f"same: {name} ({len(docs)} documents, {size} bytes out)", file=sys.stderr)
                shuffled = list(docs)
                rng.shuffle(shuffled)
                case(tmp, f"{shape}-{n}-shuffled", shuffled, specs, rng, before, after, outdir=False, plugin=False,
                     **{k: v for k, v in opts.items() if k != "outdir"})
                done += 1
            # A re-render of regcred's own output: managed Secrets replaced in place.
            for shape in ("plain", "registries"):
                d = os.path.join(tmp, f"{shape}-{n}-leading")
                code, out, err = run(after, ["render", "-f", os.path.join(d, "spec0.yaml"), os.path.join(d, "in")])
                if code == 0:
                    docs = [x for x in out.decode().split("---\n") if x]
                    with open(os.path.join(d, "spec0.yaml")) as f:
                        spec_text = f.read()
                    case(tmp, f"rerender-{shape}-{n}", docs, [spec_text], rng, before, after, outdir=False)
                    done += 1
    except Diff as e:
        print(f"DIFFERENT: {e}\ninputs kept in {tmp}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"inputs kept in {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{done} cases: the two binaries wrote the same bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
