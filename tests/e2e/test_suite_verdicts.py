"""The suite's verdicts are true on a healthy cluster: exactly the healthy outcome map, exit 0.
(Faults: test_fault_catalogue.py; healthy variants: test_healthy_variants.py.)"""

import json

import pytest
from kubernetes import client

import expected_outcomes
from svc_conformance.reports.schema import schema_errors
from suite_runs import outcomes, run_suite

pytestmark = pytest.mark.e2e

FAULT_TIMEOUT_SCALE = "0.6"     # failing checks wait out their deadlines; 0.6 keeps DNS above the cache TTL


def test_healthy_cluster_passes_every_core_check(local_cluster, tmp_path, kube_api):
    code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    assert doc.get("results"), f"the suite produced no results:\n{output}"
    expected = expected_outcomes.healthy(local_cluster.ip_family, expected_outcomes.collected_items())
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, "outcomes differ from the healthy cluster's:\n" + "\n".join(wrong) + f"\n{output}"
    assert code == 0, f"a conformant run exits 0, got {code}\n{output}"
    for name in ("summary.html", "conformance.json", "conformance.yaml", "junit.xml"):
        assert (tmp_path / name).is_file(), f"{name} missing"
    assert doc["cluster"].get("cluster_domain") == local_cluster.cluster_domain
    assert "kubeconfig" not in json.dumps(doc["cluster"]), "a local path leaked into the report"
    assert schema_errors(doc) == [], "conformance.json departs from its schema"
    assert not (tmp_path / "bundles").exists(), "a conformant run wrote logs bundles"
    facts = doc["cluster"]
    assert facts.get("node_count", 0) >= 1 and facts.get("distribution") and facts.get("proxy_mode"), facts
    assert doc["tool"]["name"] == "svc-conformance" and doc["tool"]["catalogue"]["digest"].startswith("sha256:")
    left = client.CoreV1Api(kube_api).list_namespace(label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"namespaces left behind: {[(n.metadata.name, n.status.phase) for n in left]}\n{output}"
