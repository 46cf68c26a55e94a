"""End-to-end fixtures: a local cluster that is up for the session, and a client of its API.

`local_cluster` never takes down a cluster it did not start. It starts one (and stops it at the end)
only when `python -m localcluster status` fails and no cluster record exists; its options then come
from LOCALCLUSTER_PROXY_MODE / LOCALCLUSTER_IP_FAMILY / LOCALCLUSTER_CLUSTER_DOMAIN / LOCALCLUSTER_NODES
(default iptables / ipv4 / cluster.local / 1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import config

from e2e_support import FAMILIES, LockBusy, Timings, cluster_lock, localcluster_cli, tail
from localcluster import paths, state, versions
from localcluster.errors import EXIT_PREFLIGHT
from localcluster.topology import IP_FAMILIES, PROXY_MODES

UP_TIMEOUT_S = 3600      # a first `up` builds the binaries from source
DOWN_TIMEOUT_S = 300
LOCK_WAIT_S = 1800
TIMINGS_KEY = pytest.StashKey[Timings]()


@dataclass(frozen=True)
class LocalCluster:
    kubeconfig: Path
    proxy_mode: str
    ip_family: str
    started_here: bool
    cluster_domain: str = "cluster.local"
    nodes: int = 1
    network_policy: bool = False        # NetworkPolicy enforced (up --network-policy)
    shape: str = "local"                # up --shape: "kubeadm" runs kube-proxy as a DaemonSet, CoreDNS x2
    cni: str = "routes"                 # up --cni: "flannel" carries cross-node pod traffic over VXLAN

    @property
    def families(self) -> list[str]:
        return FAMILIES[self.ip_family]


def _requested_options() -> tuple[str, str]:
    mode = os.environ.get("LOCALCLUSTER_PROXY_MODE", "iptables")
    family = os.environ.get("LOCALCLUSTER_IP_FAMILY", "ipv4")
    if mode not in PROXY_MODES or family not in IP_FAMILIES:
        raise pytest.UsageError(f"LOCALCLUSTER_PROXY_MODE={mode!r} / LOCALCLUSTER_IP_FAMILY={family!r}: "
                                f"expected one of {PROXY_MODES} / {IP_FAMILIES}")
    return mode, family


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    # Shared with other sessions/workers using the cluster; waits while a lifecycle test runs.
    try:
        with cluster_lock(exclusive=False, wait_s=LOCK_WAIT_S):
            yield from _local_cluster()
    except LockBusy as exc:
        pytest.fail(f"{exc} for more than {LOCK_WAIT_S}s", pytrace=False)


def _local_cluster():
    started_here = False
    if localcluster_cli("status").returncode != 0:
        mode, family = _requested_options()
        # A record means someone else's cluster (starting, broken or briefly unhealthy): `up` may
        # find it running and return 0, but it is not ours to take down.
        foreign = state.load() is not None
        domain = os.environ.get("LOCALCLUSTER_CLUSTER_DOMAIN", "cluster.local")
        nodes = os.environ.get("LOCALCLUSTER_NODES", "1")
        policy = ["--network-policy"] if os.environ.get("LOCALCLUSTER_NETWORK_POLICY") == "1" else []
        release = os.environ.get("LOCALCLUSTER_KUBERNETES_VERSION", versions.DEFAULT_RELEASE)
        shape = os.environ.get("LOCALCLUSTER_SHAPE", "local")
        cni = os.environ.get("LOCALCLUSTER_CNI", "routes")
        up = localcluster_cli("up", "--kubernetes-version", release, "--proxy-mode", mode, "--ip-family", family,
                              "--cluster-domain", domain, "--nodes", nodes, "--shape", shape, "--cni", cni, *policy,
                              timeout_s=UP_TIMEOUT_S)
        if up.returncode != 0:
            if not foreign:
                localcluster_cli("down", timeout_s=DOWN_TIMEOUT_S)   # undo our partial up
            message = f"`python -m localcluster up` exited {up.returncode}:\n{tail(up)}"
            if up.returncode == EXIT_PREFLIGHT and not foreign:
                pytest.skip(f"blocked by environment: {message}")
            pytest.fail(message, pytrace=False)
        started_here = not foreign
    doc = state.load()
    if doc is None:
        pytest.fail(f"the cluster is up but {paths.CLUSTER_FILE} is unreadable", pytrace=False)
    versions.use(doc.get("kubernetes_version"))        # what the tests build and compare is the cluster's
    yield LocalCluster(paths.ADMIN_KUBECONFIG, doc["proxy_mode"], doc["ip_family"], started_here,
                       doc.get("cluster_domain", "cluster.local"), doc.get("nodes", 1),
                       bool(doc.get("network_policy")), doc.get("shape", "local"), doc.get("cni", "routes"))
    if started_here:
        down = localcluster_cli("down", timeout_s=DOWN_TIMEOUT_S)
        assert down.returncode == 0, f"`python -m localcluster down` exited {down.returncode}:\n{tail(down)}"


@pytest.fixture(scope="session")
def kube_api(local_cluster):
    """kubernetes.client.ApiClient with the cluster's admin credentials."""
    api_client = config.new_client_from_config(config_file=str(local_cluster.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="session")
def e2e_timings(request) -> Timings:
    """Measurements (seconds) listed in the terminal summary."""
    return request.config.stash.setdefault(TIMINGS_KEY, Timings())


def pytest_terminal_summary(terminalreporter, config):
    timings = config.stash.get(TIMINGS_KEY, None)
    if timings and timings.values:
        terminalreporter.section("e2e timings")
        for name, seconds in timings.values.items():
            terminalreporter.write_line(f"{name:<56} {seconds:8.2f} s")


def pytest_addoption(parser):
    parser.addoption("--faults", default="ci",
                     help="fault catalogue entries to run (tests/e2e/faults.yaml): ci (default), all, or name,name")
    parser.addoption("--on-demand", action="store_true",
                     help="also run the on-demand conditions (marked on_demand: API Priority and Fairness "
                          "throttling, tainted nodes, a ghost node; CI runs the ghost node on 3 nodes)")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--on-demand"):
        kept = [i for i in items if i.get_closest_marker("on_demand") is None]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
    # The lifecycle tests own the machine's cluster (up/down): they must run before any test that
    # holds the shared `local_cluster` for the rest of the session.
    items.sort(key=lambda item: 0 if "test_lifecycle" in item.nodeid else 1)
