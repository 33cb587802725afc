package checks_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labverify"
	"github.com/k8slab/k8slab/workshop"
)

// labCluster is one simulated cluster shared by the lab tests; every lab
// runs in namespaces of its own.
type labCluster struct {
	provider   clusterctl.Provider
	kubeconfig string
	cfg        *rest.Config
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
	lc := &labCluster{provider: p, kubeconfig: p.KubeconfigPath(), cfg: rc, dir: dir, client: dynamic.NewForConfigOrDie(rc), typed: kubernetes.NewForConfigOrDie(rc)}
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
		// The simulated kubelets write node status all the time, so an
		// update may meet a newer version: read again and retry.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := lc.typed.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Labels = want
			_, err = lc.typed.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// phase is one fresh run of a lab in a namespace of its own.
type phase struct {
	lc   *labCluster
	lab  *labfile.Lab
	ns   string
	kube string
}

var phaseCount int

func (lc *labCluster) fresh(t testing.TB, lab *labfile.Lab) *phase {
	t.Helper()
	lc.restoreNodes(t)
	phaseCount++
	ns := fmt.Sprintf("%s-%d", lab.Namespace, phaseCount)
	if err := labenv.StartLab(context.Background(), lc.client, lab, ns); err != nil {
		t.Fatalf("start lab: %v", err)
	}
	kube := filepath.Join(lc.dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(lc.kubeconfig, "", ns, kube); err != nil {
		t.Fatal(err)
	}
	return &phase{lc: lc, lab: lab, ns: ns, kube: kube}
}

func (p *phase) run(t testing.TB, steps []labfile.Step) {
	t.Helper()
	for _, st := range steps {
		if err := labenv.RunStep(context.Background(), p.lc.client, p.kube, p.ns, st); err != nil {
			t.Fatalf("step: %v", err)
		}
	}
}

func (p *phase) evaluate(t testing.TB, task *labfile.Task, answer string) checks.TaskResult {
	t.Helper()
	opts := checks.Options{Namespace: p.ns, Tasks: []string{task.ID}, Answers: map[string]string{task.ID: answer}}
	res := p.lc.engine.Evaluate(context.Background(), p.lab, opts)
	return res.Tasks[0]
}

// solve brings task to passing: its solution (or, for a question, the
// answer the cluster gives), polled until the checks agree.
func (p *phase) solve(t testing.TB, task *labfile.Task) {
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

// TestLabsOnSimulatedCluster proves every lab of the built-in course with
// the same proof course authors run ('k8slab lab verify'): nothing passes
// at the start, every reference solution passes, a reset restores the
// start, and every mistake fails with its promised message. Parts that
// need what a simulated cluster lacks are skipped, and the test says so.
//
// Each lab is proven twice: plainly (subtest plain), and as a workshop
// learner meets it (subtest workshop): in namespaces with the workshop's
// Pod Security labels, quota, LimitRange and NetworkPolicy, reset with a
// learner's reset, without the tasks a learner may not do. The two run
// at once, in namespaces of their own on the one cluster: a proof mostly
// waits for controllers (rollouts, back-offs, namespaces going), so the
// second costs a little CPU, not its length again. A lab that changes
// what both would see (node labels: its cluster-wide tasks) is proven one
// way after the other. Around each lab the test checks that nothing
// outside the lab's namespaces changed.
func TestLabsOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	labs := builtIn.AllLabs()
	if len(labs) == 0 {
		t.Fatal("the course has no labs")
	}
	lc := startLabCluster(t)
	// The submissions are proved by cmd/k8slab's test of the README's CI
	// recipe, which applies them as a teacher's CI does.
	plain := labverify.Config{Kubeconfig: lc.kubeconfig, Client: lc.client, Lacks: simLacks, SkipSubmission: true}
	fenced := workshopProof(lc)
	for _, lab := range labs {
		t.Run(lab.ID, func(t *testing.T) {
			before := snapshotOutside(t, lc, lab)
			t.Cleanup(func() { // after both proofs
				if after := snapshotOutside(t, lc, lab); after != before {
					t.Errorf("objects outside the lab namespaces changed:\nbefore: %s\nafter:  %s", before, after)
				}
			})
			together := !changesClusterWide(lab)
			t.Run("plain", func(t *testing.T) {
				if together {
					t.Parallel()
				}
				proveLab(t, plain, lab, "")
			})
			t.Run("workshop", func(t *testing.T) {
				if together {
					t.Parallel()
				}
				proveLab(t, fenced, lab, fmt.Sprintf("Pod Security %s, ", workshop.PodSecurityLevel(lab)))
			})
		})
	}
}

func proveLab(t *testing.T, cfg labverify.Config, lab *labfile.Lab, about string) {
	rep := labverify.VerifyLab(context.Background(), cfg, lab)
	for _, sk := range rep.Skipped {
		t.Logf("skipped: %s", sk)
	}
	for _, f := range rep.Failures {
		t.Errorf("%s", f)
	}
	t.Logf("%sproved in %s", about, rep.Duration.Round(time.Second))
}

// workshopProof proves labs as a workshop learner meets them. A learner
// may not do cluster-wide tasks (the instructor shows them; the plain
// proof proves them). The lab that asks for a nodePort gets 30100, not
// the 30080 it has outside a workshop, so a lab that ignored the
// learner's port fails (and the plain proof's 30080 stays free).
func workshopProof(lc *labCluster) labverify.Config {
	lacks := map[labfile.Feature]bool{}
	for _, f := range labfile.WorkshopLearnerLacks {
		lacks[f] = true
	}
	for f := range simLacks {
		lacks[f] = true
	}
	return labverify.Config{
		Kubeconfig:     lc.kubeconfig,
		Client:         lc.client,
		Lacks:          lacks,
		SkipSubmission: true,
		Prepare: func(ctx context.Context, lab *labfile.Lab, ns string) error {
			port := 0
			if lab.UsesNodePort() {
				port = 30100
			}
			return workshop.Fence(ctx, lc.client, "proof", "learner-01", lab, ns, port, nil)
		},
		Reset: workshop.ResetLab,
	}
}

// changesClusterWide reports whether proving lab changes objects outside
// its namespaces that another proof reads: its cluster-wide tasks label
// nodes. (A setup's volume is named after its namespace, so two proofs'
// volumes never meet.)
func changesClusterWide(lab *labfile.Lab) bool {
	for i := range lab.Tasks {
		if slices.Contains(lab.Tasks[i].Features, labfile.ClusterWide) {
			return true
		}
	}
	return slices.Contains(lab.Features, labfile.ClusterWide)
}

// simLacks are the features a simulated cluster lacks: all of them.
var simLacks = map[labfile.Feature]bool{labfile.Containers: true, labfile.Storage: true, labfile.NodePortFromHost: true}

// snapshotOutside fingerprints the namespaced objects outside lab
// namespaces (the default and kube-system namespaces' deployments,
// services, pods and config maps) and the PersistentVolumes.
func snapshotOutside(t *testing.T, lc *labCluster, lab *labfile.Lab) string {
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
	// Volumes a lab's setup made must go with the lab's namespaces.
	pvs, _ := lc.typed.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	for _, pv := range pvs.Items {
		fmt.Fprintf(&b, "pv:%s ", pv.Name)
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
