package workshop_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labverify"
	"github.com/k8slab/k8slab/workshop"
)

// TestLabsInWorkshopOnSimulatedCluster proves every lab as a workshop
// learner meets it: each run's namespace has the workshop's Pod Security
// labels, quota, LimitRange and NetworkPolicy, and the reset is the
// learner's. K8SLAB_LABS=a,b proves only those labs.
func TestLabsInWorkshopOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and proves every lab (slow)")
	}
	// 45-70 minutes on this loaded machine (rolling-updates alone 10
	// min, services 8), on top of the plain lab proof: run on demand
	// until it joins CI (see the ws3 report for the plan). The lab that
	// asks for a nodePort gets 30100 here, not 30080, so a lab that
	// ignored the learner's port fails.
	if os.Getenv("K8SLAB_WORKSHOP_PROOF") == "" {
		t.Skip("set K8SLAB_WORKSHOP_PROOF=1 to prove every lab inside a workshop's fence")
	}
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	labs := builtIn.AllLabs()
	if only := os.Getenv("K8SLAB_LABS"); only != "" {
		labs = slices.DeleteFunc(labs, func(l *labfile.Lab) bool { return !slices.Contains(strings.Split(only, ","), l.ID) })
	}
	p, _ := clustertest.Start(t, "k8slab-ws-labs")
	admin := clientsFor(t, p.KubeconfigPath())
	cfg := labverify.Config{
		Kubeconfig: p.KubeconfigPath(),
		Client:     admin.Dynamic,
		// A simulated cluster runs no containers and has no storage; a
		// workshop learner may not do cluster-wide tasks (the instructor
		// shows them, and the plain lab proof proves them).
		Lacks: map[labfile.Feature]bool{labfile.Containers: true, labfile.Storage: true, labfile.NodePortFromHost: true, labfile.ClusterWide: true},
		Prepare: func(ctx context.Context, lab *labfile.Lab, ns string) error {
			return workshop.Fence(ctx, admin.Dynamic, "proof", "learner-01", lab, ns, proofNodePort(lab), nil)
		},
		Reset: workshop.ResetLab,
	}
	start := time.Now()
	for _, lab := range labs {
		t.Run(lab.ID, func(t *testing.T) {
			rep := labverify.VerifyLab(context.Background(), cfg, lab)
			for _, sk := range rep.Skipped {
				t.Logf("skipped on the simulated cluster: %s", sk)
			}
			for _, f := range rep.Failures {
				t.Errorf("%s", f)
			}
			t.Logf("Pod Security %s, %s", workshop.PodSecurityLevel(lab), rep.Duration.Round(time.Second))
		})
	}
	t.Logf("%d labs proved inside a workshop's fence in %s", len(labs), time.Since(start).Round(time.Second))
}

// proofNodePort is the nodePort the proof gives a lab that asks for one:
// not 30080, so that a lab that ignored the learner's port fails.
func proofNodePort(lab *labfile.Lab) int {
	if lab.UsesNodePort() {
		return 30100
	}
	return 0
}
