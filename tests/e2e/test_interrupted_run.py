"""A Ctrl-C'd run leaves nothing behind once `svc-conformance cleanup` has run (and the run's own
teardown usually removes everything already)."""

import signal
import subprocess
import sys
import time

import pytest
from kubernetes import client

from suite_runs import ROOT

pytestmark = pytest.mark.e2e
SUITE_LABEL = "app.kubernetes.io/managed-by=svc-conformance"


def _suite_namespaces(core) -> list[str]:
    return [n.metadata.name for n in core.list_namespace(label_selector=SUITE_LABEL).items]


def test_ctrl_c_then_cleanup_leaves_nothing(local_cluster, kube_api, tmp_path):
    core = client.CoreV1Api(kube_api)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
                             "--kubeconfig", str(local_cluster.kubeconfig), "--report-dir", str(tmp_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _suite_namespaces(core):
            time.sleep(0.5)
        assert _suite_namespaces(core), "the run created no namespace within 120 s"
        proc.send_signal(signal.SIGINT)            # what Ctrl-C sends
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, output[-2000:]
    cleanup = subprocess.run([sys.executable, "-m", "svc_conformance", "cleanup", "--kubeconfig",
                              str(local_cluster.kubeconfig)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert not _suite_namespaces(core)
    # Nothing cluster-scoped: the suite creates none; no EndpointSlice or Service of it anywhere else.
    leftovers = [s.metadata.name for s in client.DiscoveryV1Api(kube_api).list_endpoint_slice_for_all_namespaces(
        label_selector="svc-conformance.io/run-id").items]
    assert not leftovers, leftovers
