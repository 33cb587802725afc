package workshop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// examCluster is the one simulated cluster of the exam test, started by
// its first run and deleted by TestMain: -count=20 runs the test twenty
// times on it, each with a workshop of its own, so that what is proven is
// the exam and not twenty cluster starts on a loaded machine.
var examCluster struct {
	once sync.Once
	err  error
	kube string
	down func()
	runs int
}

func TestMain(m *testing.M) {
	code := m.Run()
	if examCluster.down != nil {
		examCluster.down()
	}
	os.Exit(code)
}

func sharedExamCluster(t *testing.T) string {
	t.Helper()
	bin := clustertest.BinDir(t)
	examCluster.once.Do(func() {
		state, err := os.MkdirTemp("", "k8slab-ws-exam-")
		if err != nil {
			examCluster.err = err
			return
		}
		p, err := clusterctl.NewSim(clusterctl.Config{Name: "k8slab-ws-exam", StateDir: state, CacheDir: state, SimBinDir: bin, SimInstant: true})
		if err != nil {
			examCluster.err = err
			return
		}
		records := clusterctl.NewRecords(state)
		kctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		examCluster.down = func() {
			stop()
			<-done
			_ = clusterctl.Down(context.Background(), p, records, nil)
			_ = os.RemoveAll(state)
		}
		ctx, cancel := context.WithTimeout(context.Background(), clustertest.UpTimeout)
		defer cancel()
		if err := clusterctl.Up(ctx, p, records, nil); err != nil {
			close(done)
			examCluster.err = fmt.Errorf("starting a simulated cluster: %w", err)
			return
		}
		// No supervisor runs here, so the test runs the cluster's
		// controller, as clustertest.Start does.
		go func() {
			defer close(done)
			_ = clusterctl.RunSimKubelet(kctx, p, io.Discard)
		}()
		examCluster.kube = p.KubeconfigPath()
	})
	if examCluster.err != nil {
		t.Fatal(examCluster.err)
	}
	return examCluster.kube
}

// examClass is a class of two learners with one lab, initialised on the
// shared exam cluster and deleted when the test ends.
type examClass struct {
	admin   workshop.Clients
	plan    workshop.Plan
	lab     *labfile.Lab
	builtIn *course.Course
	out     string // the learners' kubeconfigs
	dir     string
}

func newExamClass(t *testing.T, prefix, labID string) examClass {
	t.Helper()
	adminKube := sharedExamCluster(t)
	examCluster.runs++
	c := examClass{dir: t.TempDir(), admin: clientsFor(t, adminKube)}
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	c.builtIn = builtIn
	lab, ok := builtIn.Lab(labID)
	if !ok {
		t.Fatalf("no lab %s", labID)
	}
	c.lab, c.out = lab, filepath.Join(c.dir, "kubeconfigs")
	c.plan = workshop.Plan{Name: fmt.Sprintf("%s%d", prefix, examCluster.runs), Learners: workshop.LearnerIDs(2), Labs: []*labfile.Lab{lab}}
	if _, err := workshop.Init(context.Background(), c.admin, c.plan, workshop.InitOptions{OutDir: c.out, Force: true}); err != nil {
		t.Fatal(err)
	}
	// The cluster is shared by every run of -count=20: a class left
	// behind keeps its pods, and by the twentieth run the nodes had no
	// room for the next one's.
	t.Cleanup(func() { _, _ = workshop.Delete(context.Background(), c.admin, c.plan.Name) })
	return c
}

