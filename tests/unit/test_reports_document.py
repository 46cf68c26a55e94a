"""conformance.json building: counts, profile roll-up, ordering, diff against a previous run."""

import json

import pytest
import yaml

from svc_conformance.reports.diff import compare_runs
from svc_conformance.reports.document import (SCHEMA, check_sort_key, compute_verdict, is_conformant, profile_result,
                              verdict_reasons)
from svc_conformance.reports.outcomes import OUTCOMES
from reports_samples import result, sample_doc


def _profile(doc, name, level):
    matches = [p for p in doc["profiles"] if (p["name"], p["level"]) == (name, level)]
    assert len(matches) == 1, doc["profiles"]
    return matches[0]


def test_document_has_the_design_schema_fields():
    doc = sample_doc()
    assert doc["schema"] == SCHEMA
    assert set(doc) >= {"run_id", "started", "finished", "verdict", "supported_features", "cluster", "results",
                        "metrics", "profiles", "summary"}
    for entry in doc["results"]:
        assert set(entry) >= {"check", "scenario", "ip_family", "level", "area", "outcome", "reason",
                              "duration_s", "nodeid", "evidence"}
        assert entry["outcome"] in OUTCOMES
    assert OUTCOMES == ("passed", "failed", "skipped", "not-supported", "blocked")
    assert doc["summary"] == {"passed": 5, "failed": 2, "skipped": 0, "not-supported": 1, "blocked": 1, "total": 9}
    assert doc["verdict"] == "non-conformant" and doc["supported_features"] == []
    json.dumps(doc)  # JSON-able as a whole
    assert yaml.safe_load(yaml.safe_dump(doc)) == doc


SETUP_ERROR = "setup error: RuntimeError: namespace refused"


def _members(level, *outcomes):
    reasons = {"blocked": "blocked by environment: x", "not-supported": "not supported: x", "errored": SETUP_ERROR}
    return [result("DNS-07" if level == "extended" else "DNS-03", "s", f"f{i}",
                   "failed" if o == "errored" else o, level=level, reason=reasons.get(o, ""))
            for i, o in enumerate(outcomes)]


@pytest.mark.parametrize("level, outcomes, expected", [
    ("core", ("passed", "passed", "failed"), "failure"),
    ("core", ("failed", "failed"), "failure"),
    ("core", ("failed", "blocked", "errored"), "failure"),           # a failure outranks the rest
    ("core", ("passed", "not-supported"), "success"),
    ("core", ("passed", "blocked"), "incomplete"),
    ("core", ("passed", "skipped"), "incomplete"),
    ("core", ("passed", "errored"), "incomplete"),                   # a setup error is not a failure
    ("core", ("blocked", "blocked"), "incomplete"),
    ("core", ("not-supported", "not-supported"), "partial"),
    ("extended", ("passed", "passed", "failed"), "partial"),         # reported, not fatal
    ("extended", ("failed",), "partial"),
    ("extended", ("passed", "not-supported", "blocked"), "success"),
    ("extended", ("not-supported",), "partial"),
])
def test_profile_result_rule(level, outcomes, expected):
    assert profile_result(_members(level, *outcomes)) == expected


@pytest.mark.parametrize("outcomes, expected", [
    (("passed", "failed"), "failure"),
    (("passed", "blocked"), "incomplete"),
    (("passed", "errored"), "incomplete"),
    (("passed", "not-supported"), "success"),
])
def test_declared_extended_profile_is_judged_like_core(outcomes, expected):
    assert profile_result(_members("extended", *outcomes), frozenset({"DNS-07"})) == expected
    assert profile_result(_members("extended", *outcomes), frozenset({"EPS-07"})) != "failure"


@pytest.mark.parametrize("results, supported, expected", [
    ([result("DNS-03", "a"), result("DNS-04", "a", outcome="not-supported", reason="not supported: no IPv6")],
     (), "conformant"),
    ([result("DNS-03", "a"), result("DNS-09", "a", outcome="failed", reason="wrong PTR")], (), "non-conformant"),
    ([result("DNS-03", "a"), result("PROXY-01", "a", outcome="blocked", reason="blocked by environment: x")],
     (), "incomplete"),
    ([result("DNS-03", "a"), result("DNS-09", "a", outcome="skipped", reason="not run: stopped")], (), "incomplete"),
    ([result("DNS-03", "a"), result("DNS-09", "a", outcome="failed", reason=SETUP_ERROR)], (), "incomplete"),
    ([result("DNS-03", "a"), result("DNS-09", "a", outcome="failed", reason="crashed: worker gw0")], (), "incomplete"),
    # A core failure outranks anything unfinished.
    ([result("DNS-03", "a", outcome="failed"), result("DNS-09", "a", outcome="blocked")], (), "non-conformant"),
    # Extended failures: reported only, unless the feature is declared supported.
    ([result("DNS-03", "a"), result("EPS-07", "a", outcome="failed", level="extended")], (), "conformant"),
    ([result("DNS-03", "a"), result("EPS-07", "a", outcome="failed", level="extended")], ("EPS-07",),
     "non-conformant"),
    ([result("DNS-03", "a"), result("EPS-07", "a", outcome="blocked", level="extended")], (), "conformant"),
    ([result("DNS-03", "a"), result("EPS-07", "a", outcome="blocked", level="extended")], ("EPS-07",),
     "incomplete"),
    # Nothing core shown: never conformant.
    ([result("EPS-07", "a", level="extended")], (), "incomplete"),
    ([result("DNS-04", "a", outcome="not-supported")], (), "incomplete"),
    ([], (), "incomplete"),
])
def test_verdict_rule(results, supported, expected):
    assert compute_verdict(results, frozenset(supported)) == expected
    doc = sample_doc(results=results, supported_features={"LargeEndpointSets": list(supported)} if supported else None)
    assert doc["verdict"] == expected and is_conformant(doc) == (expected == "conformant")


