"""Where-the-time-goes metrics (conformance/core/phases.py) and the benchmark's scenario copies knob."""

import os
import subprocess
import sys

from svc_conformance.core import phases


def test_phases_nest_and_count():
    before = phases.snapshot().get("tcp-connect", {"count": 0, "seconds": 0})
    with phases.phase("tcp-connect"):
        pass
    phases.add("tcp-connect", 1.5)
    after = phases.snapshot()["tcp-connect"]
    assert after["count"] == before["count"] + 2 and after["seconds"] >= before["seconds"] + 1.5


def test_combine_sums_the_workers_phase_metrics():
    # As conformance.json carries them (a 2-worker run; other metrics are ignored).
    metrics = [
        {"name": "phase_s", "value": 40.25, "phase": "exec", "count": 310, "worker": "gw0", "scenario": "-"},
        {"name": "phase_s", "value": 35.5, "phase": "exec", "count": 290, "worker": "gw1", "scenario": "-"},
        {"name": "phase_s", "value": 9.0, "phase": "pods-ready", "count": 6, "worker": "gw0", "scenario": "-"},
        {"name": "phase_s", "value": 3.0, "phase": "some-new-phase", "count": 1, "worker": "gw0"},
        {"name": "dns_convergence_s", "value": 2.1, "scenario": "ports"},
    ]
    combined = phases.combine(metrics)
    assert list(combined) == ["pods-ready", "exec", "some-new-phase"]     # PHASES order, unknown last
    assert combined["exec"] == {"count": 600, "seconds": 75.75}


def _scenarios(copies: str) -> subprocess.CompletedProcess:
    code = "from svc_conformance.scenarios import ALL; print(len(ALL), ALL[sorted(ALL)[1]].name, ALL[sorted(ALL)[1]].manifest)"
    env = dict(os.environ, SVC_CONFORMANCE_SCENARIO_COPIES=copies)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_scenario_copies_share_manifests_under_their_own_names():
    assert _scenarios("1").stdout.split() == ["13", "clusterip-deployment", "clusterip-deployment"]
    two = _scenarios("2").stdout.split()
    assert two == ["26", "bare-pod-hostname-c2", "bare-pod-hostname"]


def test_a_bad_copies_value_is_one_line():
    bad = _scenarios("lots")
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip() == ("svc-conformance: SVC_CONFORMANCE_SCENARIO_COPIES must be a whole number "
                                  "from 1 to 8, not 'lots'")
