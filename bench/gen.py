#!/usr/bin/env python3
"""Input generator for the regcred benchmark (bench/run).

Python 3 standard library only. Writes everything into a directory the
caller chooses (bench/run uses a temporary one): generated data is never
committed.

    gen.py sa DIR --namespaces N          case (a): spec + N Namespaces + 2N ServiceAccounts
                                          (DIR/input.yaml for `render`, DIR/rl.yaml for KRM mode)
    gen.py deployments DIR --deployments N --namespaces M
                                          case (b): DIR/rl.yaml, a ResourceList of N Deployments
    gen.py kustomize DIR --namespaces N   case (b): DIR/plain and DIR/regcred kustomizations
                                          (Namespace + ServiceAccount + ConfigMap per namespace)
    gen.py small DIR --names N            case (c): a spec with 3 registries and N names, no input
    gen.py registries DIR --registries N  scaling: a spec with N registries (passwords from the
                                          environment variable BENCH_PASSWORD) and 20 names
    gen.py accounts DIR --namespaces N --per-namespace K
                                          scaling: N namespaces with K ServiceAccounts each, all selected
    gen.py specs DIR --specs N --namespaces M
                                          scaling: N specs (one file, distinct Secret names) over M namespaces

`sa --selector` gives the spec a label selector (half the namespaces match);
`deployments` also writes DIR/stream.yaml (the same Deployments as a stream)
and DIR/spec.yaml, and `--inject` turns on `spec.inject.workloads` there.

Every spec uses three registries whose credentials come from files (the
realistic setup: no literal password, so no warning), relative to DIR.
"""

import argparse
import json
import os
import sys

API = "regcred.dev/v1alpha1"


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_creds(root):
    """Credential files the specs point at (relative to the spec's root)."""
    write(os.path.join(root, "creds", "ghcr-user"), "octo-bot\n")
    write(
        os.path.join(root, "creds", "tokens.yaml"),
        "tokens:\n  example: 's3cr3t-Ex@mple:pa$$'\n  ghcr: ghp_0123456789abcdefghijABCDEFGHIJ\n  quay: 'quay+robot:tok\"en'\n",
    )
    write(os.path.join(root, "creds", "quay.env"), "QUAY_USER=quay+robot\nQUAY_EMAIL=ops@example.com\n")


def spec_text(indent="", names=None, function_annotation=False, include=None, sa_include=None,
              selector=None, inject=False):
    """A RegistryCredentials spec with 3 registries, as YAML lines indented by `indent`."""
    lines = [
        f"apiVersion: {API}",
        "kind: RegistryCredentials",
        "metadata:",
        "  name: regcred",
    ]
    if function_annotation:
        lines += [
            "  annotations:",
            "    config.kubernetes.io/function: |",
            "      exec:",
            "        path: regcred",
        ]
    lines += [
        "spec:",
        "  secretName: regcred-pull",
        "  registries:",
        "  - server: registry.example.com:5000",
        "    username: robot$ci",
        "    password: {file: creds/tokens.yaml, key: tokens.example}",
        "    email: ops@example.com",
        "  - server: ghcr.io",
        "    username: {file: creds/ghcr-user}",
        "    password: {file: creds/tokens.yaml, key: '[\"tokens\"][\"ghcr\"]'}",
        "  - server: quay.io",
        "    username: {file: creds/quay.env, key: QUAY_USER}",
        "    password: {file: creds/tokens.yaml, key: tokens.quay}",
        "    email: {file: creds/quay.env, key: QUAY_EMAIL}",
        "  namespaces:",
    ]
    if include is not None:
        lines.append("    include: [" + ", ".join(json.dumps(p) for p in include) + "]")
    if selector:
        lines += ["    selector:", "      matchLabels: {" + selector + "}"]
    lines.append("    exclude: [\"sandbox-*\"]")
    if names:
        lines.append("    names:")
        lines += [f"    - {n}" for n in names]
    lines += [
        "  serviceAccounts:",
        "    include: [" + ", ".join(json.dumps(p) for p in (sa_include or ["default"])) + "]",
        "  secret:",
        "    annotations:",
        "      argocd.argoproj.io/sync-wave: \"-1\"",
    ]
    if inject:
        lines += ["  inject:", "    workloads: true"]
    return "".join(indent + l + "\n" for l in lines)


# --- case (a): Namespaces and ServiceAccounts ------------------------------

def ns_name(i):
    return f"team-{i:05d}"


