"""Lifecycle of the local cluster: up, status, a second up, down, a second down, nothing left behind.

Only runs on a machine without a cluster: it skips when one is up (or half up, or being started), so it
never takes down a cluster it did not start. It does not use the `local_cluster` fixture for that reason.
Run it alone: `python -m pytest tests/e2e/test_lifecycle.py` on a machine where no cluster is up.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from e2e_support import LockBusy, cluster_lock, localcluster_cli, tail
from localcluster import hostnet, paths, processes, state
from localcluster.components import names
from localcluster.errors import EXIT_PREFLIGHT
from localcluster.topology import WORKER_NAME

pytestmark = pytest.mark.e2e

UP_TIMEOUT_S = 3600          # a first `up` builds the binaries from source
DOWN_TIMEOUT_S = 300
SECOND_UP_MAX_S = 30         # `up` on a running cluster only checks it is there


def _cluster_presence() -> str | None:
    """Why a cluster (ours or not) may exist on this machine; None when there is none."""
    if state.load() is not None:
        return f"a cluster record exists ({paths.CLUSTER_FILE})"
    for path in (paths.STATE, paths.RUN):
        if path.exists():
            return f"{path} exists (a cluster is starting, half up or not cleaned up)"
    procs = processes.processes_matching(str(paths.RUN)) + processes.processes_matching(str(paths.STATE))
    if procs:
        return f"processes of a cluster run: {sorted(set(procs))}"
    if localcluster_cli("status").returncode == 0:
        return "`python -m localcluster status` exits 0"
    return None


def _leftovers(baseline: dict) -> dict:
    found = hostnet.leftovers(baseline)
    procs = sorted(set(processes.processes_matching(str(paths.RUN))
                       + processes.processes_matching(str(paths.STATE))))
    if procs:
        found["processes"] = [f"{pid}: {_cmdline(pid)}" for pid in procs]
    for path in (paths.STATE, paths.RUN):
        if path.exists():
            found.setdefault("directories", []).append(str(path))
    return found


def _cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(gone)"


def _kill_every_cluster_process() -> None:
    for pid in set(processes.processes_matching(str(paths.RUN)) + processes.processes_matching(str(paths.STATE))
                   + [p for p in _component_pids().values() if p]):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while any(_component_pids().values()) and time.monotonic() < deadline:
        time.sleep(0.2)


def _component_pids(nodes: int = 3) -> dict[str, int | None]:
    return {name: processes.pid_of(name) for name in names(nodes)}


@pytest.mark.parametrize(("proxy_mode", "ip_family", "nodes"), [("iptables", "ipv4", 1), ("nftables", "dual", 3)],
                         ids=["iptables-ipv4-1node", "nftables-dual-3nodes"])
def test_up_status_down_leaves_nothing_behind(proxy_mode, ip_family, nodes, e2e_timings):
    try:
        with cluster_lock(exclusive=True):
            _lifecycle(proxy_mode, ip_family, nodes, e2e_timings)
    except LockBusy as exc:
        pytest.skip(f"another e2e test process uses the local cluster ({exc})")


def _lifecycle(proxy_mode: str, ip_family: str, nodes: int, e2e_timings) -> None:
    present = _cluster_presence()
    if present:
        pytest.skip(f"a local cluster is already up here ({present}); this test only brings down a "
                    "cluster it started itself")

    baseline = hostnet.inventory()     # before up changes anything on the host
    options = ("--proxy-mode", proxy_mode, "--ip-family", ip_family, "--nodes", str(nodes))
    started = True          # from here on a failed up may have left things behind: down in the finally
    try:
        t0 = time.monotonic()
        up = localcluster_cli("up", *options, timeout_s=UP_TIMEOUT_S)
        if up.returncode == EXIT_PREFLIGHT:
            pytest.skip(f"blocked by environment: up {' '.join(options)} refused:\n{tail(up)}")
        assert up.returncode == 0, f"up {' '.join(options)} exited {up.returncode}:\n{tail(up)}"
        e2e_timings.record(f"lifecycle {proxy_mode}/{ip_family}/{nodes} node(s): up", time.monotonic() - t0)

        status = localcluster_cli("status")
        assert status.returncode == 0, f"status after up exited {status.returncode}:\n{tail(status, 20)}"
        doc = state.load() or {}
        observed = (doc.get("proxy_mode"), doc.get("ip_family"), doc.get("nodes"))
        assert observed == (proxy_mode, ip_family, nodes), \
            f"{paths.CLUSTER_FILE} after up: expected {(proxy_mode, ip_family, nodes)}, observed {observed}"
        # Each further node is a network namespace of its own, with its own cgroup root: seen on the host
        # now, so the inventory that must be empty after down really covers them.
        grown = hostnet.leftovers(baseline)
        workers = [f"{WORKER_NAME}{i}" for i in range(1, nodes)]
        assert set(workers) <= set(grown.get("netns", [])), f"node namespaces missing after up: {grown}"
        assert all(any(c.endswith("/" + w) for c in grown.get("cgroups", [])) for w in workers), \
            f"node cgroup roots missing after up: {grown.get('cgroups')}"

        # A second up is harmless: quick, exit 0, the same component processes, still healthy.
        pids = _component_pids()
        t1 = time.monotonic()
        again = localcluster_cli("up", *options, timeout_s=UP_TIMEOUT_S)
        second_up_s = time.monotonic() - t1
        e2e_timings.record(f"lifecycle {proxy_mode}/{ip_family}/{nodes} node(s): second up", second_up_s)
        assert again.returncode == 0, f"second up exited {again.returncode}:\n{tail(again)}"
        assert second_up_s < SECOND_UP_MAX_S, f"second up took {second_up_s:.1f}s (expected < {SECOND_UP_MAX_S}s)"
        assert _component_pids() == pids, f"second up restarted components: before {pids}, after {_component_pids()}"
        status = localcluster_cli("status")
        assert status.returncode == 0, f"status after the second up exited {status.returncode}:\n{tail(status, 20)}"

        # A crashed cluster (every process killed, as a reboot would) is cleaned up by the next up.
        _kill_every_cluster_process()
        t3 = time.monotonic()
        revived = localcluster_cli("up", *options, timeout_s=UP_TIMEOUT_S)
        e2e_timings.record(f"lifecycle {proxy_mode}/{ip_family}/{nodes} node(s): up after a crash", time.monotonic() - t3)
        assert revived.returncode == 0, f"up after every process was killed exited {revived.returncode}:\n" \
                                        f"{tail(revived)}"
        assert "removing its leftovers first" in revived.stdout + revived.stderr, \
            f"up after a crash did not say it removed the leftovers:\n{tail(revived)}"
        status = localcluster_cli("status")
        assert status.returncode == 0, f"status after the revived up exited {status.returncode}:\n" \
                                       f"{tail(status, 20)}"

        t2 = time.monotonic()
        down = localcluster_cli("down", timeout_s=DOWN_TIMEOUT_S)
        started = down.returncode != 0
        assert down.returncode == 0, f"down exited {down.returncode}:\n{tail(down)}"
        e2e_timings.record(f"lifecycle {proxy_mode}/{ip_family}/{nodes} node(s): down", time.monotonic() - t2)
        left = _leftovers(baseline)
        assert left == {}, f"down left these behind (expected nothing new since before up):\n{left}"

        # A second down is harmless too: exit 0, still nothing left.
        down_again = localcluster_cli("down", timeout_s=DOWN_TIMEOUT_S)
        assert down_again.returncode == 0, f"second down exited {down_again.returncode}:\n{tail(down_again)}"
        left = _leftovers(baseline)
        assert left == {}, f"after the second down (expected nothing new since before up):\n{left}"
        status = localcluster_cli("status")
        assert status.returncode != 0, f"status exits 0 after down:\n{tail(status, 20)}"
    finally:
        if started:
            # This test started the cluster: never leave it (or half of it) running after a failure.
            localcluster_cli("down", timeout_s=DOWN_TIMEOUT_S)
