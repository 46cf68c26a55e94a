"""reports.plugin inside real (small) pytest sessions, with and without pytest-xdist."""

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Items declare (check, scenario, ip_family, level, area) through user_properties at collection,
# as the conformance suite does; the marker keeps the sample tests short.
CONFTEST = '''
import pytest
from svc_conformance.reports.plugin import attach_evidence, get_run_id, record_cluster_facts, record_metric

def pytest_configure(config):
    config.addinivalue_line("markers", "check(id, scenario, family='-', level='core'): conformance check")

def pytest_collection_modifyitems(items):
    for item in items:
        mark = item.get_closest_marker("check")
        if mark:
            check, scenario = mark.args
            item.user_properties += [("check", check), ("scenario", scenario),
                                     ("ip_family", mark.kwargs.get("family", "-")),
                                     ("level", mark.kwargs.get("level", "core")),
                                     ("area", check.split("-")[0]), ("feature", "sample"),
                                     ("proxy_mode", "iptables"),
                                     ("statement", mark.kwargs.get("statement", ""))]
'''

TESTS = '''
import pytest
from svc_conformance.reports.plugin import attach_evidence

@pytest.fixture
def broken_namespace():
    raise RuntimeError("namespace creation refused")

@pytest.fixture
def noisy_cleanup():
    yield
    raise RuntimeError("cleanup failed")

@pytest.fixture
def setup_evidence(request):
    attach_evidence(request.node, "client pod", "client-1")

@pytest.mark.check("DNS-03", "clusterip")
def test_passes(setup_evidence):
    pass

@pytest.mark.check("DNS-03", "clusterip", family="ipv6", statement="A record = the ClusterIP")
def test_fails(request):
    attach_evidence(request.node, "expected", "10.96.0.10")
    attach_evidence(request.node, "observed", {"answers": ["10.244.0.5"]})
    assert False, "A record is a pod IP\\nsecond line"

@pytest.mark.check("DNS-05", "clusterip")
def test_setup_error(broken_namespace):
    pass

@pytest.mark.check("POD-09", "headless", level="extended")
def test_not_supported():
    pytest.skip("not supported: pods verified is off")

@pytest.mark.check("REACH-07", "headless", family="ipv6")
def test_blocked():
    pytest.skip("blocked by environment: no IPv6")

@pytest.mark.check("DNS-12", "headless")
@pytest.mark.xfail(reason="known CoreDNS gap")
def test_xfail():
    assert False

@pytest.mark.check("DNS-11", "headless")
def test_teardown_error(noisy_cleanup):
    pass

def test_not_a_check():
    pass
'''


def _load(out: Path) -> dict:
    return json.loads((out / "conformance.json").read_text())


def _by_nodeid(doc: dict) -> dict:
    return {r["nodeid"].split("::")[-1]: r for r in doc["results"]}


@pytest.fixture
def sample_suite(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sample=TESTS)
    return pytester


