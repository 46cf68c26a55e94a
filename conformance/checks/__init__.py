"""How a check is declared and judged (catalogue, scenario, context, assertions, logs bundles); imports only svc_conformance.core, .cluster, .dnsview and .proxyview."""
