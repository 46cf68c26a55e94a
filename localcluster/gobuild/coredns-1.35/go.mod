// Wrapper module: builds CoreDNS as upstream does, its own main package with every plugin of that
// version's plugin.cfg (core/plugin/zplugin.go), for Kubernetes 1.35 (kubeadm's CoreDNSVersion).
module localcluster/coredns

go 1.24.0

require github.com/coredns/coredns v1.13.1
