"""`up`: build (once), configure and start every component, then wait for a Ready node and working DNS."""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from localcluster import (addons, api, build, components, configs, deps, flannel, hostnet, images, kubeadm, nodes,
                          paths, pki, preflight, processes, state, versions)
from localcluster.down import down
from localcluster.errors import EXIT_COMPONENT, EXIT_PREFLIGHT, ClusterError
from localcluster.topology import CLUSTER_DOMAIN, Node, Topology

# Named deadlines (seconds) for each stage of up.
TIMEOUTS = {"containerd": 30, "etcd": 30, "kube-apiserver": 90, "node-ready": 90, "coredns": 120,
            "network-policy": 120, "kube-proxy": 120, "overlay": 90}


def wait_for(what: str, probe, timeout_s: float, components_alive: list[str], consecutive: int = 1,
             culprit: str | None = None, restartable: dict | None = None) -> None:
    """Poll probe until it holds `consecutive` times in a row; fail fast when a component exits, but start
    a component of `restartable` (name -> argv) once again first (seen: a kubelet exiting at start, once)."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    restartable = restartable if restartable is not None else {}     # shared: once per component
    while time.monotonic() < deadline:
        for name in components_alive:
            if name in restartable and processes.pid_of(name) is None:
                print(f"localcluster: {name} exited during startup; starting it once more "
                      f"(its log: {paths.log_file(name)})", flush=True)
                processes.start(name, restartable.pop(name))
            processes.ensure_running(name)
        streak = streak + 1 if probe() else 0
        if streak >= consecutive:
            return
        time.sleep(0.5)
    culprit = culprit or (components_alive[-1] if components_alive else "up")
    raise ClusterError(f"{what} not reached within {timeout_s}s", EXIT_COMPONENT,
                       str(paths.log_file(culprit)))


def _kubectl(bins, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(bins / "kubectl"), f"--kubeconfig={paths.ADMIN_KUBECONFIG}", *args],
                          input=stdin, capture_output=True, text=True)


def _apply(bins, what: str, manifest: str) -> None:
    applied = _kubectl(bins, "apply", "-f", "-", stdin=manifest)
    with paths.log_file("addons").open("a") as log:
        log.write(f"$ kubectl apply ({what})\n{applied.stdout}{applied.stderr}")
    if applied.returncode != 0:
        raise ClusterError(f"applying {what} failed", EXIT_COMPONENT, str(paths.log_file("addons")))


def _start_flannel(bins, flannel_bin, topology: Topology, started: list[str], say) -> None:
    """The nodes' pod ranges in their spec (as the node-ipam controller sets them), flannel's RBAC, then
    a flanneld per node; up waits for every node's overlay route to every other node's pods."""
    say(f"starting flannel {versions.FLANNEL} (VXLAN) on {topology.nodes} node(s)")
    for node in topology.node_list:
        patched = _kubectl(bins, "patch", "node", node.name, "--type=merge", "-p",
                           json.dumps(flannel.pod_cidr_patch(node)))
        if patched.returncode != 0 and "may not change once set" not in patched.stderr:
            raise ClusterError(f"setting the pod ranges of {node.name} failed: {patched.stderr.strip()}",
                               EXIT_COMPONENT, str(paths.log_file("addons")))
    _apply(bins, "flannel RBAC", flannel.rbac_manifest())
    for node in topology.node_list:
        argv, env = flannel.flanneld(flannel_bin, topology, node)
        processes.start(node.component("flanneld"), argv, env)
        started.append(node.component("flanneld"))
    if topology.nodes > 1:
        wait_for("flannel's overlay routes between every pair of nodes", lambda: not flannel.missing_routes(topology),
                 TIMEOUTS["overlay"], started, culprit="flanneld")


def _kubeadm_addons(bins, topology: Topology, proxy_mode: str, overrides: dict, module: Path, say) -> None:
    """What `kubeadm init` does after the control plane: label (and, with workers, taint) the
    control-plane node, deploy kube-proxy as a DaemonSet from its ConfigMap."""
    node0 = topology.node_list[0].name
    labelled = _kubectl(bins, "label", "node", node0, f"{kubeadm.CONTROL_PLANE_TAINT}=", "--overwrite")
    if labelled.returncode != 0:
        raise ClusterError(f"labelling {node0} as the control plane failed: {labelled.stderr.strip()}",
                           EXIT_COMPONENT, str(paths.log_file("addons")))
    say("deploying kube-proxy (kubeadm's DaemonSet and ConfigMap)")
    _apply(bins, "kube-proxy", kubeadm.kube_proxy_manifest(
        topology, kubeadm.kube_proxy_config(topology, proxy_mode, overrides), module))
    wait_for("kube-proxy Ready on every node", lambda: addons.daemonset_ready(topology, "kube-proxy"),
             TIMEOUTS["kube-proxy"], components.names(topology.nodes, topology.shape, topology.cni),
             culprit="addons")


def _start_control_plane(topology: Topology, say, bins, archives: list[Path]) -> list[str]:
    started: list[str] = []

    def start(name: str, argv: list[str]) -> None:
        processes.start(name, argv)
        started.append(name)

    node0 = topology.node_list[0]
    start("containerd", components.containerd(configs.containerd_config(), node0))
    wait_for("containerd socket", paths.CONTAINERD_SOCK.exists, TIMEOUTS["containerd"], started)
    say("importing images")
    images.import_all(archives)
    start("etcd", components.etcd())
    wait_for("etcd health", lambda: _http_ok("http://127.0.0.1:2381/health"), TIMEOUTS["etcd"], started)
    start("kube-apiserver", components.kube_apiserver(bins, topology))
    wait_for("kube-apiserver /readyz", lambda: api.get(topology.apiserver_url, "/readyz")[0] == 200,
             TIMEOUTS["kube-apiserver"], started, consecutive=2)
    start("kube-controller-manager", components.kube_controller_manager(bins, topology))
    start("kube-scheduler", components.kube_scheduler(bins))
    return started


def _prepare_worker(topology: Topology, node: Node, archives: list[Path], started: list[str]) -> None:
    """A further node's namespace, cgroup root and containerd with the images (before its kubelet)."""
    files = paths.for_node(node)
    try:
        nodes.setup(topology, node)
    except RuntimeError as err:
        raise ClusterError(f"node {node.name}: network setup failed: {err}", EXIT_COMPONENT) from None
    nodes.create_cgroup_root(node)
    name = node.component("containerd")
    processes.start(name, components.containerd(configs.containerd_config(node), node))
    started.append(name)
    wait_for(f"containerd socket of node {node.name}", files.containerd_sock.exists, TIMEOUTS["containerd"], [name])
    images.import_all(archives, files.containerd_sock, log_name=f"images-{node.name}")