def test_one_result_per_check_with_outcome_rules(sample_suite):
    out = sample_suite.path / "out"
    run = sample_suite.runpytest("-p", "svc_conformance.reports.plugin", "--report-dir", str(out), "--no-allure-results")
    doc = _load(out)
    results = _by_nodeid(doc)
    assert set(results) == {"test_passes", "test_fails", "test_setup_error", "test_not_supported",
                            "test_blocked", "test_xfail", "test_teardown_error"}
    outcomes = {name: (r["outcome"], r["reason"]) for name, r in results.items()}
    assert outcomes == {
        "test_passes": ("passed", ""),
        "test_fails": ("failed", "AssertionError: A record is a pod IP"),
        "test_setup_error": ("failed", "setup error: RuntimeError: namespace creation refused"),
        "test_not_supported": ("not-supported", "not supported: pods verified is off"),
        "test_blocked": ("blocked", "blocked by environment: no IPv6"),
        "test_xfail": ("failed", "xfail: known CoreDNS gap"),
        "test_teardown_error": ("passed", ""),
    }
    evidence = {name: {e["name"]: e["content"] for e in r["evidence"]} for name, r in results.items()}
    assert evidence["test_passes"] == {"client pod": "client-1"}
    assert evidence["test_fails"]["expected"] == "10.96.0.10"
    assert json.loads(evidence["test_fails"]["observed"]) == {"answers": ["10.244.0.5"]}
    assert evidence["test_teardown_error"] == {"teardown error": "RuntimeError: cleanup failed"}
    assert results["test_fails"]["ip_family"] == "ipv6" and results["test_fails"]["area"] == "DNS"
    assert doc["summary"] == {"passed": 2, "failed": 3, "skipped": 0, "not-supported": 1, "blocked": 1, "total": 7}
    # Core failures (DNS-03 ipv6, the xfail): non-conformant, and that is the exit status.
    assert doc["verdict"] == "non-conformant" and doc["supported_features"] == [] and run.ret == 1

    junit = ET.parse(out / "junit.xml").getroot()
    assert (junit.get("tests"), junit.get("failures"), junit.get("skipped")) == ("7", "3", "2")
    assert (out / "conformance.yaml").exists() and (out / "summary.html").read_text().count('class="cell') == 7

    # One progress line per scenario, when its last check finished.
    lines = [line for line in run.outlines if line.startswith("[")]
    assert lines == ["[clusterip] 3/3 checks done, failed=2", "[headless] 4/4 checks done, failed=1"]
    run.stdout.fnmatch_lines(["*7 results: passed=2 failed=3 skipped=0 not-supported=1 blocked=1*",
                              "verdict: non-conformant, exit 1; declared features: none",
                              "  DNS-03 clusterip/ipv6: failed (AssertionError: A record is a pod IP)"])


def test_nothing_is_written_without_checks(pytester):
    pytester.makepyfile("def test_plain():\n    pass\n")
    out = pytester.path / "out"
    pytester.runpytest("-p", "svc_conformance.reports.plugin", "--report-dir", str(out), "--no-allure-results").assert_outcomes(passed=1)
    assert not out.exists()


def test_previous_results_give_a_diff(sample_suite):
    previous = sample_suite.path / "previous.json"
    previous.write_text(json.dumps({"run_id": "night-41", "results": [
        {"check": "DNS-03", "scenario": "clusterip", "ip_family": "ipv6", "outcome": "passed"}]}))
    out = sample_suite.path / "out"
    sample_suite.runpytest("-p", "svc_conformance.reports.plugin", "--report-dir", str(out), "--no-allure-results",
                           "--previous-results", str(previous))
    html = (out / "summary.html").read_text()
    assert "Compared with run night-41" in html and "DNS-03 · clusterip · ipv6: passed → failed" in html


XDIST_CONFTEST = CONFTEST + '''
@pytest.fixture(scope="session", autouse=True)
def cluster_facts(pytestconfig):
    # Recorded on a worker, during the first item's setup: rides on that item's report.
    record_cluster_facts(pytestconfig, {"server_version": "v1.33.13", "proxy_mode": "iptables",
                                        "dns": {"implementation": "CoreDNS"}})
    record_cluster_facts(pytestconfig, {"dns": {"version": "1.12.0"}, "ip_families": ["ipv4"]})


def pytest_sessionfinish(session):
    # After the worker's last report: travels through xdist's workeroutput.
    if hasattr(session.config, "workerinput"):
        record_cluster_facts(session.config, {"late_fact": "from a worker"})
        record_metric(_Node(session.config), "late_metric_s", 0.25, scenario="session")

class _Node:
    """A stand-in node that is not an Item, seen outside any test."""
    def __init__(self, config):
        self.config = config

@pytest.fixture(scope="module")
def module_probe(request):
    # A module-scoped fixture: the record belongs to the item whose setup runs it.
    record_metric(request.node, "dns_convergence_s", 1.5)
'''

XDIST_TESTS = '''
import pytest
from svc_conformance.reports.plugin import get_run_id, record_metric

@pytest.mark.check("DNS-03", "clusterip")
@pytest.mark.parametrize("n", range(4))
def test_check(request, n, module_probe):
    record_metric(request.node, "dns_convergence_s", 0.1 * n, run_id=get_run_id(request.config))
'''


