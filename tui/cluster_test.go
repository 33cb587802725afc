package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/k8slab/k8slab/clusterctl"
)

// fakeCluster scripts a cluster: no cluster until Up finishes, which waits
// for the test to release it.
type fakeCluster struct {
	mu      sync.Mutex
	up      bool
	release chan struct{}
	ctxErr  error
}

func (f *fakeCluster) Status(context.Context) clusterctl.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		return clusterctl.Status{Name: "k8slab", Provider: "sim"}
	}
	return clusterctl.Status{Name: "k8slab", Provider: "sim", Exists: true, Reachable: true, Version: "v1.37.2",
		Nodes: []clusterctl.NodeStatus{{Name: "a", Ready: true}, {Name: "b", Ready: true}, {Name: "c", Ready: true}}}
}

func (f *fakeCluster) Up(ctx context.Context, progress clusterctl.Progress) (string, error) {
	progress(clusterctl.Step{Name: "Starting the control plane", State: clusterctl.StepStarted})
	select {
	case <-f.release:
	case <-ctx.Done():
		f.mu.Lock()
		f.ctxErr = ctx.Err()
		f.mu.Unlock()
		return "", ctx.Err()
	}
	progress(clusterctl.Step{Name: "Starting the control plane", State: clusterctl.StepDone})
	f.mu.Lock()
	f.up = true
	f.mu.Unlock()
	return "a simulated cluster", nil
}

func (f *fixture) startWithCluster(t *testing.T, svc ClusterService) *session {
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Cluster: svc})
	return f.startApp(t, app, 80, 24)
}

func TestCreateClusterFromHome(t *testing.T) {
	f := newFixture(t)
	svc := &fakeCluster{release: make(chan struct{})}
	tm := f.startWithCluster(t, svc)
	waitFor(t, tm, "press c to create one")
	waitFor(t, tm, "c create cluster")
	press(tm, "c")
	waitFor(t, tm, "Starting the control plane…")
	if strings.Contains(tm.last.Load().(string), "c create cluster") {
		t.Error("the create key is offered while a cluster is being created")
	}
	close(svc.release)
	waitFor(t, tm, "Cluster ready.")
	press(tm, "j") // any key clears the message and shows the cluster line
	waitFor(t, tm, "cluster k8slab (sim) v1.37.2 · 3/3 nodes ready")
	screen := finalScreen(t, tm)
	if strings.Contains(screen, "create cluster") {
		t.Error("the create key is offered while a cluster runs")
	}
}

func TestQuitWhileCreatingCancelsFirst(t *testing.T) {
	f := newFixture(t)
	svc := &fakeCluster{release: make(chan struct{})}
	tm := f.startWithCluster(t, svc)
	waitFor(t, tm, "press c to create one")
	press(tm, "c")
	waitFor(t, tm, "Starting the control plane…")
	press(tm, "q")
	waitFor(t, tm, "Press q again to stop it and quit")
	press(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(testLimit))
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.ctxErr == nil {
		t.Error("quitting did not cancel the cluster creation before exiting")
	}
}

// degradedCluster is a simulated cluster whose supervisor reports a
// component down.
type degradedCluster struct{ fakeCluster }

func (d *degradedCluster) Status(context.Context) clusterctl.Status {
	return clusterctl.Status{Name: "k8slab", Provider: "sim", Exists: true, Reachable: false,
		Health: "degraded: kube-apiserver is down, restarting"}
}

// While a component is down the status bar says which and that it is being
// restarted, instead of offering to create a cluster that exists.
func TestStatusBarShowsADegradedCluster(t *testing.T) {
	f := newFixture(t)
	tm := f.startWithCluster(t, &degradedCluster{})
	waitFor(t, tm, "cluster k8slab (sim): degraded: kube-apiserver is down, restarting")
	if screen := finalScreen(t, tm); strings.Contains(screen, "press c") {
		t.Errorf("a degraded cluster offers c:\n%s", screen)
	}
}
