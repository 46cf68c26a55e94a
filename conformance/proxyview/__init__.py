"""What kube-proxy and the data path show (rule dumps, the node inspector, node identity, a silent kube-proxy); imports only svc_conformance.core and .cluster."""
