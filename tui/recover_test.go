package tui

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
)

// flakyLabs fails its first watch as an unreachable API server does (one
// unreachable result, then an error), and works after that.
type flakyLabs struct {
	*fakeLabs
	calls atomic.Int32
}

func (f *flakyLabs) Watch(ctx context.Context, lab *labfile.Lab, answers map[string]string, onResult func(checks.LabResult)) error {
	if f.calls.Add(1) == 1 {
		onResult(labResult(checks.Unreachable, checks.Unreachable))
		return errors.New("could not start watching the lab's objects")
	}
	return f.fakeLabs.Watch(ctx, lab, answers, onResult)
}

// A watch that ends because the cluster cannot be reached is retried with
// no key pressed, and the results are read again.
func TestLabRecoversFromUnreachableCluster(t *testing.T) {
	f := newFixture(t)
	labs := &flakyLabs{fakeLabs: newFakeLabs()}
	// The back-off's clock fires when the test says, not after a second.
	waits := make(chan time.Duration, 1)
	fire := make(chan time.Time, 1)
	after := func(d time.Duration) <-chan time.Time {
		waits <- d
		return fire
	}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, After: after})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "! Create deployment web")
	waitFor(t, tm, "Trying again by itself in 1s")
	if d := <-waits; d != time.Second {
		t.Errorf("the first retry waits %s, want 1s", d)
	}
	fire <- time.Time{}
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "✓ Create deployment web  done")
	if strings.Contains(tm.last.Load().(string), "Trying again") {
		t.Error("the retry notice stayed after the cluster answered")
	}
	finalScreen(t, tm)
	if n := labs.calls.Load(); n != 2 {
		t.Errorf("%d watches, want the failed one and one retry", n)
	}
}

// When the status check finds the cluster gone, results already shown are
// no longer trusted: no task shows as done meanwhile. When it is back,
// grading restarts by itself.
func TestLabDropsStaleResultsWhileUnreachable(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	cluster := &fakeCluster{up: true, release: make(chan struct{})}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, Cluster: cluster})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "cluster k8slab")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "✓ Create deployment web  done")

	tm.Send(clusterStatusMsg{clusterctl.Status{Name: "k8slab", Provider: "sim", Exists: true}})
	waitFor(t, tm, "not graded: cannot reach the cluster")
	screen := tm.last.Load().(string)
	if strings.Contains(screen, "✓") || strings.Contains(screen, "done ·") {
		t.Errorf("a task shows as done on stale data:\n%s", screen)
	}
	waitFor(t, tm, "Cannot reach the lab cluster. Grading resumes by itself")

	tm.Send(clusterStatusMsg{cluster.Status(context.Background())})
	waitUntil(t, tm, "grading restarted", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2 && labs.active.Load() == 1
	})
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "✓ Create deployment web  done")
	finalScreen(t, tm)
}

// failingReset fails to reset as a cluster whose controller-manager is down
// does: the namespace stays terminating.
type failingReset struct{ *fakeLabs }

func (f *failingReset) Reset(context.Context, *labfile.Lab) error {
	return errors.New("namespace lab-first-lab is still being deleted: context deadline exceeded")
}

// A reset that fails on a cluster that answers is reported (not retried
// silently), and grading shows the lab as it is.
func TestLabResetFailureIsShown(t *testing.T) {
	f := newFixture(t)
	labs := &failingReset{newFakeLabs()}
	cluster := &fakeCluster{up: true, release: make(chan struct{})}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, Cluster: cluster})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "cluster k8slab")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	press(tm, "R", "y")
	waitFor(t, tm, "The reset did not finish: namespace lab-first-lab is still being deleted")
	waitUntil(t, tm, "grading restarted", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2 && labs.active.Load() == 1
	})
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "✓ Create deployment web  done")
	if !strings.Contains(tm.last.Load().(string), "The reset did not finish") {
		t.Error("the failed reset was forgotten when results came")
	}
	finalScreen(t, tm)
}

// evilStart fails with an error whose text holds terminal escapes, as a
// message from a hostile API server or kubeconfig could.
type evilStart struct{ *fakeLabs }

func (evilStart) Start(context.Context, *labfile.Lab) error {
	return errors.New("dial: \x1b]0;owned\a\x1b[2Jgone")
}

// A lab error is drawn as text: its escape sequences reach the terminal
// written out, never as commands.
func TestLabErrorsAreInert(t *testing.T) {
	f := newFixture(t)
	fire := make(chan time.Time) // the retry never comes
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: evilStart{newFakeLabs()},
		After: func(time.Duration) <-chan time.Time { return fire }})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "gone")
	press(tm, "q")
	raw := finalApp(t, tm).View().Content
	if strings.Contains(raw, "\x1b]0;owned") || strings.Contains(raw, "\x1b[2J") {
		t.Errorf("the error's escapes reached the terminal: %q", raw)
	}
	if !strings.Contains(raw, `\x1b]0;owned\x07\x1b[2Jgone`) {
		t.Errorf("the error is not shown written out: %q", raw)
	}
}
