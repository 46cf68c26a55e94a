"""How the cluster is touched (client, kubeconfig, manifests, deploys, the client pod's shell and probes); imports only svc_conformance.core."""
