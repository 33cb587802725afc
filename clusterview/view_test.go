package clusterview

import (
	"testing"

	"github.com/k8slab/k8slab/clusterview/clusterviewtest"
)

func TestBuild(t *testing.T) {
	v := Build(clusterviewtest.Rollout(3, 2, 1, 1))
	if len(v.Nodes) != 3 || v.Nodes[0].Role != "control-plane" || len(v.Nodes[0].Pods) != 0 {
		t.Fatalf("nodes = %+v", v.Nodes)
	}
	r := v.Rollouts[0]
	if r.Old != 2 || r.New != 2 || r.NewReady != 1 || r.Revision != "2" || r.Desired != 4 {
		t.Errorf("rollout = %+v", r)
	}
	if got := len(v.Services[0].Endpoints); got != 3 {
		t.Errorf("service endpoints = %d, want the 3 ready pods", got)
	}
	newest := 0
	for _, n := range v.Nodes {
		for _, p := range n.Pods {
			if p.Newest != (p.Revision == "2") {
				t.Errorf("pod %s revision %s newest=%v", p.Name, p.Revision, p.Newest)
			}
			if p.Newest {
				newest++
			}
		}
	}
	if newest != 2 {
		t.Errorf("%d pods marked newest, want 2", newest)
	}
}
