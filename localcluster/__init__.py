"""A real single-node Kubernetes cluster from upstream components, without Docker.

`python -m localcluster up|status|kubeconfig|down` — see README.md.
"""