def sa_objects(n):
    """Yields (kind, yaml lines) for N namespaces with 2 ServiceAccounts each."""
    for i in range(n):
        ns = ns_name(i)
        yield [
            "apiVersion: v1",
            "kind: Namespace",
            "metadata:",
            f"  name: {ns}",
            "  labels:",
            f"    kubernetes.io/metadata.name: {ns}",
            f"    team: t{i % 2}",
        ]
        yield [
            "apiVersion: v1",
            "kind: ServiceAccount",
            "metadata:",
            "  name: default",
            f"  namespace: {ns}",
        ]
        yield [
            "apiVersion: v1",
            "kind: ServiceAccount",
            "metadata:",
            "  name: app",
            f"  namespace: {ns}",
            "  labels:",
            "    app.kubernetes.io/name: app",
            "imagePullSecrets:",
            "- name: legacy-pull",
        ]


def as_stream(objs):
    out = []
    for lines in objs:
        out.append("---\n")
        out.extend(l + "\n" for l in lines)
    return "".join(out)


def as_items(objs, full_annotations=True):
    """kustomize-shaped ResourceList items, with the bookkeeping annotations
    kustomize adds (all three, or only the index when `full_annotations` is
    false, to keep the Deployment list near its target size)."""
    out = []
    for idx, lines in enumerate(objs):
        body = list(lines)
        meta = body.index("metadata:")
        ann = ["  annotations:", f"    internal.config.kubernetes.io/index: '{idx}'"]
        if full_annotations:
            ann += ["    config.kubernetes.io/index: '0'", f"    internal.config.kubernetes.io/id: '{idx + 1}'"]
        end = meta + 1
        while end < len(body) and body[end].startswith("  "):
            end += 1
        body[end:end] = ann
        out.append("- " + body[0] + "\n")
        out.extend("  " + l + "\n" for l in body[1:])
    return "".join(out)


def resource_list(items_text, indent_spec):
    return (
        "apiVersion: config.kubernetes.io/v1\n"
        "kind: ResourceList\n"
        "items:\n" + items_text + "functionConfig:\n" + indent_spec
    )


def gen_sa(d, n, selector=False):
    write_creds(d)
    sel = "team: t1" if selector else None
    write(os.path.join(d, "spec.yaml"), spec_text(sa_include=["default", "app"], selector=sel))
    objs = list(sa_objects(n))
    write(os.path.join(d, "input.yaml"), as_stream(objs))
    write(os.path.join(d, "rl.yaml"), resource_list(as_items(objs), spec_text(indent="  ", function_annotation=True, sa_include=["default", "app"])))
    print(json.dumps({"namespaces": n, "service_accounts": 2 * n, "objects": len(objs)}))


# --- case (b): Deployments pass-through ------------------------------------

def deployment(i, ns):
    """A compact but realistic Deployment (labels, container, env, resources,
    probe): about 500 bytes once kustomize's index annotation is added, so
    20,000 of them make a ResourceList of about 10 MB."""
    name = f"svc-{i:05d}"
    return [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {ns}",
        "  labels:",
        f"    app: {name}",
        "spec:",
        "  selector:",
        "    matchLabels:",
        f"      app: {name}",
        "  template:",
        "    metadata:",
        "      labels:",
        f"        app: {name}",
        "    spec:",
        "      containers:",
        "      - name: app",
        f"        image: ghcr.io/shop/{name}:1.4",
        "        env:",
        "        - name: LOG_LEVEL",
        "          value: info",
        "        resources:",
        "          requests:",
        "            memory: 128Mi",
        "        readinessProbe:",
        "          httpGet:",
        "            path: /healthz",
        "            port: 8080",
    ]


def gen_deployments(d, n, namespaces, inject=False):
    write_creds(d)
    objs = [deployment(i, ns_name(i % namespaces)) for i in range(n)]
    text = resource_list(as_items(objs, full_annotations=False),
                         spec_text(indent="  ", function_annotation=True, inject=inject))
    write(os.path.join(d, "rl.yaml"), text)
    stream = as_stream(objs)
    write(os.path.join(d, "stream.yaml"), stream)
    write(os.path.join(d, "spec.yaml"), spec_text(inject=inject))
    print(json.dumps({"deployments": n, "namespaces": namespaces, "bytes": len(text.encode()),
                      "stream_bytes": len(stream.encode())}))


# --- scaling cases -----------------------------------------------------------

def gen_registries(d, n):
    """A spec with n registries and 20 names (passwords from BENCH_PASSWORD)."""
    lines = [f"apiVersion: {API}", "kind: RegistryCredentials", "metadata:", "  name: regcred", "spec:",
             "  registries:"]
    for i in range(n):
        lines += [f"  - server: r{i:06d}.example.com", "    username: robot", "    password: {env: BENCH_PASSWORD}"]
    lines += ["  namespaces:", "    names: [" + ", ".join(f"app-{i:02d}" for i in range(20)) + "]"]
    write(os.path.join(d, "spec.yaml"), "".join(l + "\n" for l in lines))
    print(json.dumps({"registries": n}))


