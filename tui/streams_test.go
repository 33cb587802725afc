package tui

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
)

// leftovers lists goroutines of the lab's streams that are still running.
func leftovers() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*fakeLabs).Watch") || strings.Contains(g, "stream.(*Controller).Run") {
			out = append(out, g)
		}
	}
	return out
}

// After answering a question (which restarts the watch) and leaving the
// lab, no watch and no goroutine of it is left, although the old watch
// ends only after the new one started; stale messages of old streams
// change nothing.
func TestLabStreamsHaveIdentity(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	labs.ending = make(chan struct{})
	tm := openQuestionLab2(t, f, labs)
	waitFor(t, tm, "press a to answer")
	waitUntil(t, tm, "the first watch", func(string) bool { return labs.active.Load() == 1 })

	press(tm, "a")
	tm.Type("3")
	press(tm, "enter")
	waitFor(t, tm, "Your answer: 3")
	waitUntil(t, tm, "the new watch running while the old one still ends", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2 && labs.active.Load() == 2
	})
	// Messages of the earlier streams (start action 1, watch 2) arriving
	// late, as the race delivered them: the new watch (3) stays current.
	pass := labResult(checks.Pass)
	pass.Lab, pass.Tasks[0].ID = "question-lab", "count-nodes"
	tm.Send(labWatchEndedMsg{id: 2})
	tm.Send(labResultMsg{id: 2, lab: "question-lab", res: pass})
	tm.Send(labActionDoneMsg{id: 1, what: "start"})
	close(labs.ending)
	waitUntil(t, tm, "the old watch ended", func(string) bool { return labs.active.Load() == 1 })
	labs.results <- func() checks.LabResult {
		r := pass
		r.Tasks = []checks.TaskResult{{ID: "count-nodes", Status: checks.Fail}}
		return r
	}()
	waitFor(t, tm, "✗ Count the nodes")

	press(tm, "esc")
	waitFor(t, tm, "Next:")
	waitUntil(t, tm, "every watch stopped", func(string) bool { return labs.active.Load() == 0 })
	waitForNoLeftovers(t)
	labs.mu.Lock()
	n := len(labs.answers)
	labs.mu.Unlock()
	if n != 2 {
		t.Errorf("%d watches started; want 2 (a stale message restarted one?)", n)
	}
	finalScreen(t, tm)
}

// waitForNoLeftovers waits for the streams' goroutines to end once their
// watches returned. A goroutine's end sends no event, so this looks again
// after yielding, as goleak does; testLimit only bounds a leak.
func waitForNoLeftovers(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(testLimit)
	for len(leftovers()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stream goroutines left:\n%s", strings.Join(leftovers(), "\n\n"))
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// blockingStart never finishes starting the lab until its context ends.
type blockingStart struct {
	*fakeLabs
	entered chan struct{}
	ended   chan error
}

func (b *blockingStart) Start(ctx context.Context, _ *labfile.Lab) error {
	close(b.entered)
	<-ctx.Done()
	b.ended <- ctx.Err()
	return ctx.Err()
}

// Quitting cancels the program's context, which a lab start honours.
func TestQuitCancelsLabStart(t *testing.T) {
	f := newFixture(t)
	labs := &blockingStart{fakeLabs: newFakeLabs(), entered: make(chan struct{}), ended: make(chan error, 1)}
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "Preparing the lab namespace")
	<-labs.entered
	finalScreen(t, tm)
	select {
	case err := <-labs.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("start ended with %v, want context.Canceled", err)
		}
	case <-time.After(testLimit):
		t.Fatal("the lab start was not cancelled on quit")
	}
}

// shellCounter counts the shells set up.
type shellCounter struct {
	*fakeLabs
	calls atomic.Int32
}

func (s *shellCounter) Shell(*labfile.Lab) (*exec.Cmd, error) {
	s.calls.Add(1)
	return exec.Command("true"), nil
}

// The shell key does no work in Update: finding the cluster may revive it
// for minutes and the kubeconfig is written to disk, so both run in a
// command, whose result carries its stream id. A shell set up for a lab
// the learner has left meanwhile is not opened.
func TestShellIsSetUpInACommand(t *testing.T) {
	f := newFixture(t)
	labs := &shellCounter{fakeLabs: newFakeLabs()}
	app := New(Options{Course: f.course, Store: f.store, Labs: labs})
	lab, _ := f.course.Lab("first-lab")
	s := app.lab
	s.d.lab = lab

	cmd := s.handleKey(tea.KeyPressMsg{Code: 't', Text: "t"})
	if cmd == nil || labs.calls.Load() != 0 {
		t.Fatalf("the shell key set the shell up in Update (%d calls)", labs.calls.Load())
	}
	ready := cmd()
	if labs.calls.Load() != 1 {
		t.Fatal("the command did not set the shell up")
	}
	s.stop() // the learner left the lab
	if s.Update(ready) != nil {
		t.Error("a shell set up for a lab already left was opened")
	}

	again := s.handleKey(tea.KeyPressMsg{Code: 't', Text: "t"})()
	if s.Update(again) == nil {
		t.Error("the current shell was not opened")
	}
}
