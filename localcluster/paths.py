"""Where the cluster keeps its state, its runtime files and its build cache."""

import os
from dataclasses import dataclass
from pathlib import Path

STATE = Path(os.environ.get("LOCALCLUSTER_STATE", "/var/lib/localcluster"))
RUN = Path(os.environ.get("LOCALCLUSTER_RUN", "/run/localcluster"))
CACHE = Path(os.environ.get("LOCALCLUSTER_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "localcluster"))

PKI = STATE / "pki"
LOGS = STATE / "logs"
PIDS = RUN / "pids"
CONFIG = STATE / "config"
ADMIN_KUBECONFIG = STATE / "admin.kubeconfig"
CLUSTER_FILE = STATE / "cluster.json"      # options of the running cluster + baseline for down
CONTAINERD_SOCK = RUN / "containerd.sock"
CNI_CONF_DIR = CONFIG / "cni"
KUBELET_ROOT = STATE / "kubelet"
ETCD_DATA = STATE / "etcd"

GOBUILD = Path(__file__).parent / "gobuild"


def log_file(component: str) -> Path:
    return LOGS / f"{component}.log"


@dataclass(frozen=True)
class NodeFiles:
    """Where one node keeps its containerd, kubelet and configs; node 0 keeps the paths above."""
    state: Path
    run: Path
    config: Path

    @property
    def containerd_sock(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def containerd_root(self) -> Path:
        return self.state / "containerd"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def kubelet_root(self) -> Path:
        return self.state / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.state / "pod-logs"

    @property
    def cni_conf_dir(self) -> Path:
        return self.config / "cni"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.state / "cni-ipam"


def node_files(index: int, name: str) -> NodeFiles:
    if index == 0:
        return NodeFiles(STATE, RUN, CONFIG)
    return NodeFiles(STATE / "nodes" / name, RUN / "nodes" / name, STATE / "nodes" / name / "config")


def for_node(node) -> NodeFiles:
    """The files of a topology.Node; None means node 0."""
    return node_files(0, "") if node is None else node_files(node.index, node.name)


def preserve_logs(log: str | None, keep: int = 3) -> str | None:
    """A failed `up` is usually followed by `down`, which removes STATE: copy the logs to the cache
    (the last `keep` failures) and return where the named log now is."""
    import shutil
    import time
    if not LOGS.exists():
        return log
    failed = CACHE / "failed-up-logs"
    target = failed / time.strftime("%Y%m%d-%H%M%S")
    shutil.copytree(LOGS, target, dirs_exist_ok=True)
    for old in sorted(failed.iterdir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    if log and Path(log).is_relative_to(LOGS):
        return str(target / Path(log).relative_to(LOGS))
    return log
