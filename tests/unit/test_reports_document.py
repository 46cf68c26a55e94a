"""conformance.json building: counts, profile roll-up, ordering, diff against a previous run."""

import json

import pytest
import yaml

from reports.diff import compare_runs
from reports.document import SCHEMA, check_sort_key, is_conformant, profile_result, roll_up_profiles
from reports_samples import result, sample_doc


def _profile(doc, name, level):
    matches = [p for p in doc["profiles"] if (p["name"], p["level"]) == (name, level)]
    assert len(matches) == 1, doc["profiles"]
    return matches[0]


def test_document_has_the_design_schema_fields():
    doc = sample_doc()
    assert doc["schema"] == SCHEMA
    assert set(doc) >= {"run_id", "started", "finished", "cluster", "results", "metrics", "profiles", "summary"}
    for entry in doc["results"]:
        assert set(entry) >= {"check", "scenario", "ip_family", "level", "area", "outcome", "reason",
                              "duration_s", "nodeid", "evidence"}
    assert doc["summary"] == {"passed": 5, "failed": 2, "skipped": 1, "not-supported": 1, "total": 9}
    json.dumps(doc)  # JSON-able as a whole
    assert yaml.safe_load(yaml.safe_dump(doc)) == doc


@pytest.mark.parametrize("level, counts, expected", [
    ("core", {"passed": 3, "failed": 1, "skipped": 0, "not-supported": 0}, "failure"),
    ("core", {"passed": 0, "failed": 2, "skipped": 0, "not-supported": 0}, "failure"),
    ("core", {"passed": 3, "failed": 0, "skipped": 2, "not-supported": 1}, "success"),
    ("core", {"passed": 0, "failed": 0, "skipped": 2, "not-supported": 0}, "partial"),
    ("extended", {"passed": 2, "failed": 1, "skipped": 0, "not-supported": 0}, "partial"),
    ("extended", {"passed": 0, "failed": 1, "skipped": 0, "not-supported": 0}, "partial"),
    ("extended", {"passed": 1, "failed": 0, "skipped": 0, "not-supported": 3}, "success"),
    ("extended", {"passed": 0, "failed": 0, "skipped": 0, "not-supported": 3}, "partial"),
])
def test_profile_result_rule(level, counts, expected):
    assert profile_result(level, counts) == expected


def test_roll_up_groups_by_area_and_level_and_omits_empty_profiles():
    doc = sample_doc()
    assert [(p["name"], p["level"]) for p in doc["profiles"]] == [
        ("DNS", "core"), ("POD", "extended"), ("PROXY", "extended"), ("REACH", "core")]
    dns = _profile(doc, "DNS", "core")
    assert (dns["result"], dns["passed"], dns["failed"], dns["skipped"], dns["total"]) == ("failure", 4, 1, 1, 6)
    assert _profile(doc, "PROXY", "extended")["result"] == "partial"
    assert _profile(doc, "POD", "extended")["result"] == "partial"
    assert _profile(doc, "REACH", "core")["result"] == "success"
    assert not is_conformant(doc)


def test_extended_failures_alone_keep_the_cluster_conformant():
    results = [result("DNS-03", "a"), result("DNS-07", "a", outcome="failed", level="extended")]
    assert is_conformant({"profiles": roll_up_profiles(results)})


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
