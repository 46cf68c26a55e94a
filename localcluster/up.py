"""`up`: build (once), configure and start every component, then wait for a Ready node and working DNS."""

import subprocess
import time
from string import Template

from localcluster import (api, build, components, configs, deps, hostnet, images, paths, pki, preflight,
                          processes, state, versions)
from localcluster.down import down
from localcluster.errors import EXIT_COMPONENT, EXIT_PREFLIGHT, ClusterError
from localcluster.topology import CLUSTER_DOMAIN, NODE_NAME, Topology

# Named deadlines (seconds) for each stage of up.
TIMEOUTS = {"containerd": 30, "etcd": 30, "kube-apiserver": 90, "node-ready": 90, "coredns": 120}


def wait_for(what: str, probe, timeout_s: float, components_alive: list[str], consecutive: int = 1) -> None:
    """Poll probe until it holds `consecutive` times in a row; fail fast when a component exits."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while time.monotonic() < deadline:
        for name in components_alive:
            processes.ensure_running(name)
        streak = streak + 1 if probe() else 0
        if streak >= consecutive:
            return
        time.sleep(0.5)
    culprit = components_alive[-1] if components_alive else "up"
    raise ClusterError(f"{what} not reached within {timeout_s}s", EXIT_COMPONENT,
                       str(paths.log_file(culprit)))


def _kubectl(bins, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(bins / "kubectl"), f"--kubeconfig={paths.ADMIN_KUBECONFIG}", *args],
                          input=stdin, capture_output=True, text=True)


def _coredns_manifest(topology: Topology) -> str:
    corefile = Template((configs.TEMPLATES / "Corefile").read_text()).substitute(
        cluster_domain=topology.cluster_domain)
    ips = topology.dns_ips
    return Template((configs.TEMPLATES / "coredns.yaml").read_text()).substitute(
        corefile="\n".join("    " + line for line in corefile.splitlines()),
        image=versions.IMAGES["coredns"], dns_ip=ips[0], dns_ips="[" + ", ".join(ips) + "]",
        family_policy="RequireDualStack" if len(ips) > 1 else "SingleStack")


def dns_answers(topology: Topology) -> bool:
    """From the node: every kube-dns address answers kubernetes.default with the kubernetes ClusterIP.

    The `kubernetes` Service is single-stack in the primary family, also on dual-stack clusters.
    """
    import dns.message
    import dns.query

    want = topology.kubernetes_service_ips[0]
    rdtype = "AAAA" if ":" in want else "A"
    query = dns.message.make_query(f"kubernetes.default.svc.{topology.cluster_domain}.", rdtype)
    for server in topology.dns_ips:
        try:
            reply = dns.query.udp(query, server, timeout=1.0)
        except Exception:  # noqa: BLE001 - any failure means "not answering yet"
            return False
        if {r.to_text() for rrset in reply.answer for r in rrset} != {want}:
            return False
    return True


def _start_control_plane(bins, topology: Topology, say) -> None:
    started = []

    def start(name: str, argv: list[str]) -> None:
        processes.start(name, argv)
        started.append(name)

    start("containerd", components.containerd(configs.containerd_config()))
    wait_for("containerd socket", paths.CONTAINERD_SOCK.exists, TIMEOUTS["containerd"], started)
    say("importing images")
    images.import_all(images.ensure_archives(bins))
    start("etcd", components.etcd())
    wait_for("etcd health", lambda: _http_ok("http://127.0.0.1:2381/health"), TIMEOUTS["etcd"], started)
    start("kube-apiserver", components.kube_apiserver(bins, topology))
    wait_for("kube-apiserver /readyz", lambda: api.get(topology.apiserver_url, "/readyz")[0] == 200,
             TIMEOUTS["kube-apiserver"], started, consecutive=2)
    start("kube-controller-manager", components.kube_controller_manager(bins, topology))
    start("kube-scheduler", components.kube_scheduler(bins))
    start("kubelet", components.kubelet(bins, topology))
    start("kube-proxy", components.kube_proxy(bins))
    say("waiting for the node to be Ready")
    wait_for(f"node {NODE_NAME} Ready", lambda: api.node_ready(topology.apiserver_url, NODE_NAME),
             TIMEOUTS["node-ready"], started)


def _http_ok(url: str) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def up(proxy_mode: str, ip_family: str, say=print, cluster_domain: str = CLUSTER_DOMAIN) -> None:
    current = state.load()
    if current and all(processes.pid_of(n) for n in components.ORDER):
        have = (current["proxy_mode"], current["ip_family"], current.get("cluster_domain", CLUSTER_DOMAIN))
        if have != (proxy_mode, ip_family, cluster_domain):
            raise ClusterError(f"a cluster is already up with --proxy-mode {have[0]} --ip-family {have[1]} "
                               f"--cluster-domain {have[2]}; run `down` first", EXIT_PREFLIGHT)
        say("cluster is already up")
        return
    if current and any(processes.pid_of(n) for n in components.ORDER):
        raise ClusterError("a previous cluster was not fully stopped; run `python -m localcluster down` first",
                           EXIT_PREFLIGHT)
    if current:
        # None of its processes runs (a reboot, a killed session): its leftovers are ours to undo.
        say("a previous cluster's record remains but none of its processes runs; removing its leftovers first")
        down(say)
    deps.ensure(say)           # a fresh machine: install the Debian packages, saying so
    preflight.run_all(ip_family)
    topology = Topology(ip_family, cluster_domain)
    t0 = time.monotonic()
    bins = build.ensure_binaries(say)
    say(f"binaries ready in {time.monotonic() - t0:.0f}s ({bins})")
    # From here on the host changes: record the baseline first so `down` can undo everything.
    state.save({"proxy_mode": proxy_mode, "ip_family": ip_family, "cluster_domain": cluster_domain, "bins": str(bins),
                "baseline": hostnet.inventory(), "started": time.time()})
    for d in (paths.LOGS, paths.CONFIG, paths.PIDS, paths.KUBELET_ROOT):
        d.mkdir(parents=True, exist_ok=True)
    hostnet.setup(topology)
    pki.ensure(topology)
    for client in ("admin", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"):
        target = paths.ADMIN_KUBECONFIG if client == "admin" else paths.CONFIG / f"{client}.kubeconfig"
        configs.kubeconfig(target, topology, client)
    configs.cni_conflist(topology)
    configs.resolv_conf()
    configs.kubelet_config(topology)
    configs.kube_proxy_config(topology, proxy_mode)
    _start_control_plane(bins, topology, say)
    say("deploying CoreDNS")
    applied = _kubectl(bins, "apply", "-f", "-", stdin=_coredns_manifest(topology))
    if applied.returncode != 0:
        paths.log_file("addons").write_text(applied.stdout + applied.stderr)
        raise ClusterError("applying CoreDNS failed", EXIT_COMPONENT, str(paths.log_file("addons")))
    wait_for("CoreDNS answering on the kube-dns ClusterIP", lambda: dns_answers(topology),
             TIMEOUTS["coredns"], list(components.ORDER), consecutive=3)
    say(f"cluster up in {time.monotonic() - t0:.0f}s; export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
