"""Carry facts and metrics recorded on pytest-xdist workers to the controller.

Results themselves need no help: xdist already ships every test report (with its
``user_properties`` and report sections) to the controller. Facts and metrics are not part of a
report, so a worker queues them as *messages* in an outbox and ships them two ways:

1. piggy-backed on its next test report, as one ``report.user_properties`` entry
   ``("svc-reports:payload", "<json list of messages>")`` (added in ``pytest_runtest_makereport``);
2. whatever is still queued when the worker ends (e.g. recorded during session teardown) goes
   into ``config.workeroutput``, which xdist hands to the controller's ``pytest_testnodedown``.

Without xdist (or on the controller) messages are delivered straight to the recorder.
Messages are plain dicts with a ``kind``: ``facts``, ``metric`` or ``collection``.
"""

from __future__ import annotations

import json

from svc_conformance.reports.outcomes import INTERNAL_KEY_PREFIX

PAYLOAD_KEY = INTERNAL_KEY_PREFIX + "payload"
WORKEROUTPUT_KEY = "svc_reports_payload"
RUN_ID_KEY = "svc_reports_run_id"


def encode(messages: list[dict]) -> str:
    # JSON text survives execnet and any junitxml writer that echoes user_properties.
    return json.dumps(messages, default=str)


def decode(text: str) -> list[dict]:
    messages = json.loads(text)
    return [m for m in messages if isinstance(m, dict) and "kind" in m]


def attach_to_report(report, outbox: list[dict]) -> None:
    if outbox:
        report.user_properties.append((PAYLOAD_KEY, encode(outbox)))
        outbox.clear()


def messages_in_report(report) -> list[dict]:
    messages = []
    for entry in getattr(report, "user_properties", None) or ():
        if len(entry) == 2 and entry[0] == PAYLOAD_KEY:
            messages.extend(decode(entry[1]))
    return messages