def gen_accounts(d, n, per):
    """n namespaces with `per` ServiceAccounts each; the spec selects them all."""
    write_creds(d)
    write(os.path.join(d, "spec.yaml"), spec_text(sa_include=["*"]))
    objs = []
    for i in range(n):
        ns = ns_name(i)
        objs.append(["apiVersion: v1", "kind: Namespace", "metadata:", f"  name: {ns}"])
        for k in range(per):
            objs.append(["apiVersion: v1", "kind: ServiceAccount", "metadata:", f"  name: sa-{k:06d}",
                         f"  namespace: {ns}"])
    write(os.path.join(d, "input.yaml"), as_stream(objs))
    print(json.dumps({"namespaces": n, "service_accounts": n * per}))


def gen_specs(d, n, namespaces):
    """n specs in one file, each with its own Secret name, over `namespaces` namespaces."""
    write_creds(d)
    docs = [spec_text().replace("secretName: regcred-pull", f"secretName: pull-{i:04d}")
            .replace("  name: regcred\n", f"  name: spec-{i:04d}\n", 1) for i in range(n)]
    write(os.path.join(d, "spec.yaml"), "---\n".join(docs))
    write(os.path.join(d, "input.yaml"), as_stream(sa_objects(namespaces)))
    print(json.dumps({"specs": n, "namespaces": namespaces}))


# --- case (b): kustomize with and without the legacy plugin ----------------

def kustomize_objects(n):
    for i in range(n):
        ns = ns_name(i)
        yield ["apiVersion: v1", "kind: Namespace", "metadata:", f"  name: {ns}"]
        yield ["apiVersion: v1", "kind: ServiceAccount", "metadata:", "  name: default", f"  namespace: {ns}"]
        yield [
            "apiVersion: v1",
            "kind: ConfigMap",
            "metadata:",
            "  name: app-config",
            f"  namespace: {ns}",
            "data:",
            "  LOG_LEVEL: info",
            "  FEATURE_X: \"on\"",
        ]


def gen_kustomize(d, n):
    resources = as_stream(kustomize_objects(n))
    for variant in ("plain", "regcred"):
        root = os.path.join(d, variant)
        write(os.path.join(root, "resources.yaml"), resources)
        k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- resources.yaml\n"
        if variant == "regcred":
            write_creds(root)
            write(os.path.join(root, "regcred.yaml"), spec_text())
            k += "transformers:\n- regcred.yaml\n"
        write(os.path.join(root, "kustomization.yaml"), k)
    print(json.dumps({"namespaces": n, "resources": 3 * n}))


# --- case (c): small spec, no input ----------------------------------------

def gen_small(d, n):
    write_creds(d)
    names = [f"app-{i:02d}" for i in range(n)]
    write(os.path.join(d, "spec.yaml"), spec_text(names=names))
    print(json.dumps({"names": n}))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="case", required=True)
    a = sub.add_parser("sa")
    a.add_argument("dir")
    a.add_argument("--namespaces", type=int, default=10000)
    b = sub.add_parser("deployments")
    b.add_argument("dir")
    b.add_argument("--deployments", type=int, default=20000)
    b.add_argument("--namespaces", type=int, default=100)
    k = sub.add_parser("kustomize")
    k.add_argument("dir")
    k.add_argument("--namespaces", type=int, default=1000)
    c = sub.add_parser("small")
    c.add_argument("dir")
    c.add_argument("--names", type=int, default=20)
    r = sub.add_parser("registries")
    r.add_argument("dir")
    r.add_argument("--registries", type=int, default=1000)
    acc = sub.add_parser("accounts")
    acc.add_argument("dir")
    acc.add_argument("--namespaces", type=int, default=10)
    acc.add_argument("--per-namespace", type=int, default=1000)
    sp = sub.add_parser("specs")
    sp.add_argument("dir")
    sp.add_argument("--specs", type=int, default=10)
    sp.add_argument("--namespaces", type=int, default=100)
    a.add_argument("--selector", action="store_true")
    b.add_argument("--inject", action="store_true")
    args = p.parse_args(argv)
    if args.case == "sa":
        gen_sa(args.dir, args.namespaces, args.selector)
    elif args.case == "deployments":
        gen_deployments(args.dir, args.deployments, args.namespaces, args.inject)
    elif args.case == "registries":
        gen_registries(args.dir, args.registries)
    elif args.case == "accounts":
        gen_accounts(args.dir, args.namespaces, args.per_namespace)
    elif args.case == "specs":
        gen_specs(args.dir, args.specs, args.namespaces)
    elif args.case == "kustomize":
        gen_kustomize(args.dir, args.namespaces)
    else:
        gen_small(args.dir, args.names)


if __name__ == "__main__":
    main(sys.argv[1:])
