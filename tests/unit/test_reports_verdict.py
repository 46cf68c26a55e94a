"""The verdict of a conformance run is its exit status (0 conformant, 1 non-conformant, 8 incomplete),
in real (small) pytest sessions with fake check items: bad-input statuses and interruptions keep
winning, declared features make extended failures fatal, and runs of other tests keep pytest's status."""

import json
import os
import secrets
import tempfile
from pathlib import Path

import pytest

from svc_conformance.reports.document import EXIT_CONFORMANT, EXIT_INCOMPLETE, EXIT_NON_CONFORMANT
from svc_conformance.reports.plugin import suite_exit_status

REPO_ROOT = Path(__file__).resolve().parents[2]

# Fake check items, labelled at collection as conformance/conftest.py does.
CONFTEST = '''
import pytest

def pytest_configure(config):
    config.addinivalue_line("markers", "check(id, level='core', family='-'): conformance check")

def pytest_collection_modifyitems(items):
    for item in items:
        mark = item.get_closest_marker("check")
        if mark:
            check = mark.args[0]
            item.user_properties += [("check", check), ("scenario", "s"),
                                     ("ip_family", mark.kwargs.get("family", "-")),
                                     ("level", mark.kwargs.get("level", "core")),
                                     ("area", check.split("-")[0])]
'''

PASS_CORE = '''
@pytest.mark.check("DNS-03")
def test_core_passes():
    pass
'''
NOT_SUPPORTED_CORE = '''
@pytest.mark.check("DNS-04", family="ipv6")
def test_core_family_lacking():
    pytest.skip("not supported: the cluster does not serve ipv6")
'''
FAIL_CORE = '''
@pytest.mark.check("DNS-09")
def test_core_fails():
    assert False, "PTR names another service"
'''
BLOCKED_CORE = '''
@pytest.mark.check("PROXY-01")
def test_core_blocked():
    pytest.skip("blocked by environment: the privileged node inspector is not allowed here")
'''
SKIPPED_CORE = '''
@pytest.mark.check("DNS-05")
def test_core_skipped():
    pytest.skip("no reason to run")
'''
ERRORED_CORE = '''
@pytest.fixture
def broken_scenario():
    raise RuntimeError("scenario s could not be deployed")

@pytest.mark.check("DNS-11")
def test_core_setup_error(broken_scenario):
    pass
'''
FAIL_EXTENDED = '''
@pytest.mark.check("EPS-07", level="extended")
def test_extended_fails():
    assert False, "only 100 of 120 endpoints answered"
'''
BLOCKED_EXTENDED = '''
@pytest.mark.check("EPS-07", level="extended")
def test_extended_blocked():
    pytest.skip("blocked by environment: TCP DNS refused")
'''


def _suite(pytester, *parts: str):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_fake_suite="import pytest\n" + "\n".join(parts))
    return pytester


def _run(pytester, *args: str):
    out = pytester.path / "out"
    run = pytester.runpytest("-p", "svc_conformance.reports.plugin", "-p", "svc_conformance.fixtures.options", "--report-dir", str(out),
                             "--no-allure-results", *args)
    doc_path = out / "conformance.json"
    return run, json.loads(doc_path.read_text()) if doc_path.exists() else None


def _profile(doc, name, level):
    return next(p for p in doc["profiles"] if (p["name"], p["level"]) == (name, level))


# ---------------------------------------------------------------- the mapping itself

@pytest.mark.parametrize("pytest_status, verdict, others, expected", [
    (0, "conformant", 0, 0),
    (1, "conformant", 0, 0),          # an undeclared extended failure made pytest say 1
    (0, "incomplete", 0, 8),          # every check skipped: pytest says 0
    (1, "incomplete", 0, 8),
    (1, "non-conformant", 0, 1),
    (1, "conformant", 1, 1),          # a failed non-check item keeps the run from exiting 0
    (2, "conformant", 0, 2),          # interrupted
    (3, "non-conformant", 0, 3),      # internal error
    (4, "incomplete", 0, 4),          # usage error
    (10, "conformant", 0, 10), (11, "non-conformant", 0, 11), (15, "incomplete", 0, 15),  # bad input
])
def test_suite_exit_status_mapping(pytest_status, verdict, others, expected):
    assert suite_exit_status(pytest_status, verdict, others) == expected
    assert (EXIT_CONFORMANT, EXIT_NON_CONFORMANT, EXIT_INCOMPLETE) == (0, 1, 8)


# ---------------------------------------------------------------- verdicts and exit statuses

def test_conformant_run_exits_0(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, NOT_SUPPORTED_CORE))
    assert doc["verdict"] == "conformant" and run.ret == 0
    run.stdout.fnmatch_lines(["verdict: conformant, exit 0; declared features: none"])


def test_core_failure_is_non_conformant_exit_1(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, FAIL_CORE, BLOCKED_CORE))
    assert doc["verdict"] == "non-conformant" and run.ret == 1   # a failure outranks a blocked check
    assert _profile(doc, "DNS", "core")["result"] == "failure"


