"""Command line of the local cluster; errors become one line and a distinct exit status."""

import argparse
import re
import sys

from localcluster import paths, state, versions
from localcluster.errors import EXIT_NOT_UP, ClusterError
from localcluster.topology import CLUSTER_DOMAIN, IP_FAMILIES, MAX_NODES, PROXY_MODES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build (once) and start the cluster")
    up.add_argument("--kubernetes-version", choices=sorted(versions.RELEASES), default=versions.DEFAULT_RELEASE,
                    help="the Kubernetes minor release (its pinned newest patch; default %(default)s)")
    up.add_argument("--proxy-mode", choices=PROXY_MODES, default="iptables")
    up.add_argument("--ip-family", choices=IP_FAMILIES, default="ipv4")
    up.add_argument("--cluster-domain", type=_domain, default=CLUSTER_DOMAIN,
                    help="the cluster's DNS domain (kubelet clusterDomain, CoreDNS zone)")
    up.add_argument("--nodes", type=_node_count, default=1,
                    help=f"number of nodes (1 to {MAX_NODES}): node 0 runs the control plane, each further node "
                         "is a network namespace with its own containerd, kubelet and kube-proxy")
    up.add_argument("--kube-proxy-config", type=_kube_proxy_setting, action="append", default=[],
                    metavar="KEY=VALUE", help="set a KubeProxyConfiguration field on every node (repeatable; "
                    "dotted, e.g. iptables.minSyncPeriod=10s)")
    up.add_argument("--network-policy", action="store_true",
                    help="enforce NetworkPolicy with kube-network-policies (a DaemonSet on every node)")
    up.add_argument("--cni", choices=("routes", "flannel"), default="routes",
                    help="flannel: flannel's VXLAN overlay between the nodes (a flanneld per node, as k3s runs it); "
                         "routes (default): each node routes the others' pod ranges over the node bridge")
    up.add_argument("--shape", choices=("local", "kubeadm"), default="local",
                    help="kubeadm: kube-proxy as kubeadm's DaemonSet and ConfigMap, CoreDNS as kubeadm's addon "
                         "(2 replicas, forward to the nodes' resolver, loop), the control-plane node tainted when "
                         "there are workers; local (default): kube-proxy as a process per node, one CoreDNS")
    sub.add_parser("status", help="components, versions, health; exit 0 only when all healthy")
    sub.add_parser("kubeconfig", help="print the admin kubeconfig path")
    sub.add_parser("down", help="stop everything and remove what up created")
    sub.add_parser("install-deps", help="apt-get install the Debian packages the cluster needs")
    build = sub.add_parser("build", help="build the binaries and images (cached) without starting anything")
    build.add_argument("--kubernetes-version", choices=sorted(versions.RELEASES), default=versions.DEFAULT_RELEASE)
    return parser


def _node_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a node count from 1 to {MAX_NODES}")
    return int(text)


def _kube_proxy_setting(text: str) -> dict:
    from localcluster.configs import parse_setting
    try:
        return parse_setting(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _domain(text: str) -> str:
    name = text.strip().rstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", name):
        raise argparse.ArgumentTypeError(f"{text!r} is not a DNS domain")
    return name


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    say = lambda msg: print(f"localcluster: {msg}", flush=True)  # noqa: E731
    try:
        if args.command == "up":
            from localcluster.up import up
            from localcluster.configs import merge
            overrides: dict = {}
            for setting in args.kube_proxy_config:
                overrides = merge(overrides, setting)
            up(args.proxy_mode, args.ip_family, say, cluster_domain=args.cluster_domain, node_count=args.nodes,
               kube_proxy_overrides=overrides, network_policy=args.network_policy,
               release=args.kubernetes_version, shape=args.shape, cni=args.cni)
        elif args.command == "down":
            from localcluster.down import down
            down(say)
        elif args.command == "status":
            from localcluster.status import status
            return 0 if status() else 1
        elif args.command == "kubeconfig":
            if state.load() is None:
                raise ClusterError("no cluster is up (run `python -m localcluster up`)", EXIT_NOT_UP)
            print(paths.ADMIN_KUBECONFIG)
        elif args.command == "install-deps":
            from localcluster import deps
            deps.install()
        elif args.command == "build":
            from localcluster import build, images
            versions.use(args.kubernetes_version)
            images.ensure_archives(build.ensure_binaries(say), build.ensure_suite_agnhost(say))
    except ClusterError as err:
        if args.command == "up":
            err.log = paths.preserve_logs(err.log)      # `down` removes the originals
        print(f"localcluster: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("localcluster: interrupted; run `python -m localcluster down` to clean up", file=sys.stderr)
        return 130
    return 0
