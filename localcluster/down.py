"""`down`: stop every component, remove the pods' containers and network state, and verify it is gone."""

import shutil
import subprocess
from pathlib import Path

from localcluster import hostnet, paths, processes, state
from localcluster.errors import EXIT_CLEANUP, ClusterError
from localcluster.topology import Topology

CONTROL_PLANE = ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]


def _ctr(socket: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ctr", "--address", str(socket), "-n", "k8s.io", *args],
                          capture_output=True, text=True, timeout=60)


def _remove_containers(containerd: str, socket: Path) -> None:
    if processes.pid_of(containerd) is None:
        return
    for cid in _ctr(socket, "containers", "ls", "-q").stdout.split():
        _ctr(socket, "tasks", "kill", "-s", "SIGKILL", cid)
        _ctr(socket, "tasks", "delete", "--force", cid)
        _ctr(socket, "containers", "delete", cid)


def _kube_proxy_cleanup(doc: dict | None) -> None:
    binary = Path(doc["bins"]) / "kube-proxy" if doc and doc.get("bins") else None
    if binary and binary.exists():
        subprocess.run([str(binary), "--cleanup"], capture_output=True, timeout=60)


def leftovers(doc: dict | None) -> dict:
    found = hostnet.leftovers((doc or {}).get("baseline", {}))
    procs = processes.processes_matching(str(paths.RUN)) + processes.processes_matching(str(paths.STATE))
    procs += processes.pod_processes()
    if procs:
        found["processes"] = sorted(set(procs))
    if paths.STATE.exists():
        found["state_dir"] = [str(paths.STATE)]
    return found


def down(say=print) -> None:
    doc = state.load()
    if doc is None and not paths.STATE.exists() and not paths.RUN.exists():
        say("no cluster to stop")
        return
    node_list = Topology("ipv4", nodes=(doc or {}).get("nodes", 1)).node_list
    for node in node_list:
        processes.stop(node.component("kubelet"))
        processes.stop(node.component("kube-proxy"))
        processes.stop(node.component("flanneld"))      # --cni flannel
    processes.stop("node-resolver")      # the kubeadm shape's
    for name in CONTROL_PLANE:
        processes.stop(name)
    for node in node_list:
        _remove_containers(node.component("containerd"), paths.for_node(node).containerd_sock)
        processes.stop(node.component("containerd"))
    # Shims and containers outlive containerd; anything still naming our paths is ours.
    processes.kill_matching(str(paths.RUN))
    processes.kill_matching(str(paths.STATE))
    processes.kill_pod_processes()       # orphans of a crash: containerd could not stop them
    _kube_proxy_cleanup(doc)
    baseline = (doc or {}).get("baseline", {})
    hostnet.remove_iptables_chains()
    hostnet.remove_new_nft_tables(baseline)
    hostnet.remove_new_netns(baseline)      # a further node's rules and routes go with its namespace
    hostnet.unmount_all()
    hostnet.remove_interfaces()
    hostnet.remove_new_cgroups(baseline)
    shutil.rmtree(paths.RUN, ignore_errors=True)
    shutil.rmtree(paths.STATE, ignore_errors=True)
    remaining = leftovers(doc)
    if remaining:
        raise ClusterError(f"down left these behind: {remaining}", EXIT_CLEANUP)
    say("cluster down; nothing left behind")
