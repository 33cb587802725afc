package checks_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/labfile"
)

// While the API server is down, whether stalled (SIGSTOP, as when a
// laptop's lid closes) or gone (SIGKILL), no task may be graded pass, fail
// or missing: an answer the cluster did not give is a false grade. Every
// task must say it could not be graded, and once the API server is back
// the true grades return. The learner-visible promise of the simulator's
// supervisor is "back within 30 s, never a false grade".
func TestNoGradeWhileTheAPIServerIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	lab, tasks := courseLab(t, "deployments", "deployments", "create-deployment", "scale-up")
	lc := startLabCluster(t)
	p := lc.fresh(t, lab)
	// One task done and one not, so that a false grade in either direction
	// shows.
	p.solve(t, tasks[0])
	opts := checks.Options{Namespace: p.ns, Tasks: []string{tasks[0].ID, tasks[1].ID}}
	truth := lc.engine.Evaluate(context.Background(), lab, opts)
	if truth.Tasks[0].Status != checks.Pass || truth.Tasks[1].Status.Done() {
		t.Fatalf("before the outage: want %s passed and %s not, got %+v", tasks[0].ID, tasks[1].ID, truth.Tasks)
	}

	apiserver := apiserverPID(t, lc)
	noFalseGrade := func(how string) {
		t.Helper()
		res := lc.engine.Evaluate(context.Background(), lab, opts)
		for _, task := range res.Tasks {
			if !task.Status.Broken() {
				t.Errorf("%s: task %s graded %q (%v); want it not graded", how, task.ID, task.Status, task.Checks)
			}
		}
	}

	if err := syscall.Kill(apiserver, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			_ = syscall.Kill(apiserver, syscall.SIGCONT)
		}
	})
	noFalseGrade("API server stalled")
	if err := syscall.Kill(apiserver, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	waitGrades(t, lc, lab, opts, truth, "after the stall")

	if err := syscall.Kill(apiserver, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, apiserver)
	noFalseGrade("API server killed")

	// No supervisor runs in tests: 'cluster up' repairs the cluster, as
	// the learner is told to.
	records := clusterctl.NewRecords(lc.dir)
	ctx, cancel := context.WithTimeout(context.Background(), clustertest.UpTimeout)
	defer cancel()
	if err := clusterctl.Up(ctx, lc.provider, records, nil); err != nil {
		t.Fatalf("repairing the cluster: %v", err)
	}
	waitGrades(t, lc, lab, opts, truth, "after the repair")
}

// apiserverPID is the process of lc's API server, as the simulator's
// health report names it.
func apiserverPID(t *testing.T, lc *labCluster) int {
	t.Helper()
	hr, ok := lc.provider.(clusterctl.HealthReporter)
	if !ok {
		t.Fatalf("the %s provider reports no health", lc.provider.Name())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := hr.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range h.Components {
		if c.Name == "kube-apiserver" && c.PID > 0 {
			return c.PID
		}
	}
	t.Fatalf("no kube-apiserver process in %+v", h.Components)
	return 0
}

// waitExit waits until process pid has gone, so that what follows meets
// a refused connection rather than a dying server.
func waitExit(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
	}
	t.Fatalf("kube-apiserver (pid %d) still runs a minute after SIGKILL", pid)
}

// waitGrades waits until the lab grades as truth did again, failing if any
// grade on the way is a judgement other than the truth: a server coming
// back may be unable to answer, never answer wrongly.
func waitGrades(t *testing.T, lc *labCluster, lab *labfile.Lab, opts checks.Options, truth checks.LabResult, when string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		res := lc.engine.Evaluate(context.Background(), lab, opts)
		same := true
		for i, task := range res.Tasks {
			want := truth.Tasks[i].Status
			if task.Status == want {
				continue
			}
			same = false
			if !task.Status.Broken() {
				t.Fatalf("%s: task %s graded %q, but the truth is %q", when, task.ID, task.Status, want)
			}
		}
		if same {
			return
		}
		last = fmt.Sprint(res.Tasks)
	}
	t.Fatalf("%s: the true grades did not return within 2 minutes; last %s", when, last)
}
