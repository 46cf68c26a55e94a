"""junit.xml agrees with conformance.json: one testcase per result, same counts."""

import xml.etree.ElementTree as ET

from svc_conformance.reports.junit import render_junit
from reports_samples import sample_doc


def test_junit_counts_match_the_json_summary():
    doc = sample_doc()
    root = ET.fromstring(render_junit(doc))
    suite = root.find("testsuite")
    summary = doc["summary"]
    for node in (root, suite):
        assert int(node.get("tests")) == summary["total"]
        assert int(node.get("failures")) == summary["failed"]
        assert int(node.get("skipped")) == summary["skipped"] + summary["not-supported"] + summary["blocked"]
        assert int(node.get("errors")) == 0
    cases = suite.findall("testcase")
    assert len(cases) == summary["total"]
    assert sum(1 for c in cases if c.find("failure") is not None) == summary["failed"]
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert sorted(s.get("type") for s in skipped) == ["blocked", "not-supported"]
    blocked = next(s for s in skipped if s.get("type") == "blocked")
    assert blocked.get("message") == "blocked by environment: no IPv6 route"


def test_junit_testcases_name_check_family_and_carry_reasons():
    doc = sample_doc()
    suite = ET.fromstring(render_junit(doc)).find("testsuite")
    names = {(c.get("classname"), c.get("name")) for c in suite.findall("testcase")}
    assert ("DNS.clusterip-deployment", "DNS-03[ipv6]") in names
    assert ("PROXY.clusterip-deployment", "PROXY-04") in names  # family "-" is not shown
    failure = next(c.find("failure") for c in suite.findall("testcase") if c.get("name") == "DNS-03[ipv6]")
    assert failure.get("message") == "A record is a pod IP"
    assert "observed:\nA 10.244.1.7" in failure.text
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["server_version"] == "v1.33.13" and props["ip_families"] == "ipv4,ipv6"
    assert props["verdict"] == "non-conformant" and props["supported_features"] == ""


def test_empty_run_is_valid_junit():
    root = ET.fromstring(render_junit(sample_doc(results=[], metrics=[])))
    assert root.get("tests") == "0" and root.find("testsuite").findall("testcase") == []
