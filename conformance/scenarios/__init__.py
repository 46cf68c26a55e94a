"""Every scenario of the suite, by short name."""

from svc_conformance.scenarios import (bare_pod_hostname, clusterip_deployment, endpoints_legacy, externalname,
                                   ip_family_policies, large_headless, ports, readiness, scaled_to_zero, selectorless_endpointslice,
                                   session_affinity, statefulset_headless)

ALL = {m.SCENARIO.name: m.SCENARIO for m in (
    clusterip_deployment, statefulset_headless, bare_pod_hostname, selectorless_endpointslice,
    endpoints_legacy, externalname, readiness, scaled_to_zero, ports, session_affinity, ip_family_policies, large_headless)}