def _start_nodes(bins, topology: Topology, archives: list[Path], started: list[str], say) -> None:
    workers = topology.node_list[1:]
    if workers:
        say(f"preparing {len(workers)} further node(s): network namespace, containerd, images")
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            for future in [pool.submit(_prepare_worker, topology, n, archives, started) for n in workers]:
                future.result()
        try:
            if topology.cni == "routes":         # flannel routes them over its overlay instead
                nodes.routes(topology)
        except RuntimeError as err:
            raise ClusterError(f"routes between the nodes' pod ranges: {err}", EXIT_COMPONENT) from None
    kubelets = {}
    for node in topology.node_list:
        daemons = [("kubelet", components.kubelet(bins, topology, node))]
        if topology.shape != "kubeadm":         # kubeadm's kube-proxy is a DaemonSet
            daemons.append(("kube-proxy", components.kube_proxy(bins, node)))
        for daemon, argv in daemons:
            processes.start(node.component(daemon), argv)
            started.append(node.component(daemon))
        kubelets[node.component("kubelet")] = components.kubelet(bins, topology, node)
    say(f"waiting for {topology.nodes} node(s) to be Ready")
    for node in topology.node_list:
        wait_for(f"node {node.name} Ready", lambda n=node: api.node_ready(topology.apiserver_url, n.name),
                 TIMEOUTS["node-ready"], started, culprit=node.component("kubelet"), restartable=kubelets)


def _node_configs(topology: Topology, proxy_mode: str, kube_proxy_overrides: dict) -> None:
    for node in topology.node_list:
        files = paths.for_node(node)
        for d in (files.config, files.kubelet_root):
            d.mkdir(parents=True, exist_ok=True)
        configs.kubeconfig(files.config / "kubelet.kubeconfig", topology, pki.kubelet_client(node.name))
        configs.cni_conflist(topology, node)
        configs.kubelet_config(topology, node)
        configs.kube_proxy_config(topology, proxy_mode, node, kube_proxy_overrides)