def test_supported_features_are_recorded_by_name():
    doc = sample_doc(supported_features={"PodARecords": ["POD-09"], "LargeEndpointSets": ["EPS-07"]})
    assert doc["supported_features"] == ["LargeEndpointSets", "PodARecords"]


def test_roll_up_groups_by_area_and_level_and_omits_empty_profiles():
    doc = sample_doc()
    assert [(p["name"], p["level"]) for p in doc["profiles"]] == [
        ("DNS", "core"), ("POD", "extended"), ("PROXY", "extended"), ("REACH", "core")]
    dns = _profile(doc, "DNS", "core")
    assert (dns["result"], dns["passed"], dns["failed"], dns["blocked"], dns["skipped"], dns["errored"],
            dns["total"]) == ("failure", 4, 1, 1, 0, 0, 6)
    assert _profile(doc, "PROXY", "extended")["result"] == "partial"
    assert _profile(doc, "POD", "extended")["result"] == "partial"
    assert _profile(doc, "REACH", "core")["result"] == "success"
    assert not is_conformant(doc)
    declared = sample_doc(supported_features={"HeadlessLabelIgnored": ["PROXY-04"]})
    assert _profile(declared, "PROXY", "extended")["result"] == "failure"


def test_extended_failures_alone_keep_the_cluster_conformant():
    results = [result("DNS-03", "a"), result("DNS-07", "a", outcome="failed", level="extended")]
    assert is_conformant(sample_doc(results=results))
    assert is_conformant({"results": results})  # a document without verdict: computed from its results
    assert not is_conformant({"results": results, "verdict": "incomplete"})


def test_incomplete_core_profile_and_verdict_from_a_blocked_check():
    results = [result("PROXY-02", "a"), result("PROXY-01", "a", outcome="blocked",
                                                  reason="blocked by environment: no privileged pods")]
    doc = sample_doc(results=results)
    assert _profile(doc, "PROXY", "core")["result"] == "incomplete" and doc["verdict"] == "incomplete"
    assert verdict_reasons(results) == ["PROXY-01 a/ipv4: blocked (blocked by environment: no privileged pods)"]


def test_unknown_level_counts_in_summary_but_not_in_profiles():
    doc = sample_doc(results=[result("DNS-03", "a", level="unknown", outcome="failed")])
    assert doc["summary"]["failed"] == 1 and doc["profiles"] == []


def test_checks_sort_numerically_in_catalogue_area_order():
    checks = ["REACH-01", "DNS-10", "POD-02", "DNS-02", "EPS-01", "PROXY-03", "DNS-18"]
    assert sorted(checks, key=check_sort_key) == [
        "DNS-02", "DNS-10", "DNS-18", "POD-02", "EPS-01", "PROXY-03", "REACH-01"]


def test_diff_lists_newly_failed_fixed_and_flipped():
    previous = sample_doc(results=[
        result("DNS-03", "s", "ipv4", "failed"),     # -> passed: fixed
        result("DNS-09", "s", "ipv4", "passed"),     # -> failed: newly failed
        result("DNS-11", "s", "ipv4", "passed"),     # -> skipped: flipped
        result("DNS-12", "s", "ipv4", "failed"),     # -> failed: unchanged
        result("DNS-13", "s", "ipv4", "passed"),     # gone: not listed
    ], run_id="old")
    current = sample_doc(results=[
        result("DNS-03", "s", "ipv4", "passed"),
        result("DNS-09", "s", "ipv4", "failed"),
        result("DNS-11", "s", "ipv4", "skipped"),
        result("DNS-12", "s", "ipv4", "failed"),
        result("DNS-12", "s", "ipv6", "failed"),     # new and failed: newly failed
        result("DNS-14", "s", "ipv4", "passed"),     # new and passed: not listed
    ])
    diff = compare_runs(current, previous)
    keys = {name: [(e["check"], e["ip_family"]) for e in entries] for name, entries in diff.items()}
    assert keys == {"newly_failed": [("DNS-09", "ipv4"), ("DNS-12", "ipv6")],
                    "fixed": [("DNS-03", "ipv4")],
                    "flipped": [("DNS-11", "ipv4")]}
    assert diff["newly_failed"][1]["before"] is None
