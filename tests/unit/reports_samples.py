"""Synthetic conformance documents for the reports unit tests (no cluster needed)."""

from __future__ import annotations

from svc_conformance.reports.document import build_document


def result(check, scenario, family="ipv4", outcome="passed", level="core", reason="", evidence=None):
    return {
        "check": check, "scenario": scenario, "ip_family": family, "level": level,
        "area": check.split("-")[0], "feature": "test", "proxy_mode": "iptables",
        "outcome": outcome, "reason": reason, "duration_s": 0.5,
        "nodeid": f"conformance/test_{scenario}.py::test_{check}[{family}]",
        "evidence": evidence or [],
    }


def sample_results() -> list[dict]:
    failed_evidence = [{"name": "expected", "content": "A 10.96.0.10"},
                       {"name": "observed", "content": "A 10.244.1.7"},
                       {"name": "dns answer", "content": '{"rcode": "NOERROR"}'}]
    return [
        result("DNS-03", "clusterip-deployment", "ipv4"),
        result("DNS-03", "clusterip-deployment", "ipv6", "failed", reason="A record is a pod IP",
               evidence=failed_evidence),
        result("DNS-09", "clusterip-deployment", "ipv4"),
        result("DNS-11", "headless-deployment", "ipv4"),
        result("DNS-11", "headless-deployment", "ipv6", "blocked",
               reason="blocked by environment: no IPv6 route"),
        result("DNS-12", "headless-deployment", "ipv4", "passed"),
        result("POD-09", "headless-deployment", "ipv4", "not-supported", level="extended",
               reason="not supported: CoreDNS pods verified"),
        result("PROXY-04", "clusterip-deployment", "-", "failed", level="extended", reason="VIP still answers"),
        result("REACH-01", "headless-deployment", "ipv4", "passed"),
    ]


def sample_metrics() -> list[dict]:
    return [
        {"name": "dns_convergence_s", "scenario": "clusterip-deployment", "ip_family": "ipv4", "value": 1.25},
        {"name": "dns_convergence_s", "scenario": "headless-deployment", "ip_family": "ipv4", "value": 3.5},
        {"name": "dns_convergence_s", "scenario": "headless-deployment", "ip_family": "ipv4", "value": 2.0},
        {"name": "other_metric", "scenario": "x", "value": 99},
    ]


def sample_doc(results=None, metrics=None, run_id="run-1", supported_features=None) -> dict:
    return build_document(
        run_id=run_id, started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:10:00+00:00",
        cluster={"server_version": "v1.33.13", "dns": {"implementation": "CoreDNS", "version": "1.12.0"},
                 "proxy_mode": "iptables", "ip_families": ["ipv4", "ipv6"]},
        results=sample_results() if results is None else results,
        metrics=sample_metrics() if metrics is None else metrics,
        supported_features=supported_features,
    )
