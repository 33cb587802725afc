package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/clusterctl"
)

// target is how the lab commands reach a cluster and which namespace.
type target struct {
	kubeconfig, context, namespace string
}

func (t *target) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.kubeconfig, "kubeconfig", "", "kubeconfig to use (default: $KUBECONFIG, else the cluster 'k8slab cluster up' made, else ~/.kube/config)")
	cmd.Flags().StringVar(&t.context, "context", "", "kubeconfig context to use")
	cmd.Flags().StringVarP(&t.namespace, "namespace", "n", "", "namespace the lab runs in (default lab-<id>; workshops give each learner their own)")
}

// resolve is the one answer to "which cluster?" for every command and
// screen (see clusterctl.Resolve for the order).
func (g *globals) resolve(t *target) clusterctl.Target {
	state, _ := g.stateDirectory()
	cache, _ := clusterctl.DefaultCacheDir()
	return clusterctl.Resolve(clusterctl.Config{
		StateDir: state, CacheDir: cache, SimBinDir: os.Getenv("K8SLAB_SIM_BIN"),
		Kubeconfig: t.kubeconfig, Context: t.context,
	})
}

// kubeconfigPath is the kubeconfig of the resolved cluster ("" for
// client-go's default rules).
func (g *globals) kubeconfigPath(t *target) string {
	return g.resolve(t).Kubeconfig
}

// client connects to the resolved cluster.
func (g *globals) client(t *target) (dynamic.Interface, error) {
	tg := g.resolve(t)
	if tg.Own && tg.Kubeconfig == "" {
		return nil, clusterctl.ErrNoCluster
	}
	cfg, err := clusterctl.RESTConfig(tg.Kubeconfig, tg.Context)
	if err != nil {
		return nil, fmt.Errorf("%w; create a cluster with 'k8slab cluster up' or pass --kubeconfig", err)
	}
	return dynamic.NewForConfig(cfg)
}
