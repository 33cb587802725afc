package workshop_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// TestLearnersEachHaveANodePort: two learners of one workshop both
// complete the services lab's NodePort task, each on the nodePort the
// workshop gave their namespace; with the one fixed 30080 of old, the
// second was refused ("provided port is already allocated"). Then a
// second workshop on the same cluster: its learner's port is none of the
// first's (both used to hand out 30100 on, and the second class was
// refused the same way).
func TestLearnersEachHaveANodePort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	services, ok := builtIn.Lab("services")
	if !ok {
		t.Fatal("no services lab")
	}
	if !services.UsesNodePort() {
		t.Fatal("the services lab asks for no nodePort of the learner's")
	}
	p, dir := clustertest.Start(t, "k8slab-ws-nodeport")
	admin := clientsFor(t, p.KubeconfigPath())
	ctx := context.Background()
	out := filepath.Join(dir, "kubeconfigs")
	plan := workshop.Plan{Name: "np", Learners: workshop.LearnerIDs(2), Labs: []*labfile.Lab{services}}
	if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out, Force: true, SetUp: true}); err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, learner := range plan.Learners {
		proveNodePort(t, services, plan, out, dir, learner, seen)
	}
	second := workshop.Plan{Name: "np2", Learners: workshop.LearnerIDs(1), Labs: []*labfile.Lab{services}}
	out2 := filepath.Join(dir, "kubeconfigs2")
	if _, err := workshop.Init(ctx, admin, second, workshop.InitOptions{OutDir: out2, Force: true, SetUp: true}); err != nil {
		t.Fatal(err)
	}
	proveNodePort(t, services, second, out2, dir, "learner-01", seen)
}

// proveNodePort completes the services lab's NodePort task as learner of
// plan, on their own nodePort, which must be none of seen's.
func proveNodePort(t *testing.T, services *labfile.Lab, plan workshop.Plan, out, dir, learner string, seen map[int]string) {
	t.Helper()
	ctx := context.Background()
	tasks := []string{"expose-web", "nodeport"}
	path := filepath.Join(out, learner+".kubeconfig")
	c := clientsFor(t, path)
	ns := workshop.LabNamespace(plan.Name, learner, services.ID)
	// As the learner reads it: their own namespace, nothing else.
	port, err := labenv.NodePort(ctx, c.Dynamic, services, ns)
	if err != nil {
		t.Fatalf("%s reading their nodePort: %v", learner, err)
	}
	if port == labfile.DefaultNodePort || seen[port] != "" {
		t.Fatalf("%s has nodePort %d, which is 30080 or %s's too", learner, port, seen[port])
	}
	seen[port] = plan.Name + "/" + learner
	goal := labfile.ExpandNodePort(services.Task("nodeport").Goal, port)
	if !strings.Contains(goal, "**nodePort\n"+strconv.Itoa(port)+"**") || strings.Contains(goal, labfile.NodePortPlaceholder) {
		t.Errorf("%s's goal does not name their nodePort %d:\n%s", learner, port, goal)
	}
	kube := filepath.Join(dir, plan.Name+"-"+learner+"-services.kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(path, "", ns, kube); err != nil {
		t.Fatal(err)
	}
	for _, id := range tasks {
		for _, st := range services.Task(id).Solution {
			if err := labenv.RunStep(ctx, c.Dynamic, kube, ns, labfile.ExpandStep(st, port)); err != nil {
				t.Fatalf("%s, task %s: %v", learner, id, err)
			}
		}
	}
	engine := checks.NewEngine(c.Dynamic)
	var last checks.LabResult
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		last = engine.Evaluate(ctx, services, checks.Options{Namespace: ns, NodePort: port, Tasks: tasks})
		return last.Passed() && last.Score == last.MaxScore, nil
	})
	if err != nil {
		t.Fatalf("%s's services lab does not pass on nodePort %d: %+v", learner, port, last.Tasks)
	}
	if last.NodePort != port {
		t.Errorf("%s's grading says nodePort %d, want %d", learner, last.NodePort, port)
	}
	// Graded against another port, the same Service fails and says
	// which port the goal asks for.
	other := engine.Evaluate(ctx, services, checks.Options{Namespace: ns, NodePort: port + 1000, Tasks: []string{"nodeport"}})
	if other.Passed() || !strings.Contains(resultText(other), "does not use nodePort "+strconv.Itoa(port+1000)) {
		t.Errorf("%s's Service passes, or fails without naming the port, for another learner's nodePort: %s", learner, resultText(other))
	}
}

func resultText(r checks.LabResult) string {
	var b strings.Builder
	for _, t := range r.Tasks {
		b.WriteString(t.ID + ": " + string(t.Status) + "\n")
		for _, c := range t.Checks {
			b.WriteString("  " + c.Name + ": " + strings.Join(c.Messages, "; ") + "\n")
		}
	}
	return b.String()
}
