package main

import (
	"slices"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// learner returns the workshop marker of the kubeconfig t picks, or nil
// when it is not a workshop learner's.
func (g *globals) learner(t *target) *workshop.Marker {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if p := g.kubeconfigPath(t); p != "" {
		rules.ExplicitPath = p
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil
	}
	return workshop.ReadMarker(cfg, t.context)
}

// labNamespace is where lab runs: --namespace, else the learner's own
// namespace in a workshop, else the lab's default.
func (g *globals) labNamespace(t *target, lab *labfile.Lab) string {
	if t.namespace != "" {
		return t.namespace
	}
	if m := g.learner(t); m != nil {
		return workshop.LabNamespace(m.Workshop, m.Learner, lab.ID)
	}
	return lab.Namespace
}

// lacks is what the labs cannot ask of the learner on the cluster t
// resolves to: what a simulated cluster cannot do, and what a workshop
// learner cannot. It reads only local files: it needs no cluster.
func (g *globals) lacks(t *target) []labfile.Feature {
	out := g.simLacks(t)
	if g.learner(t) != nil {
		for _, f := range labfile.WorkshopLearnerLacks {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// simLacks is what the cluster t resolves to cannot do because it is
// k8slab's simulated one; nothing for any other cluster. It reads only
// local files.
func (g *globals) simLacks(t *target) []labfile.Feature {
	if g.resolve(t).Simulated() {
		return slices.Clone(labfile.SimulatedClusterLacks)
	}
	return nil
}
