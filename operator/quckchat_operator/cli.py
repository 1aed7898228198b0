"""`quckchat-operator`: run the operator, generate the CRDs, print what a cluster would create."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from quckchat_operator import crds, naming
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.meta import Cluster, InvalidCluster

EXIT_DRIFT = 1
EXIT_USAGE = 2


def _cmd_crds(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.check:
        problems = crds.drift(out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `quckchat-operator crds` to regenerate", file=sys.stderr)
            return EXIT_DRIFT
        return 0
    for path in crds.write(out):
        print(path)
    return 0


def _load_cluster(source: str) -> dict[str, Any]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    for document in yaml.safe_load_all(text):
        if isinstance(document, dict) and document.get("kind") == naming.CLUSTER.kind:
            return document
    raise InvalidCluster([f"{source}: no {naming.CLUSTER.kind} in the file"])


def _cmd_render(args: argparse.Namespace) -> int:
    try:
        cluster = Cluster.from_manifest(_load_cluster(args.filename))
    except (OSError, yaml.YAMLError) as exc:
        print(f"quckchat-operator render: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidCluster as exc:
        print(f"quckchat-operator render: invalid {args.filename}:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(yaml.safe_dump_all(render_cluster(cluster), sort_keys=False))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    # Imported here: the other commands need neither Kopf nor a cluster.
    import kopf

    import quckchat_operator.handlers  # noqa: F401  (registers the handlers)
    from quckchat_operator import metrics

    kopf.configure(verbose=args.verbose)
    if args.metrics_port:
        metrics.serve(args.metrics_port)
    kopf.run(
        clusterwide=args.all_namespaces,
        namespaces=args.namespace or (),
        standalone=args.standalone,
        peering_name=args.peering,
        liveness_endpoint=args.liveness,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quckchat-operator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the operator against the current kubeconfig's cluster")
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "-n", "--namespace", action="append", help="a namespace to serve (repeatable, globs)"
    )
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="serve every namespace")
    p.add_argument(
        "--standalone", action="store_true", help="no peering: do not stand by for another replica"
    )
    p.add_argument("--peering", help="Kopf peering object (default: Kopf's own)")
    p.add_argument("--liveness", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("crds", help="write the CRDs generated from the models")
    p.add_argument("--out", type=Path, default=Path("crds"), help="directory (default: crds)")
    p.add_argument("--check", action="store_true", help="exit 1 if the directory has drifted")
    p.set_defaults(func=_cmd_crds)

    p = sub.add_parser("render", help="print every object a QuckChatCluster would create")
    p.add_argument("-f", "--filename", required=True, help="a QuckChatCluster YAML, or -")
    p.set_defaults(func=_cmd_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
