"""Where the cluster keeps its state, its runtime files and its build cache."""

import os
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
