package clusterctl

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/internal/kube"
)

// fakeNodeAnnotation marks the nodes kwok runs, which the simulator makes
// (see sim.fakeNode): no kubelet, no container runtime behind them.
const fakeNodeAnnotation = "kwok.x-k8s.io/node"

// RunsOnSimulator reports whether the cluster cfg reaches is k8slab's
// simulator, told by its nodes: every one is kwok's. It is how a command
// reaching a cluster through a kubeconfig (a CI job's $KUBECONFIG) learns
// what Target.Simulated knows only of the cluster 'cluster up' made. A
// cluster whose nodes cannot be read counts as a real one.
func RunsOnSimulator(ctx context.Context, cfg *rest.Config) bool {
	ctx, cancel := context.WithTimeout(ctx, APITimeout)
	defer cancel()
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return false
	}
	nodes, err := client.Resource(kube.NodesGVR).List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		return false
	}
	for _, n := range nodes.Items {
		if n.GetAnnotations()[fakeNodeAnnotation] != "fake" {
			return false
		}
	}
	return true
}
