"""JUnit XML with one testcase per conformance result.

Counts match conformance.json: ``failures`` = failed, ``skipped`` = skipped + not-supported + blocked
(each ``<skipped type="...">`` names which), ``errors`` = 0 (a setup error is a failed check, see
reports.outcomes). The verdict and the declared features are suite properties.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from svc_conformance.reports.document import count_outcomes


def _testcase_name(result: dict) -> str:
    family = result.get("ip_family", "-")
    return result["check"] if family in ("", "-") else f"{result['check']}[{family}]"


def _evidence_text(result: dict) -> str:
    parts = [f"{e['name']}:\n{e['content']}" for e in result.get("evidence", ())]
    return "\n\n".join(parts)


def render_junit(doc: dict) -> str:
    results = doc.get("results", [])
    counts = count_outcomes(results)
    totals = {
        "tests": str(counts["total"]),
        "failures": str(counts["failed"]),
        "errors": "0",
        "skipped": str(counts["skipped"] + counts["not-supported"] + counts["blocked"]),
        "time": f"{sum(r.get('duration_s', 0.0) for r in results):.3f}",
    }
    root = ET.Element("testsuites", {"name": "svc-conformance", **totals})
    suite = ET.SubElement(root, "testsuite", {
        "name": "svc-conformance",
        **totals,
        "timestamp": doc.get("started", ""),
    })
    properties = ET.SubElement(suite, "properties")
    cluster = doc.get("cluster", {})
    dns = cluster.get("dns", {}) or {}
    for name, value in (("run_id", doc.get("run_id", "")),
                        ("verdict", doc.get("verdict", "")),
                        ("supported_features", ",".join(doc.get("supported_features", []) or [])),
                        ("server_version", cluster.get("server_version", "")),
                        ("dns", f"{dns.get('implementation', '')} {dns.get('version', '')}".strip()),
                        ("proxy_mode", cluster.get("proxy_mode", "")),
                        ("ip_families", ",".join(cluster.get("ip_families", []) or []))):
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})

    for result in results:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{result.get('area', '')}.{result.get('scenario', '-')}",
            "name": _testcase_name(result),
            "time": f"{result.get('duration_s', 0.0):.3f}",
            "file": result.get("nodeid", "").split("::", 1)[0],
        })
        outcome, reason = result["outcome"], result.get("reason", "")
        if outcome == "failed":
            node = ET.SubElement(case, "failure", {"message": reason, "type": result.get("level", "")})
            node.text = _evidence_text(result) or reason
        elif outcome in ("skipped", "not-supported", "blocked"):
            ET.SubElement(case, "skipped", {"message": reason, "type": outcome})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