@pytest.mark.parametrize("unfinished", [BLOCKED_CORE, SKIPPED_CORE, ERRORED_CORE], ids=["blocked", "skipped", "errored"])
def test_unfinished_core_check_is_incomplete_exit_8(pytester, unfinished):
    run, doc = _run(_suite(pytester, PASS_CORE, unfinished))
    assert doc["verdict"] == "incomplete" and run.ret == 8, run.outlines[-8:]
    area = {BLOCKED_CORE: "PROXY", SKIPPED_CORE: "DNS", ERRORED_CORE: "DNS"}[unfinished]
    assert _profile(doc, area, "core")["result"] == "incomplete"
    run.stdout.fnmatch_lines(["verdict: incomplete, exit 8; declared features: none"])


def test_blocked_is_a_first_class_outcome(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, BLOCKED_CORE))
    (blocked,) = [r for r in doc["results"] if r["check"] == "PROXY-01"]
    assert blocked["outcome"] == "blocked"
    assert blocked["reason"] == "blocked by environment: the privileged node inspector is not allowed here"
    assert doc["summary"] == {"passed": 1, "failed": 0, "skipped": 0, "not-supported": 0, "blocked": 1, "total": 2}
    assert _profile(doc, "PROXY", "core")["blocked"] == 1
    html = (pytester.path / "out" / "summary.html").read_text()
    assert 'data-outcome="blocked"' in html and 'value="blocked"' in html  # its own cell colour and legend entry
    junit = (pytester.path / "out" / "junit.xml").read_text()
    assert 'type="blocked"' in junit and 'skipped="1"' in junit
    run.stdout.fnmatch_lines(["*2 results: passed=1 failed=0 skipped=0 not-supported=0 blocked=1*"])


def test_a_run_that_stops_early_is_never_conformant(pytester):
    # -x stops after the extended failure: the core checks after it never ran, they are "not run".
    run, doc = _run(_suite(pytester, FAIL_EXTENDED, PASS_CORE, PASS_CORE.replace("DNS-03", "DNS-09")
                           .replace("test_core_passes", "test_core_passes_too")), "-x")
    outcomes = {r["nodeid"].split("::")[-1]: (r["outcome"], r["reason"]) for r in doc["results"]}
    assert outcomes["test_core_passes"][0] == "skipped" and outcomes["test_core_passes"][1].startswith("not run:")
    assert len(outcomes) == 3 and doc["verdict"] == "incomplete" and run.ret == 8


# ---------------------------------------------------------------- declared features

def test_extended_failure_is_reported_not_fatal(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, FAIL_EXTENDED))
    run.assert_outcomes(passed=1, failed=1)   # pytest alone would exit 1
    assert doc["verdict"] == "conformant" and run.ret == 0
    assert _profile(doc, "EPS", "extended")["result"] == "partial" and doc["supported_features"] == []


@pytest.mark.parametrize("declare", [["--supported-feature", "LargeEndpointSets"], ["--supported-feature", "EPS-07"],
                                     ["--supported-feature", "PodARecords,largeendpointsets"], ["--all-features"]],
                         ids=["name", "check-id", "comma-list", "all"])
def test_extended_failure_of_a_declared_feature_exits_1(pytester, declare):
    run, doc = _run(_suite(pytester, PASS_CORE, FAIL_EXTENDED), *declare)
    assert doc["verdict"] == "non-conformant" and run.ret == 1
    assert "LargeEndpointSets" in doc["supported_features"]
    assert _profile(doc, "EPS", "extended")["result"] == "failure"
    run.stdout.fnmatch_lines(["verdict: non-conformant, exit 1; declared features: *LargeEndpointSets*",
                              "  EPS-07 s/-: failed (AssertionError: only 100 of 120 endpoints answered)"])


def test_another_declared_feature_does_not_make_an_extended_failure_fatal(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, FAIL_EXTENDED), "--supported-feature", "PodARecords")
    assert doc["supported_features"] == ["PodARecords"] and doc["verdict"] == "conformant" and run.ret == 0


def test_blocked_declared_feature_is_incomplete(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, BLOCKED_EXTENDED))
    assert doc["verdict"] == "conformant" and run.ret == 0
    run, doc = _run(pytester, "--supported-feature", "LargeEndpointSets")
    assert doc["verdict"] == "incomplete" and run.ret == 8


@pytest.mark.parametrize("name", ["Nope", "DNS-03"])
def test_unknown_feature_is_a_usage_error_naming_the_valid_ones(pytester, name):
    run, doc = _run(_suite(pytester, PASS_CORE), "--supported-feature", name)
    assert run.ret == pytest.ExitCode.USAGE_ERROR and doc is None
    run.stderr.fnmatch_lines(["ERROR: --supported-feature: * valid feature names (or their check IDs): "
                              "SRVAdditionalSection (DNS-07), *LargeEndpointSets (EPS-07)*"])


# ---------------------------------------------------------------- statuses that are not the verdict's

