"""No kubeconfig -> the local cluster: used as it is when up (any shape), named component by component
when up but unhealthy, brought up only when nothing of it runs. Rows are shaped as
`localcluster.status.checks()` gives them; the command test runs the real command against a cluster
record in tmp_path (LOCALCLUSTER_STATE / _RUN) whose daemons are this test's own live process."""

import json
import os
import subprocess
import sys

from localcluster import components

from svc_conformance.cluster import kubeconfig
from svc_conformance.cluster.local_cluster import decide

THREE_NODES = {"proxy_mode": "nftables", "ip_family": "dual", "cluster_domain": "conformance.test", "nodes": 3}
DAEMONS = components.names(3)


def rows(failing: dict[str, str] | None = None, stopped: set[str] | None = None) -> list[tuple[str, bool, str]]:
    failing, stopped = failing or {}, stopped or set()
    out = [("mode", True, "kube-proxy nftables, ip family dual, 3 node(s), domain conformance.test")]
    out += [(d, d not in stopped, "not running (log: /var/lib/localcluster/logs/x.log)" if d in stopped
             else "pid 100") for d in DAEMONS]
    for name in ("server version", "apiserver /readyz", "node node-0", "node node-1", "node node-2", "CoreDNS"):
        out.append((name, name not in failing, failing.get(name, "ok")))
    return out


def test_a_healthy_cluster_of_any_shape_is_used_as_it_is():
    assert decide(THREE_NODES, rows(), DAEMONS).action == "use"


def test_an_unhealthy_cluster_names_its_component_and_points_at_status():
    decision = decide(THREE_NODES, rows({"CoreDNS": "kube-dns 10.96.0.10 answers kubernetes.default"}), DAEMONS)
    assert decision.action == "unhealthy"
    assert "CoreDNS" in decision.message and "python -m localcluster status" in decision.message
    assert "down" not in decision.message and "\n" not in decision.message
    stopped = decide(THREE_NODES, rows(stopped={"kube-proxy"}), DAEMONS)
    assert stopped.action == "unhealthy" and "kube-proxy: not running" in stopped.message


def test_no_cluster_is_brought_up_with_defaults_and_a_dead_one_with_its_own_options():
    assert decide(None, [("cluster", False, "not up")], []).action == "up"
    assert decide(None, [("cluster", False, "not up")], []).up_args == ()
    dead = decide(THREE_NODES, rows({"server version": "unreachable (0)"}, stopped=set(DAEMONS)), DAEMONS)
    assert dead.action == "up"
    assert dead.up_args == ("--proxy-mode", "nftables", "--ip-family", "dual", "--nodes", "3",
                            "--cluster-domain", "conformance.test")
    recorded = dict(THREE_NODES, kubernetes_version="1.33", network_policy=True)
    again = decide(recorded, rows({"server version": "unreachable (0)"}, stopped=set(DAEMONS)), DAEMONS)
    assert again.up_args[-3:] == ("--kubernetes-version", "1.33", "--network-policy")
    kubeadm = decide(dict(recorded, shape="kubeadm"), rows({"server version": "unreachable (0)"},
                                                           stopped=set(DAEMONS)), DAEMONS)
    assert kubeadm.up_args[-5:] == ("--kubernetes-version", "1.33", "--network-policy", "--shape", "kubeadm")


def test_the_run_command_on_an_unhealthy_three_node_cluster_is_one_line_with_its_own_status(tmp_path):
    state, run_dir = tmp_path / "state", tmp_path / "run"
    (run_dir / "pids").mkdir(parents=True)
    state.mkdir()
    (state / "cluster.json").write_text(json.dumps(THREE_NODES))
    for daemon in DAEMONS:              # every daemon "runs": the cluster is up, its API is not
        (run_dir / "pids" / f"{daemon}.pid").write_text(str(os.getpid()))
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(HOME=str(tmp_path), LOCALCLUSTER_STATE=str(state), LOCALCLUSTER_RUN=str(run_dir))
    # Guard first: `up` (and the `down` it runs on a dead record) acts on the whole machine's network,
    # so the command runs only once the decision for this record is known not to be "up".
    probe = subprocess.run([sys.executable, "-c", "from svc_conformance.cluster.local_cluster import inspect; "
                            "print(inspect().action)"], env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "unhealthy", probe.stdout + probe.stderr
    run = subprocess.run([sys.executable, "-m", "svc_conformance", "run", "--report-dir", str(tmp_path / "out")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == kubeconfig.EXIT_LOCAL_CLUSTER, lines
    assert "already up" not in run.stdout + run.stderr
    last = lines[-1]
    assert last.startswith("svc-conformance: the local cluster is up but not healthy") and "server version" in last
    assert "python -m localcluster status" in last and "Traceback" not in run.stderr