// An exam the instructor sets for a class: each learner takes it in exam
// namespaces inside their own fence, and the class table shows how far
// each has got (tasks passed of tasks asked, the clock) and no task.
func TestWorkshopExamOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := newExamClass(t, "wx", "deployments")
	admin, plan, deployments, out, dir, name := c.admin, c.plan, c.lab, c.out, c.dir, c.plan.Name
	adminK := typed(t, admin)
	ctx := context.Background()
	start := time.Now()
	ex := workshop.Exam{Seed: 7, Tasks: map[string][]string{"deployments": {"create-deployment", "scale-up"}}, Start: start, Limit: 30 * time.Minute}
	if err := workshop.StartExam(ctx, admin, plan, ex); err != nil {
		t.Fatal(err)
	}
	if err := workshop.StartExam(ctx, admin, plan, ex); err == nil || !strings.Contains(err.Error(), "already has an exam") {
		t.Errorf("a second exam over the first: %v", err)
	}

	a, b := "learner-01", "learner-02"
	aNS := workshop.ExamNamespace(name, a, "deployments")
	bNS := workshop.ExamNamespace(name, b, "deployments")
	if aNS != name+"-learner-01-exam-deployments" {
		t.Errorf("exam namespace %s", aNS)
	}
	// Inside the fence: the workshop's NetworkPolicy and quota, its Pod
	// Security labels.
	ns, err := adminK.CoreV1().Namespaces().Get(ctx, aNS, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] == "" || ns.Labels[workshop.LearnerLabel] != a {
		t.Errorf("exam namespace labels %v", ns.Labels)
	}
	if _, err := adminK.NetworkingV1().NetworkPolicies(aNS).Get(ctx, workshop.FenceName, metav1.GetOptions{}); err != nil {
		t.Errorf("no fence in the exam namespace: %v", err)
	}
	if _, err := adminK.CoreV1().ResourceQuotas(aNS).Get(ctx, workshop.QuotaName, metav1.GetOptions{}); err != nil {
		t.Errorf("no quota in the exam namespace: %v", err)
	}

	aPath := filepath.Join(out, a+".kubeconfig")
	learnerAK := typed(t, clientsFor(t, aPath))
	// The learner reads the exam off their namespace but cannot change
	// its clock, nor reach another learner's exam.
	if _, err := learnerAK.CoreV1().Namespaces().Get(ctx, aNS, metav1.GetOptions{}); err != nil {
		t.Errorf("the learner cannot read their exam namespace: %v", err)
	}
	_, err = learnerAK.CoreV1().Namespaces().Patch(ctx, aNS, types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"`+workshop.ExamDeadlineAnnotation+`":"2099-01-01T00:00:00Z"}}}`), metav1.PatchOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("moving the exam's deadline: want Forbidden, got %v", err)
	}
	if _, err := learnerAK.AppsV1().Deployments(bNS).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("reading another learner's exam: want Forbidden, got %v", err)
	}

	// The class table, live, as 'workshop status' shows it.
	g := workshop.NewGrader(admin, name, c.builtIn.AllLabs())
	tables := make(chan workshop.Table, 1)
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- g.Run(gctx, 0, func(tb workshop.Table) {
			select {
			case <-tables:
			default:
			}
			tables <- tb
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("grader: %v", err)
		}
	})
	await := func(what string, ok func(workshop.Table) bool) workshop.Table {
		t.Helper()
		bound := time.After(3 * time.Minute) // turns a hang into a failure
		var last workshop.Table
		for {
			select {
			case tb := <-tables:
				last = tb
				if ok(tb) {
					return tb
				}
			case <-bound:
				data, _ := json.MarshalIndent(last, "", "  ")
				t.Fatalf("the class table never showed %s; last:\n%s", what, data)
			}
		}
	}
	examOf := func(tb workshop.Table, learner string) *workshop.ExamProgress {
		for _, r := range tb.Rows {
			if r.Learner == learner {
				return r.Exam
			}
		}
		return nil
	}
	tb := await("both learners' exams", func(tb workshop.Table) bool { return examOf(tb, a) != nil && examOf(tb, b) != nil })
	for _, l := range []string{a, b} {
		if e := examOf(tb, l); e.Passed != 0 || e.Tasks != 2 || e.Finished || !e.Deadline.Equal(start.Add(30*time.Minute).Truncate(time.Second)) {
			t.Errorf("%s's exam at the start: %+v", l, *e)
		}
	}
	if len(tb.Labs) != 1 || tb.Labs[0] != "deployments" {
		t.Errorf("the exam's namespaces show as lab columns: %v", tb.Labs)
	}

	// Learner A does the first task in their exam namespace, as
	// themselves.
	kubeconfig := filepath.Join(dir, "a-exam.kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(aPath, "", aNS, kubeconfig); err != nil {
		t.Fatal(err)
	}
	learnerA := clientsFor(t, aPath)
	for _, st := range deployments.Task("create-deployment").Solution {
		if err := labenv.RunStep(ctx, learnerA.Dynamic, kubeconfig, aNS, st); err != nil {
			t.Fatalf("the exam's first task as the learner: %v", err)
		}
	}
	tb = await("learner A's first task passed", func(tb workshop.Table) bool { e := examOf(tb, a); return e != nil && e.Passed == 1 })
	if e := examOf(tb, b); e.Passed != 0 {
		t.Errorf("learner B's exam moved with A's work: %+v", *e)
	}
	// The lab's own column is the learner's practice, which the exam
	// leaves alone.
	if c, _ := tb.Cell(a, "deployments"); c.Score != 0 {
		t.Errorf("the exam counted in the lab's column: %+v", c)
	}
	// The learner's own k8slab takes the exam the instructor set (as
	// 'k8slab exam' does with a learner's kubeconfig): read off the exam
	// namespace, graded there with the learner's rights, not set up
	// again, on the instructor's clock.
	nsObj, err := learnerA.Dynamic.Resource(kube.NamespacesGVR).Get(ctx, aNS, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set, ok := workshop.ReadExam(nsObj)
	if !ok || set.Seed != 7 || len(set.Tasks) != 2 || !set.Start.Equal(start.Truncate(time.Second)) {
		t.Fatalf("the learner reads the exam as %+v (%v)", set, ok)
	}
	taken := exam.Plan{Seed: set.Seed, Workshop: name, Labs: []*labfile.Lab{deployments}}
	for _, id := range set.Tasks {
		taken.Items = append(taken.Items, exam.Item{Lab: deployments, Task: deployments.Task(id)})
	}
	cfg, err := clusterctl.RESTConfig(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	h := &exam.Headless{Plan: taken, Limit: set.Deadline.Sub(set.Start), UntilDone: true, Format: "text", Out: &report,
		Namespace: func(l *labfile.Lab) string { return workshop.ExamNamespace(name, a, l.ID) }, Prepared: true, Start: set.Start}
	type ran struct {
		status int
		err    error
	}
	headless := make(chan ran, 1)
	go func() {
		status, err := h.Run(ctx, cfg)
		headless <- ran{status, err}
	}()
	for _, st := range deployments.Task("scale-up").Solution {
		if err := labenv.RunStep(ctx, learnerA.Dynamic, kubeconfig, aNS, st); err != nil {
			t.Fatalf("the exam's second task as the learner: %v", err)
		}
	}
	select {
	case r := <-headless:
		if r.err != nil || r.status != exam.ExitPassed {
			t.Errorf("the learner's exam ended %d, %v:\n%s", r.status, r.err, report.String())
		}
	case <-time.After(3 * time.Minute): // turns a hang into a failure
		t.Fatalf("the learner's exam never saw both tasks pass:\n%s", report.String())
	}
	if strings.Contains(report.String(), "afresh") {
		t.Errorf("the learner's exam set the labs up again over their work:\n%s", report.String())
	}
	// Resumed on the instructor's clock: the time left, and the
	// instructor's command to set it again ('k8slab exam --seed' is
	// refused in a workshop).
	for _, want := range []string{"left of 30m0s, until", "'k8slab workshop exam " + name + " --seed 7'"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the learner's exam report says no %q:\n%s", want, report.String())
		}
	}
	tb = await("learner A's exam finished", func(tb workshop.Table) bool { e := examOf(tb, a); return e != nil && e.Passed == 2 && e.Finished })

	// No answer in what the table exports: counts and the clock.
	data, err := json.Marshal(examOf(tb, a))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range deployments.Tasks {
		if strings.Contains(string(data), task.ID) {
			t.Errorf("the exam's progress names task %s: %s", task.ID, data)
		}
	}
}
