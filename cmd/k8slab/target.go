package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

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

// namespaceUsage rewrites the help of -n for a command where it does not
// mean the lab's namespace.
func namespaceUsage(cmd *cobra.Command, usage string) {
	cmd.Flags().Lookup("namespace").Usage = usage
}

// resolve is the one answer to "which cluster?" for every command and
// screen (see clusterctl.Resolve for the order).
func (g *globals) resolve(t *target) clusterctl.Target {
	cfg, err := g.clusterConfig(&clusterFlags{provider: clusterctl.Auto, name: clusterctl.DefaultName, kubeconfig: t.kubeconfig, context: t.context})
	if err != nil {
		// No state or cache folder: resolve with what there is; whatever
		// needs the folders reports the problem.
		cfg = clusterctl.Config{Kubeconfig: t.kubeconfig, Context: t.context}
	}
	return clusterctl.Resolve(cfg)
}

// kubeconfigPath is the kubeconfig of the resolved cluster ("" for
// client-go's default rules).
func (g *globals) kubeconfigPath(t *target) string {
	return g.resolve(t).Kubeconfig
}

// client connects to the resolved cluster.
func (g *globals) client(t *target) (dynamic.Interface, error) {
	cfg, err := g.restConfig(t)
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(cfg)
}

// restConfig loads the resolved cluster's kubeconfig. When there is none
// at all it says which files were looked for and how to get a cluster,
// instead of client-go's advice about KUBERNETES_MASTER.
func (g *globals) restConfig(t *target) (*rest.Config, error) {
	tg := g.resolve(t)
	if tg.Own && tg.Kubeconfig == "" {
		return nil, g.noKubeconfig(tg.Kubeconfig)
	}
	g.reviveRecorded(tg)
	cfg, err := clusterctl.RESTConfig(tg.Kubeconfig, tg.Context)
	if err == nil {
		return cfg, nil
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if clientcmd.IsEmptyConfig(e) {
			return nil, g.noKubeconfig(tg.Kubeconfig)
		}
	}
	return nil, fmt.Errorf("%w; create a cluster with 'k8slab cluster up' or pass --kubeconfig", err)
}

// noKubeconfig names every place a cluster was looked for.
func (g *globals) noKubeconfig(path string) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	var looked []string
	for _, f := range rules.GetLoadingPrecedence() {
		state := "no such file"
		if _, err := os.Stat(f); err == nil {
			state = "no current context in it"
		}
		looked = append(looked, fmt.Sprintf("%s (%s)", f, state))
	}
	if path == "" && os.Getenv("KUBECONFIG") == "" {
		if dir, err := g.stateDirectory(); err == nil {
			looked = append(looked, fmt.Sprintf("a cluster made by 'k8slab cluster up' in %s (none)", dir))
		}
	}
	return fmt.Errorf("no cluster to grade against: looked for %s; create one with 'k8slab cluster up', or pass --kubeconfig FILE",
		strings.Join(looked, ", "))
}

// reviveRecorded restarts the simulated cluster k8slab created whose
// kubeconfig is the target's, when its processes are gone (after a reboot), so a
// check or lab command works without a 'cluster up' first. It prints
// nothing (graders read the output); if it fails, the API call that follows
// reports the cluster as unreachable.
func (g *globals) reviveRecorded(tg clusterctl.Target) {
	path := tg.Kubeconfig
	state, err := g.stateDirectory()
	if err != nil || !tg.Own || path == "" {
		return
	}
	recs, err := clusterctl.NewRecords(state).All()
	if err != nil {
		return
	}
	for _, rec := range recs {
		if rec.Provider != clusterctl.Sim || rec.Kubeconfig != path {
			continue
		}
		cfg, err := g.clusterConfig(&clusterFlags{provider: clusterctl.Sim, name: rec.Name})
		if err != nil {
			return
		}
		p, err := clusterctl.NewSim(cfg)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_ = clusterctl.Revive(ctx, p)
		return
	}
}
