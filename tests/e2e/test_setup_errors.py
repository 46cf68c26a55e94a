"""Environment problems the suite meets on real clusters are setup errors with one line and their exit
status, never a quiet "not supported". Real admission policies on the local cluster."""

import pytest
from kubernetes import client

from cluster_changes import family_probe_denied
from suite_runs import run_suite

pytestmark = pytest.mark.e2e


def test_refused_family_detection_is_a_setup_error_not_no_family(local_cluster, tmp_path, kube_api):
    with family_probe_denied(kube_api):
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
    assert code == 14, f"expected exit 14 (admission), got {code}\n{output[-2000:]}"
    assert "cannot learn the cluster's IP families" in output and "family-probe" in output, output[-2000:]
    assert not any(r["outcome"] == "not-supported" for r in doc.get("results", [])), \
        "a refused detection must not turn checks into not-supported"
    left = client.CoreV1Api(kube_api).list_namespace(label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"namespaces left behind: {[n.metadata.name for n in left]}"
