"""Hand-made EndpointSlices (as a user or an external controller would write them)."""

ADDRESS_TYPE = {"ipv4": "IPv4", "ipv6": "IPv6"}


def endpoint_slice(name: str, service: str, family: str, ips: list[str], port_name: str, port: int,
                   ready: bool = True) -> dict:
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service,
                                              "endpointslice.kubernetes.io/managed-by": "svc-conformance"}},
        "addressType": ADDRESS_TYPE[family],
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": ready}} for ip in ips],
    }
