"""A scenario whose pods cannot be placed fails at once with the scheduler's reason (issue 17, item 6),
after `unschedulable-grace`, instead of waiting out the pods-ready deadline; a scale-up on its way
keeps the deadline. Decisions on V1Pod objects built as data."""

import datetime
import time

import pytest
from kubernetes.client import (CoreV1Event, V1ObjectMeta, V1ObjectReference, V1Pod, V1PodCondition, V1PodSpec,
                               V1PodStatus)

from svc_conformance.cluster import deploy
from svc_conformance.core import waits
from svc_conformance.core.outcomes import CheckFailed

MESSAGE = ("0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: infra}. preemption: 0/3 "
           "nodes are available: 3 Preemption is not helpful for scheduling.")


def pod(name="web-0", *, condition=None, node=None, deleting=False, nominated=None, uid=None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name, uid=uid or f"uid-{name}",
                                       deletion_timestamp=datetime.datetime(2026, 1, 1) if deleting else None),
                 spec=V1PodSpec(containers=[], node_name=node),
                 status=V1PodStatus(phase="Pending", conditions=[condition] if condition else None,
                                    nominated_node_name=nominated))


def unschedulable(message=MESSAGE) -> V1PodCondition:
    return V1PodCondition(type="PodScheduled", status="False", reason="Unschedulable", message=message)


def event(reason, message="") -> CoreV1Event:
    return CoreV1Event(metadata=V1ObjectMeta(name="e"), involved_object=V1ObjectReference(name="web-0"),
                       reason=reason, message=message)


def test_an_unschedulable_pod_gives_the_schedulers_message():
    assert deploy.unschedulable(pod(condition=unschedulable())) == MESSAGE
    assert deploy.unschedulable(pod(condition=unschedulable("0/1 nodes\n  are available"))) == \
        "0/1 nodes are available"


@pytest.mark.parametrize("p", [
    pod(),                                                                        # no condition yet
    pod(condition=V1PodCondition(type="PodScheduled", status="True")),
    pod(condition=V1PodCondition(type="PodScheduled", status="False", reason="SchedulingGated")),
    pod(condition=V1PodCondition(type="Ready", status="False", reason="Unschedulable")),
    pod(condition=unschedulable(), node="node-a"),                                # placed meanwhile
    pod(condition=unschedulable(), deleting=True),
    pod(condition=unschedulable(), nominated="node-b"),                           # preemption under way
])
def test_anything_else_is_not_unschedulable(p):
    assert deploy.unschedulable(p) is None


def test_a_pod_is_stuck_only_after_the_grace():
    placement = deploy.Placement(grace_s=10)
    stuck = [pod(condition=unschedulable()), pod("client")]
    assert placement.stuck(stuck, now=100.0) == []
    assert placement.stuck(stuck, now=109.9) == []
    assert placement.stuck(stuck, now=110.0) == [("web-0", MESSAGE)]


def test_a_pod_placed_meanwhile_starts_over():
    placement = deploy.Placement(grace_s=10)
    placement.stuck([pod(condition=unschedulable())], now=0.0)
    placement.stuck([pod(node="node-a")], now=5.0)
    assert placement.stuck([pod(condition=unschedulable())], now=12.0) == []
    # a replacement of the same name is another pod (another uid)
    placement.stuck([pod(condition=unschedulable(), uid="old")], now=0.0)
    assert placement.stuck([pod(condition=unschedulable(), uid="new")], now=20.0) == []


def test_a_scale_up_on_its_way_keeps_the_deadline():
    assert deploy.scale_up_coming([event("FailedScheduling", MESSAGE), event("TriggeredScaleUp", "pod triggered scale-up")])
    assert deploy.scale_up_coming([event("Nominated", "Pod should schedule on: nodeclaim/default-x")])
    assert not deploy.scale_up_coming([event("FailedScheduling", MESSAGE), event("NotTriggerScaleUp", "no fit")])
    placement = deploy.Placement(grace_s=0)
    placement.scaling.add("web-0")
    assert placement.stuck([pod(condition=unschedulable())], now=1.0) == []


def test_the_message_falls_back_to_the_newest_failed_scheduling_event():
    events = [event("FailedScheduling", "0/3 nodes: old"), event("Scheduled", "x"),
              event("FailedScheduling", "0/3 nodes  are\navailable: new")]
    assert deploy.scheduling_message(events) == "0/3 nodes are available: new"
    assert deploy.scheduling_message([event("Pulled", "x")]) == ""


def test_the_grace_is_a_named_short_timeout():
    assert 5 <= waits.TIMEOUTS["unschedulable-grace"] <= 30 < waits.TIMEOUTS["pods-ready"]


class FakeCore:
    def __init__(self, pods, events):
        self.pods, self.events = pods, events

    def list_namespaced_pod(self, namespace):
        return type("L", (), {"items": self.pods})

    def list_namespaced_event(self, namespace, field_selector=None):
        return type("L", (), {"items": self.events})


class FakeApps:
    def list_namespaced_deployment(self, namespace):
        return type("L", (), {"items": []})

    list_namespaced_stateful_set = list_namespaced_deployment


class FakeCluster:
    def __init__(self, pods, events):
        self.core, self.apps = FakeCore(pods, events), FakeApps()


def test_wait_ready_fails_the_scenario_with_the_reason_well_before_the_deadline(monkeypatch):
    monkeypatch.setitem(waits.TIMEOUTS, "unschedulable-grace", 0.5)
    cluster = FakeCluster([pod("h1-pod", condition=unschedulable(""))], [event("FailedScheduling", MESSAGE)])
    start = time.monotonic()
    with pytest.raises(CheckFailed) as err:
        deploy.wait_ready(cluster, "ns")
    assert time.monotonic() - start < 5             # one poll interval past the grace, not 180 s
    assert f"pod/h1-pod cannot be scheduled: {MESSAGE}" in err.value.observed
    assert "--toleration" in err.value.observed
