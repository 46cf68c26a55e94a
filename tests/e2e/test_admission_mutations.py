"""Pods mutated by admission, for real on the local cluster (issue 17, items 8 and 9): a mesh's sidecar
plus readOnlyRootFilesystem on every container, and OpenShift's restricted SCC (UIDs assigned from a
namespace range, others refused). A webhook server this test starts (admission_webhook.py) mutates;
a ValidatingAdmissionPolicy refuses (admission_changes.py). The node inspector is left alone: meshes
skip host-network pods, OpenShift's privileged SCC lets it run as root."""

import secrets
import time

import pytest
from kubernetes import client

import admission_changes as admission
from admission_webhook import SIDECAR, UID_RANGE
from cluster_changes import suite_namespace
from healthy_runs import assert_healthy_run, nothing_left, record
from suite_runs import run_suite, suite_seconds
from svc_conformance.cluster.kubeconfig import EXIT_ADMISSION
from svc_conformance.reports.outcomes import is_errored

pytestmark = pytest.mark.e2e


def _run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def _test_pods(seen: dict) -> dict:
    """The run's pods outside the inspector's namespaces (those the admission is meant to change)."""
    return {k: spec for k, spec in seen.items() if "-inspector" not in k.split("/")[0]}


def _read_only(container: dict) -> bool:
    return bool((container.get("securityContext") or {}).get("readOnlyRootFilesystem"))


def test_mesh_sidecar_and_read_only_root(local_cluster, tmp_path, kube_api):
    """Every test pod gets a `mesh-proxy` sidecar and a read-only root filesystem on every container:
    execs name their container and the probes write only to their emptyDir, so the verdict is the
    healthy one."""
    run_id = _run_id()
    core = client.CoreV1Api(kube_api)
    with admission.mutating_webhook(kube_api, "mesh") as hook, \
            admission.pods_of_run(core, suite_namespace(run_id, "")) as seen:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, run_id=run_id)
        wall_s = time.monotonic() - start
    pods = _test_pods(seen)
    record("admission-mesh", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc), exit=code,
            pods_seen=len(pods), pods_mutated=len(hook.mutated))
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "a mesh sidecar and read-only roots")
    assert pods, f"no pod of the run was seen (namespaces {suite_namespace(run_id, '')}*)"
    plain = [k for k, spec in pods.items() if SIDECAR not in [c["name"] for c in spec["containers"]]]
    assert not plain, f"pods without the sidecar: the mutation did not happen for {plain}"
    writable = [k for k, spec in pods.items() if not all(_read_only(c) for c in spec["containers"])]
    assert not writable, f"pods with a writable root filesystem: {writable}"
    inspectors = [spec for k, spec in seen.items() if k not in pods]
    assert all(len(spec["containers"]) == 1 for spec in inspectors), "the node inspector was mutated"


def test_openshift_uid_range_refuses_the_fixed_uid(local_cluster, tmp_path, kube_api):
    """The default `--run-as-user 65534` is outside the namespace's range: admission refuses the first
    pod, and the run stops with exit 14 and the policy's message - never a failed or skipped check."""
    run_id = _run_id()
    with admission.openshift_admission(kube_api):
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, run_id=run_id)
        wall_s = time.monotonic() - start
    record("admission-openshift-fixed-uid", wall_s=round(wall_s, 1), exit=code)
    assert code == EXIT_ADMISSION, f"expected exit {EXIT_ADMISSION} (admission), got {code}\n{output[-3000:]}"
    lines = [line for line in output.splitlines() if admission.UID_MESSAGE in line]
    assert any(line.startswith("svc-conformance:") or "svc-conformance: " in line for line in lines), \
        f"no line names the refusal ({admission.UID_MESSAGE!r}):\n{output[-3000:]}"
    # Items stopped by the refusal are errored ("failed" with a could-not-run reason), never failed checks.
    failed = [r for r in doc.get("results", []) if r["outcome"] == "failed" and not is_errored(r)]
    assert not failed, f"a refused pod turned into failed checks: {[(r['scenario'], r['check']) for r in failed]}"
    nothing_left(kube_api, "a refused fixed UID", output)


def test_openshift_uid_range_with_auto_uid(local_cluster, tmp_path, kube_api):
    """`--run-as-user auto` names no UID: the SCC-like webhook assigns the range's first UID, the
    policy accepts it, and the verdict is the healthy one."""
    run_id = _run_id()
    core = client.CoreV1Api(kube_api)
    with admission.openshift_admission(kube_api) as hook, \
            admission.pods_of_run(core, suite_namespace(run_id, "")) as seen:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, "--run-as-user", "auto", run_id=run_id)
        wall_s = time.monotonic() - start
    pods = _test_pods(seen)
    record("admission-openshift-auto-uid", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc), exit=code,
            pods_seen=len(pods), pods_mutated=len(hook.mutated))
    assert_healthy_run(local_cluster, kube_api, code, doc, output, "UIDs assigned from a namespace range")
    assert pods, f"no pod of the run was seen (namespaces {suite_namespace(run_id, '')}*)"
    uids = {k: (spec.get("securityContext") or {}).get("runAsUser") for k, spec in pods.items()}
    assert UID_RANGE[0] in uids.values(), f"no pod of the run ran with the assigned UID {UID_RANGE[0]}: {uids}"
    outside = {k: u for k, u in uids.items() if u != UID_RANGE[0]}
    assert not outside, f"pods not given the assigned UID: {outside}"


def test_inspector_without_host_network_blocks_the_proxy_checks(local_cluster, tmp_path, kube_api):
    """Issue 17 item 11: a mutation strips hostNetwork from the node inspector's pods (as a sandboxing
    policy would), so each dumps an empty network namespace of its own. That is never taken for "no
    kube-proxy here" (a kube-proxy replacement, PROXY-05 not-supported): the dump is not proven to be the
    node's, so the PROXY checks are blocked, saying why; everything else is healthy."""
    import expected_outcomes
    from suite_runs import outcomes
    with admission.mutating_webhook(kube_api, "strip-host-network") as hook:
        start = time.monotonic()
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path)
        wall_s = time.monotonic() - start
    record("admission-inspector-host-network-stripped", wall_s=round(wall_s, 1), suite_s=suite_seconds(doc),
           exit=code, pods_mutated=len(hook.mutated))
    assert hook.mutated, "no inspector pod was mutated (the condition did not happen)"
    expected = expected_outcomes.healthy(local_cluster.ip_family, expected_outcomes.collected_items())
    expected.update({("clusterip-deployment", "PROXY-01", "-"): "blocked",
                     ("clusterip-deployment", "PROXY-02", "-"): "blocked"})
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, "outcomes differ from the expected map:\n" + "\n".join(wrong) + f"\n{output[-3000:]}"
    reasons = {r["reason"] for r in doc["results"] if r["outcome"] == "blocked"}
    assert reasons and all("not the node's network namespace" in r for r in reasons), reasons
    assert doc.get("verdict") == "incomplete" and code == 8, f"exit {code}, verdict {doc.get('verdict')}"
    nothing_left(kube_api, "an inspector without hostNetwork", output)
