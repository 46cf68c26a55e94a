"""Every scenario of the suite, by short name.

SVC_CONFORMANCE_SCENARIO_COPIES=k (a benchmark knob, `benchmarks/scaling.py`) adds k-1 copies of every
scenario, `<name>-c2` ... `<name>-c<k>`: same manifests and checks, each in its own namespace. A
conformance verdict is about the k=1 catalogue; copies only measure how the suite's cost grows.
"""

import dataclasses
import os

from svc_conformance.scenarios import (bare_pod_hostname, clusterip_deployment, endpoints_legacy, externalname,
                                   ip_family_policies, large_headless, ports, readiness, scaled_to_zero, selectorless_endpointslice,
                                   session_affinity, statefulset_headless, statefulset_identity)

ALL = {m.SCENARIO.name: m.SCENARIO for m in (
    clusterip_deployment, statefulset_headless, statefulset_identity, bare_pod_hostname, selectorless_endpointslice,
    endpoints_legacy, externalname, readiness, scaled_to_zero, ports, session_affinity, ip_family_policies, large_headless)}

COPIES_ENV = "SVC_CONFORMANCE_SCENARIO_COPIES"


def _copies() -> int:
    value = os.environ.get(COPIES_ENV, "1").strip() or "1"
    if not value.isdigit() or not 1 <= int(value) <= 8:
        raise SystemExit(f"svc-conformance: {COPIES_ENV} must be a whole number from 1 to 8, not {value!r}")
    return int(value)


ALL.update({f"{s.name}-c{i}": dataclasses.replace(s, name=f"{s.name}-c{i}", copy_of=s.name)
            for i in range(2, _copies() + 1) for s in list(ALL.values())})
