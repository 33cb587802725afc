//go:build tools

// Package tools pins, via blank imports, the node binaries the kind node
// image's "kube" stage builds, so `go mod tidy` keeps their requirements.
// The control plane's packages and etcd/kwok stay imported too: the module
// graph is then the simulator's (clusterctl/simbuild), the same versions of
// every shared package, so the Go build cache the simulator filled is reused
// instead of compiling Kubernetes a second time.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"

	_ "go.etcd.io/etcd/server/v3/etcdmain"

	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