def test_bad_input_exit_status_from_pytest_exit_is_kept(pytester):
    exits = '''
@pytest.mark.check("DNS-12")
def test_core_stops_the_run():
    pytest.exit("svc-conformance: API server unreachable", returncode=11)
'''
    run, doc = _run(_suite(pytester, FAIL_CORE, exits))
    assert doc["verdict"] == "non-conformant" and run.ret == 11


def test_bad_input_exit_file_of_the_scenarios_plugin_is_kept(pytester, monkeypatch):
    # fixtures/scenarios.py: an xdist worker writes <tmp>/svc-conformance-<run id>.exit, and the
    # controller's trylast pytest_sessionfinish makes it the exit status.
    run_id = "unit-" + secrets.token_hex(4)
    monkeypatch.setenv("SVC_CONFORMANCE_RUN_ID", run_id)
    exit_file = Path(tempfile.gettempdir()) / f"svc-conformance-{run_id}.exit"
    writes = f'''
@pytest.mark.check("DNS-12")
def test_worker_hits_bad_credentials():
    open({str(exit_file)!r}, "w").write("12\\nsvc-conformance: credentials rejected\\n")
    pytest.fail("svc-conformance: credentials rejected", pytrace=False)
'''
    try:
        run, doc = _run(_suite(pytester, PASS_CORE, writes), "-p", "svc_conformance.fixtures.scenarios")
    finally:
        exit_file.unlink(missing_ok=True)
    assert doc["verdict"] == "non-conformant" and run.ret == 12
    run.stdout.fnmatch_lines(["*svc-conformance: credentials rejected*",
                              "verdict: non-conformant, exit 12, not the verdict's*"])


@pytest.mark.parametrize("order", ["tryfirst", "trylast"])
def test_a_status_of_10_or_more_set_by_another_hook_is_kept(pytester, order):
    pytester.syspathinsert()
    pytester.makepyfile(bad_input_plugin=f'''
import pytest

@pytest.hookimpl({order}=True)
def pytest_sessionfinish(session):
    session.exitstatus = 14
''')
    run, _ = _run(_suite(pytester, PASS_CORE, BLOCKED_CORE), "-p", "bad_input_plugin")
    assert run.ret == 14


def test_interrupted_run_keeps_status_2(pytester, monkeypatch):
    # In a subprocess: an inline run re-raises the KeyboardInterrupt into this session.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    interrupts = '''
@pytest.mark.check("DNS-12")
def test_ctrl_c():
    raise KeyboardInterrupt
'''
    _suite(pytester, PASS_CORE, interrupts, PASS_CORE.replace("DNS-03", "DNS-09").replace("passes", "never_runs"))
    out = pytester.path / "out"
    run = pytester.runpytest_subprocess("-p", "svc_conformance.reports.plugin", "-p", "svc_conformance.fixtures.options", "--report-dir", str(out),
                                        "--no-allure-results")
    assert run.ret == pytest.ExitCode.INTERRUPTED
    doc = json.loads((out / "conformance.json").read_text())
    outcomes = {r["nodeid"].split("::")[-1]: r["outcome"] for r in doc["results"]}
    assert outcomes["test_core_never_runs"] == "skipped" and doc["verdict"] == "incomplete"


def test_non_suite_runs_keep_pytests_exit_status(pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n\ndef test_broken():\n    assert False\n")
    run, doc = _run(pytester)
    assert doc is None and run.ret == pytest.ExitCode.TESTS_FAILED
    run, doc = _run(pytester, "-k", "test_ok")
    assert doc is None and run.ret == pytest.ExitCode.OK
    run, doc = _run(pytester, "-k", "nothing_matches")
    assert doc is None and run.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "verdict:" not in run.stdout.str()


def test_a_failed_non_check_item_keeps_a_conformant_run_from_exiting_0(pytester):
    run, doc = _run(_suite(pytester, PASS_CORE, "def test_helper_broken():\n    assert False\n"))
    assert doc["verdict"] == "conformant" and run.ret == 1


def test_verdict_is_the_exit_status_under_xdist(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("SVC_CONFORMANCE_RUN_ID", raising=False)
    _suite(pytester, PASS_CORE, FAIL_EXTENDED, BLOCKED_CORE.replace("PROXY-01", "PROXY-02")
           .replace("test_core_blocked", "test_core_blocked_2"))
    out = pytester.path / "out"
    args = ("-p", "svc_conformance.reports.plugin", "-p", "svc_conformance.fixtures.options", "-n", "2", "--report-dir", str(out),
            "--no-allure-results")
    run = pytester.runpytest_subprocess(*args)
    assert run.ret == 8 and json.loads((out / "conformance.json").read_text())["verdict"] == "incomplete"
    run = pytester.runpytest_subprocess(*args, "--supported-feature", "LargeEndpointSets")
    doc = json.loads((out / "conformance.json").read_text())
    assert run.ret == 1 and doc["verdict"] == "non-conformant" and doc["supported_features"] == ["LargeEndpointSets"]