def test_facts_and_metrics_reach_the_controller_under_xdist(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("SVC_CONFORMANCE_RUN_ID", raising=False)
    pytester.makeconftest(XDIST_CONFTEST)
    pytester.makepyfile(test_xdist_sample=XDIST_TESTS)
    out = pytester.path / "out"
    run = pytester.runpytest_subprocess("-p", "svc_conformance.reports.plugin", "-n", "2", "--report-dir", str(out),
                                        "--no-allure-results")
    run.assert_outcomes(passed=4)
    run.stdout.fnmatch_lines(["*2 workers*"])
    doc = _load(out)
    assert doc["cluster"] == {"server_version": "v1.33.13", "proxy_mode": "iptables", "ip_families": ["ipv4"],
                              "dns": {"implementation": "CoreDNS", "version": "1.12.0"},
                              "late_fact": "from a worker"}
    assert len(doc["results"]) == 4
    per_item = [m for m in doc["metrics"] if "run_id" in m]
    assert sorted(m["value"] for m in per_item) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert {m["run_id"] for m in per_item} == {doc["run_id"]}  # workers share the controller's run id
    assert all(m["scenario"] == "clusterip" and m["check"] == "DNS-03" for m in per_item)
    module_level = [m for m in doc["metrics"] if m["name"] == "dns_convergence_s" and "run_id" not in m]
    assert module_level and all(m["scenario"] == "clusterip" and m["nodeid"] for m in module_level)
    late = [m for m in doc["metrics"] if m["name"] == "late_metric_s"]
    assert len(late) == 2 and {(m["scenario"], m["nodeid"]) for m in late} == {("session", None)}  # one per worker


def test_allure_results_labels_and_evidence(sample_suite, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    out = sample_suite.path / "out"
    stale = out / "allure-results" / "stale-result.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    sample_suite.runpytest_subprocess("-p", "svc_conformance.reports.plugin", "--report-dir", str(out))
    assert not stale.exists()
    allure_results = {}
    for path in (out / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        allure_results[data["fullName"].rsplit("#", 1)[-1]] = data
    labels = {}
    for label in allure_results["test_fails"]["labels"]:
        labels.setdefault(label["name"], []).append(label["value"])
    assert labels["check"] == ["DNS-03"] and labels["level"] == ["core"] and labels["story"] == ["clusterip"]
    assert labels["feature"] == ["sample"] and labels["ip_family"] == ["ipv6"] and labels["proxy_mode"] == ["iptables"]
    assert {"DNS-03", "core", "ip_family:ipv6", "proxy_mode:iptables"} <= set(labels["tag"])
    # Suites tree: area > scenario > check; the statement is the title.
    assert (labels["parentSuite"], labels["suite"], labels["subSuite"]) == (["DNS"], ["clusterip"], ["DNS-03"])
    assert allure_results["test_fails"]["name"] == "DNS-03 [ipv6]: A record = the ClusterIP"
    assert labels["severity"] == ["critical"]
    # The statement link opens the report dir's catalogue page at the check's anchor.
    assert allure_results["test_fails"]["links"] == [
        {"type": "link", "url": "catalogue.html#DNS-03", "name": "DNS-03 in the check catalogue"}]
    assert 'id="DNS-03"' in (out / "catalogue.html").read_text()
    attachments = {a["name"] for a in allure_results["test_fails"].get("attachments", [])}
    assert {"expected", "observed"} <= attachments
    assert "check" not in {label["name"] for label in allure_results["test_not_a_check"]["labels"]}
    # A blocked check: Allure status skipped with the reason, labelled and tagged as blocked.
    blocked = allure_results["test_blocked"]
    assert blocked["status"] == "skipped" and "blocked by environment: no IPv6" in blocked["statusDetails"]["message"]
    blocked_labels = {(label["name"], label["value"]) for label in blocked["labels"]}
    assert ("outcome", "blocked") in blocked_labels and ("tag", "blocked") in blocked_labels
    assert ("outcome", "blocked") not in {(label["name"], label["value"]) for label in allure_results["test_passes"]["labels"]}
