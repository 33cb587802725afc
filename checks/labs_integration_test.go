package checks_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/lessons"
)

// labCluster is one simulated cluster shared by the lab tests; every lab
// runs in namespaces of its own.
type labCluster struct {
	kubeconfig string
	client     dynamic.Interface
	typed      kubernetes.Interface
	engine     *checks.Engine
	dir        string
	nodeLabels map[string]map[string]string
}

func startLabCluster(t testing.TB) *labCluster {
	t.Helper()
	p, dir := clustertest.Start(t, "k8slab-labs")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	lc := &labCluster{kubeconfig: p.KubeconfigPath(), dir: dir, client: dynamic.NewForConfigOrDie(rc), typed: kubernetes.NewForConfigOrDie(rc)}
	lc.engine = checks.NewEngine(lc.client)
	nodes, err := lc.typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The control plane fills in a few objects of its own shortly after
	// start; wait for them so they do not look like a lab's doing.
	waitSystemObjects(t, lc.typed)
	lc.nodeLabels = map[string]map[string]string{}
	for _, n := range nodes.Items {
		lc.nodeLabels[n.Name] = n.Labels
	}
	return lc
}

// restoreNodes puts node labels back as they were: nodes are the only
// cluster-wide objects a lab may change, and each phase starts clean.
func (lc *labCluster) restoreNodes(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for name, want := range lc.nodeLabels {
		n, err := lc.typed.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n.Labels = want
		if _, err := lc.typed.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// phase is one fresh run of a lab in a namespace of its own.
type phase struct {
	lc   *labCluster
	lab  *checks.Lab
	ns   string
	kube string
}

var phaseCount int

func (lc *labCluster) fresh(t testing.TB, lab *checks.Lab) *phase {
	t.Helper()
	lc.restoreNodes(t)
	phaseCount++
	ns := fmt.Sprintf("%s-%d", lab.Namespace, phaseCount)
	if err := checks.StartLab(context.Background(), lc.client, lab, ns); err != nil {
		t.Fatalf("start lab: %v", err)
	}
	kube := filepath.Join(lc.dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(lc.kubeconfig, "", ns, kube); err != nil {
		t.Fatal(err)
	}
	return &phase{lc: lc, lab: lab, ns: ns, kube: kube}
}

func (p *phase) run(t testing.TB, steps []checks.Step) {
	t.Helper()
	for _, st := range steps {
		if err := checks.RunStep(context.Background(), p.lc.client, p.kube, p.ns, st); err != nil {
			t.Fatalf("step: %v", err)
		}
	}
}

func (p *phase) evaluate(t testing.TB, task *checks.Task, answer string) checks.TaskResult {
	t.Helper()
	opts := checks.Options{Namespace: p.ns, Tasks: []string{task.ID}, Answers: map[string]string{task.ID: answer}}
	res := p.lc.engine.Evaluate(context.Background(), p.lab, opts)
	return res.Tasks[0]
}

// solve brings task to passing: its solution (or, for a question, the
// answer the cluster gives), polled until the checks agree.
func (p *phase) solve(t testing.TB, task *checks.Task) {
	t.Helper()
	answer := ""
	if task.Question != nil {
		var err error
		answer, err = p.lc.engine.Expected(context.Background(), p.lab, p.ns, task)
		if err != nil {
			t.Fatalf("task %s: computing the answer: %v", task.ID, err)
		}
	}
	p.run(t, task.Solution)
	var last checks.TaskResult
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if last = p.evaluate(t, task, answer); last.Status == checks.Pass {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("task %s: reference solution does not pass: %+v", task.ID, last)
}

func TestLabsOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	course, err := lessons.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	labs := course.AllLabs()
	if len(labs) == 0 {
		t.Fatal("the course has no labs")
	}
	lc := startLabCluster(t)
	for _, lab := range labs {
		t.Run(lab.ID, func(t *testing.T) {
			// Every declared feature is one a simulated cluster lacks.
			if len(lab.Features) > 0 {
				t.Skipf("needs %v, which the simulated cluster lacks: kind only", lab.Features)
			}
			testLab(t, lc, lab)
		})
	}
}

// simFeatures are the features the simulated cluster has: none of them.
// A task that needs one is skipped there, and says so.
var simFeatures = map[checks.Feature]bool{}

// runnable reports whether task can be shown and graded on the simulated
// cluster, logging what is skipped and why.
func runnable(t *testing.T, task *checks.Task) bool {
	for _, f := range task.Features {
		if !simFeatures[f] {
			t.Logf("skipping task %s on the simulated cluster: it needs %q, which only a real cluster (kind) has", task.ID, f)
			return false
		}
	}
	return true
}

func testLab(t *testing.T, lc *labCluster, lab *checks.Lab) {
	before := snapshotOutside(t, lc, lab)
	var tasks []*checks.Task
	var ids []string
	for i := range lab.Tasks {
		if runnable(t, &lab.Tasks[i]) {
			tasks = append(tasks, &lab.Tasks[i])
			ids = append(ids, lab.Tasks[i].ID)
		}
	}

	// 1. Nothing passes before the learner acts.
	p := lc.fresh(t, lab)
	for _, task := range tasks {
		if r := p.evaluate(t, task, ""); r.Status == checks.Pass {
			t.Errorf("task %s passes on the starting state: a content bug", task.ID)
		}
	}

	// 2. The reference solutions, task by task, pass; a question rejects a
	// wrong answer; then the whole lab passes, through the same path as
	// 'k8slab check'.
	answers := map[string]string{}
	for _, task := range tasks {
		p.solve(t, task)
		if task.Question != nil {
			answers[task.ID], _ = lc.engine.Expected(context.Background(), lab, p.ns, task)
			if wrong := p.evaluate(t, task, "definitely-not-the-answer"); wrong.Status == checks.Pass {
				t.Errorf("task %s accepts a wrong answer", task.ID)
			}
		}
	}
	res := lc.engine.Evaluate(context.Background(), lab, checks.Options{Namespace: p.ns, Tasks: ids, Answers: answers})
	if !res.Passed() || res.Score != res.MaxScore {
		t.Errorf("whole lab after all solutions: %+v", res)
	}

	// 3. Reset restores the setup state: nothing passes again. It comes
	// before the mistakes because some objects are unique in the whole
	// cluster (a Service's nodePort), so only one namespace may hold them
	// at a time.
	if err := checks.ResetLab(context.Background(), lc.client, lab, p.ns); err != nil {
		t.Fatalf("reset: %v", err)
	}
	lc.restoreNodes(t)
	for _, task := range tasks {
		if task.Question != nil {
			continue // the cluster's answers do not change with a reset
		}
		if r := p.evaluate(t, task, ""); r.Status == checks.Pass {
			t.Errorf("task %s still passes after reset", task.ID)
		}
	}
	lc.deleteNamespace(t, p.ns)

	// 4. Every mistake, made after the previous tasks' solutions, fails
	// with the message the lab promises.
	for i, task := range tasks {
		for _, m := range task.Mistakes {
			t.Run(task.ID+"/"+m.Name, func(t *testing.T) {
				mp := lc.fresh(t, lab)
				defer lc.deleteNamespace(t, mp.ns)
				for _, prev := range tasks[:i] {
					mp.solve(t, prev)
				}
				mp.run(t, m.Steps)
				var last checks.TaskResult
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					last = mp.evaluate(t, task, "")
					if last.Status != checks.Pass && hasMessage(last, m.Expect) {
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
				t.Errorf("mistake %q: want a failure saying %q, got %+v", m.Name, m.Expect, last)
			})
		}
	}

	// 5. Nothing outside the lab's namespaces changed.
	if after := snapshotOutside(t, lc, lab); after != before {
		t.Errorf("objects outside the lab namespaces changed:\nbefore: %s\nafter:  %s", before, after)
	}
}

// deleteNamespace removes a phase's namespace and waits until it is gone,
// so that what it held (a nodePort, say) is free for the next phase.
func (lc *labCluster) deleteNamespace(t testing.TB, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := lc.typed.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return
		}
		t.Fatalf("deleting namespace %s: %v", ns, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := lc.typed.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("namespace %s was not gone after 2 minutes", ns)
}

func hasMessage(r checks.TaskResult, want string) bool {
	for _, c := range r.Checks {
		for _, m := range c.Messages {
			if strings.Contains(m, want) {
				return true
			}
		}
	}
	return false
}

// snapshotOutside fingerprints the namespaced objects outside lab
// namespaces: the default and kube-system namespaces' deployments,
// services, pods and config maps.
func snapshotOutside(t *testing.T, lc *labCluster, lab *checks.Lab) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, ns := range []string{"default", "kube-system", "kube-public"} {
		deps, err := lc.typed.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		svcs, _ := lc.typed.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		pods, _ := lc.typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		cms, _ := lc.typed.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		fmt.Fprintf(&b, "%s:d%d/s%d/p%d/c%d ", ns, len(deps.Items), len(svcs.Items), len(pods.Items), len(cms.Items))
		for _, d := range deps.Items {
			fmt.Fprintf(&b, "%s@%s ", d.Name, d.ResourceVersion)
		}
		for _, s := range svcs.Items {
			fmt.Fprintf(&b, "%s@%s ", s.Name, s.ResourceVersion)
		}
	}
	nsList, _ := lc.typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	for _, n := range nsList.Items {
		if !strings.HasPrefix(n.Name, lab.Namespace) && !strings.HasPrefix(n.Name, "lab-") {
			fmt.Fprintf(&b, "ns:%s ", n.Name)
		}
	}
	return b.String()
}

func waitSystemObjects(t testing.TB, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ready := true
		for _, ns := range []string{"default", "kube-system", "kube-public"} {
			if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
				ready = false
			}
		}
		if _, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil {
			ready = false
		}
		if ready {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the cluster never created its own system objects")
}
