"""The upstream e2e comparison's pure logic (benchmarks/upstream_e2e.py), fed with the JUnit report of
a real run of the network e2e binary on the local cluster (2026-11-30; passed and skipped cases kept,
their logs dropped)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import upstream_e2e  # noqa: E402

JUNIT = (Path(__file__).parent / "data" / "upstream_e2e_junit.xml").read_text()
RAN = ["EndpointSlice should create and delete Endpoints and EndpointSlices for a Service with a selector specified",
       "EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service",
       "EndpointSliceMirroring should mirror a custom Endpoints resource through create update and delete",
       "Services should have session affinity work for service with type clusterIP"]


def test_the_junit_report_gives_each_focused_spec_its_outcome():
    assert upstream_e2e.junit_outcomes(JUNIT, RAN) == {spec: "passed" for spec in RAN}
    # Every spec of the binary is in the report; the ones that were not focused are skipped there.
    assert set(upstream_e2e.junit_outcomes(JUNIT, list(upstream_e2e.SPECS)).values()) == {"passed", "skipped"}


def test_only_the_conformance_case_of_a_spec_counts():
    # "DNS should provide DNS for the cluster [Provider:GCE]" shares the words of the [Conformance] spec.
    gce = '<testcase name="[It] [sig-network] DNS should provide DNS for the cluster [Provider:GCE] [sig-network]"'
    assert gce in JUNIT
    failed_gce = JUNIT.replace(gce + ' classname="network e2e" status="skipped" time="0">',
                               gce + ' classname="network e2e" status="failed" time="1"><failure message="x"/>')
    assert failed_gce != JUNIT
    assert upstream_e2e.junit_outcomes(failed_gce, ["DNS should provide DNS for the cluster"]) == \
        {"DNS should provide DNS for the cluster": "skipped"}
    # A spec that is not focused is not read, even where a skipped case shares its words.
    assert upstream_e2e.junit_outcomes(JUNIT, ["DNS should provide DNS for services"]) == {}


def test_focus_escapes_the_spec_text():
    assert upstream_e2e._regex("Services should (not) fail [LinuxOnly]") == \
        "Services should \\(not\\) fail \\[LinuxOnly\\]"


def _results(**outcomes):
    return [{"check": check.replace("_", "-"), "outcome": outcome} for check, outcome in outcomes.items()]


def test_verdicts_agree_spec_by_spec_and_unjudged_specs_say_why():
    outcomes = upstream_e2e.junit_outcomes(JUNIT, RAN)
    lacking = {s: [upstream_e2e.JESSIE] for s in upstream_e2e.SPECS if s.startswith("DNS ")}
    rows = {r["spec"]: r for r in upstream_e2e.compare(
        outcomes, lacking, _results(EPS_01="passed", EPS_05="failed", REACH_04="not-supported", POD_03="passed"))}
    assert rows[RAN[0]]["agree"] is True and rows[RAN[3]]["agree"] is True      # not-supported is no failure
    assert rows[RAN[2]]["agree"] is False and rows[RAN[2]]["suite"] == ["failed"]
    dns = rows["DNS should provide DNS for pods for Hostname"]
    assert dns["agree"] is None and dns["e2e"] == f"not run: {upstream_e2e.JESSIE} on no node"
    assert rows["DNS should provide DNS for services"]["suite"] == ["absent"]       # no result for its checks
