"""Which nodes a PROXY verdict is judged on (issue 17, item 2): a node that is not Ready, not Linux or
has no kubelet of its own is left out at once and named; every other node needs a Ready inspector pod.
Fed with a real NodeList and inspector pods captured from a 3-node local cluster with a ghost Node
object (tests/unit/data/nodes_with_ghost.json, pods_node_inspector_with_ghost.json)."""

import copy
import json
from pathlib import Path

from kubernetes import client

from svc_conformance.fixtures.namespaces import describe_stuck
from svc_conformance.proxyview.inspector import Inspector, node_map, not_inspectable

DATA = Path(__file__).parent / "data"


def _objects(name: str, kind: str) -> list:
    """Items of a captured list, as the client's own deserializer builds them from the API's JSON."""
    api = client.ApiClient()
    doc = json.loads((DATA / name).read_text())

    class _Response:
        data = json.dumps(doc)
    return api.deserialize(_Response(), kind).items


NODES = _objects("nodes_with_ghost.json", "V1NodeList")
PODS = _objects("pods_node_inspector_with_ghost.json", "V1PodList")
GHOST = "ghost-node"
CONTROL_PLANE = next(n for n in NODES if n.metadata.name == "localcluster")


def test_the_ghost_is_left_out_as_not_ready_and_the_others_are_inspected():
    inspected, left_out, waiting = node_map(NODES, PODS)
    assert sorted(inspected) == ["localcluster", "localcluster-worker1", "localcluster-worker2"]
    assert list(left_out) == [GHOST] and left_out[GHOST].startswith("NotReady")
    assert waiting == []


def test_a_ready_node_without_a_ready_inspector_pod_is_waited_for():
    pods = [p for p in PODS if p.spec.node_name != "localcluster-worker1"]
    inspected, left_out, waiting = node_map(NODES, pods)
    assert waiting == ["localcluster-worker1"] and GHOST in left_out


def test_other_operating_systems_and_virtual_nodes_are_left_out():
    windows, virtual, fargate = (copy.deepcopy(CONTROL_PLANE) for _ in range(3))
    windows.metadata.labels["kubernetes.io/os"] = "windows"
    virtual.metadata.labels["type"] = "virtual-kubelet"
    fargate.metadata.labels["eks.amazonaws.com/compute-type"] = "fargate"
    assert not_inspectable(windows) == "windows node"
    assert not_inspectable(virtual).startswith("virtual kubelet")
    assert not_inspectable(fargate).startswith("Fargate node")
    assert not_inspectable(CONTROL_PLANE) is None


def test_the_coverage_names_every_node_left_out():
    inspected, left_out, _ = node_map(NODES, PODS)
    inspector = Inspector(cluster=None, namespace="ns", pods=inspected, left_out=left_out)
    assert inspector.coverage() == (f"judged on 3 of 4 nodes; {GHOST}: {left_out[GHOST]}, not inspected")


def test_a_namespace_held_by_a_finalizer_is_named_with_what_holds_it():
    ns = client.V1Namespace(
        metadata=client.V1ObjectMeta(name="svcconf-x-clusterip-deployment", finalizers=["example.com/hold"]),
        spec=client.V1NamespaceSpec(finalizers=["kubernetes"]),
        status=client.V1NamespaceStatus(phase="Terminating", conditions=[client.V1NamespaceCondition(
            type="NamespaceFinalizersRemaining", status="True",
            message="Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances")]))
    described = describe_stuck(ns)
    assert described.startswith("svcconf-x-clusterip-deployment (NamespaceFinalizersRemaining: Some content")
    assert "finalizers ['kubernetes', 'example.com/hold']" in described
