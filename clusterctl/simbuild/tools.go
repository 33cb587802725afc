//go:build tools

// Package tools pins, via blank imports, the main packages that build.sh
// compiles, so that `go mod tidy` keeps their requirements in go.mod/go.sum.
// It is never compiled (build tag "tools").
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"

	_ "go.etcd.io/etcd/server/v3/etcdmain"

	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
