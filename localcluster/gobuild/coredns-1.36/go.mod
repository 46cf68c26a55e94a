// Wrapper module: builds CoreDNS as upstream does, its own main package with every plugin of that
// version's plugin.cfg (core/plugin/zplugin.go), for Kubernetes 1.36 (kubeadm's CoreDNSVersion).
module localcluster/coredns

go 1.25.0

require github.com/coredns/coredns v1.14.2
