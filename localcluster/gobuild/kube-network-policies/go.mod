// Wrapper module: builds kube-network-policies (the NetworkPolicy implementation kindnet uses) from its
// published module, for `python -m localcluster up --network-policy`. Its own cache key (build.py).
module localcluster/kube-network-policies

go 1.24.0

require sigs.k8s.io/kube-network-policies v0.8.0