def _http_ok(url: str) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def up(proxy_mode: str, ip_family: str, say=print, cluster_domain: str = CLUSTER_DOMAIN, node_count: int = 1,
       kube_proxy_overrides: dict | None = None, network_policy: bool = False,
       release: str = versions.DEFAULT_RELEASE, shape: str = "local", cni: str = "routes") -> None:
    kube_proxy_overrides = kube_proxy_overrides or {}
    versions.use(release)
    current = state.load()
    running = components.of_record(current) if current else components.ORDER
    if current and all(processes.pid_of(n) for n in running):
        have = (current["proxy_mode"], current["ip_family"], current.get("cluster_domain", CLUSTER_DOMAIN),
                current.get("nodes", 1), bool(current.get("network_policy")),
                current.get("kubernetes_version", versions.DEFAULT_RELEASE), current.get("shape", "local"),
                current.get("cni", "routes"))
        if have != (proxy_mode, ip_family, cluster_domain, node_count, network_policy, release, shape, cni):
            raise ClusterError(f"a cluster is already up with --kubernetes-version {have[5]} --proxy-mode {have[0]} "
                               f"--ip-family {have[1]} --cluster-domain {have[2]} --nodes {have[3]} --shape {have[6]} "
                               f"--cni {have[7]}{' --network-policy' if have[4] else ''}; run `down` first",
                               EXIT_PREFLIGHT)
        say("cluster is already up")
        return
    if current and any(processes.pid_of(n) for n in running):
        raise ClusterError("a previous cluster was not fully stopped; run `python -m localcluster down` first",
                           EXIT_PREFLIGHT)
    if current:
        # None of its processes runs (a reboot, a killed session): its leftovers are ours to undo.
        say("a previous cluster's record remains but none of its processes runs; removing its leftovers first")
        down(say)
    if shape == "kubeadm" and versions.RELEASE.minor_number < (1, 35):
        raise ClusterError(f"--shape kubeadm needs a release whose CoreDNS is built with every plugin (1.35 or "
                           f"later); {versions.RELEASE.minor}'s local CoreDNS is a subset", EXIT_PREFLIGHT)
    deps.ensure(say)           # a fresh machine: install the Debian packages, saying so
    preflight.run_all(ip_family)
    topology = Topology(ip_family, cluster_domain, node_count, shape, cni)
    t0 = time.monotonic()
    bins = build.ensure_binaries(say)
    archives = images.ensure_archives(bins, build.ensure_suite_agnhost(say))
    if network_policy:
        archives.append(images.ensure_optional_archive("kube-network-policies", build.ensure_netpol(say)))
    flannel_bin = build.ensure_flannel(say) if cni == "flannel" else None
    say(f"binaries ready in {time.monotonic() - t0:.0f}s ({bins})")
    # From here on the host changes: record the baseline first so `down` can undo everything.
    state.save({"proxy_mode": proxy_mode, "ip_family": ip_family, "cluster_domain": cluster_domain,
                "nodes": node_count, "bins": str(bins), "baseline": hostnet.inventory(), "started": time.time(),
                "kube_proxy_overrides": kube_proxy_overrides, "network_policy": network_policy,
                "kubernetes_version": versions.RELEASE.minor, "shape": shape, "cni": cni})
    for d in (paths.LOGS, paths.CONFIG, paths.PIDS, paths.KUBELET_ROOT):
        d.mkdir(parents=True, exist_ok=True)
    hostnet.setup(topology)
    pki.ensure(topology)
    for client in ("admin", "kube-controller-manager", "kube-scheduler", "kube-proxy") + (("flannel",) if flannel_bin else ()):
        target = paths.ADMIN_KUBECONFIG if client == "admin" else paths.CONFIG / f"{client}.kubeconfig"
        configs.kubeconfig(target, topology, client)
    configs.resolv_conf(kubeadm.resolv_conf(topology) if shape == "kubeadm" else None)
    _node_configs(topology, proxy_mode, kube_proxy_overrides)
    if flannel_bin:
        (paths.CONFIG / "flannel-net-conf.json").write_text(json.dumps(flannel.net_conf(topology)) + "\n")
    started = _start_control_plane(topology, say, bins, archives)
    if shape == "kubeadm":
        corefile = paths.CONFIG / "node-resolver.Corefile"
        corefile.write_text(kubeadm.node_resolver_corefile(topology))
        processes.start("node-resolver", components.node_resolver(bins, corefile))
        started.append("node-resolver")
    _start_nodes(bins, topology, archives, started, say)
    if flannel_bin:
        _start_flannel(bins, flannel_bin, topology, started, say)
    daemons = components.names(node_count, shape, cni)
    module = kubeadm.module_dir() if shape == "kubeadm" else None      # its addon templates
    if module:
        _kubeadm_addons(bins, topology, proxy_mode, kube_proxy_overrides, module, say)
    if network_policy:
        _apply(bins, "kube-network-policies", addons.network_policy_manifest())
        wait_for("kube-network-policies Ready on every node", lambda: addons.network_policy_ready(topology),
                 TIMEOUTS["network-policy"], daemons, culprit="addons")
    say("deploying CoreDNS")
    if shape == "kubeadm":
        _apply(bins, "CoreDNS", kubeadm.coredns_manifest(topology, module))
        wait_for(f"{kubeadm.COREDNS_REPLICAS} CoreDNS replicas Ready",
                 lambda: addons.coredns_replicas_ready(topology, kubeadm.COREDNS_REPLICAS),
                 TIMEOUTS["coredns"], daemons, culprit="addons")
    else:
        _apply(bins, "CoreDNS", addons.coredns_manifest(topology))
    wait_for("CoreDNS answering on the kube-dns ClusterIP", lambda: addons.dns_answers(topology),
             TIMEOUTS["coredns"], daemons, consecutive=3)
    say(f"cluster up in {time.monotonic() - t0:.0f}s; export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
