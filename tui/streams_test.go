package tui

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
)

// leftovers lists goroutines of the lab's streams that are still running.
func leftovers() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*fakeLabs).Watch") || strings.Contains(g, "(*labScreen).stream") {
			out = append(out, g)
		}
	}
	return out
}

// After answering a question (which restarts the watch) and leaving the
// lab, no watch and no goroutine of it is left, although the old watch
// takes 100 ms to end; stale messages of old streams change nothing.
func TestLabStreamsHaveIdentity(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	labs.endDelay = 100 * time.Millisecond
	tm := openQuestionLab2(t, f, labs)
	waitFor(t, tm, "press a to answer")
	waitUntil(t, tm, "the first watch", func(string) bool { return labs.active.Load() == 1 })

	press(tm, "a")
	tm.Type("3")
	press(tm, "enter")
	waitFor(t, tm, "Your answer: 3")
	waitUntil(t, tm, "the old watch ended and the new one running", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2 && labs.active.Load() == 1
	})
	// Messages of the earlier streams (start action 1, watch 2) arriving
	// late, as the race delivered them: the new watch (3) stays current.
	pass := labResult(checks.Pass)
	pass.Lab, pass.Tasks[0].ID = "question-lab", "count-nodes"
	tm.Send(labWatchEndedMsg{id: 2})
	tm.Send(labResultMsg{id: 2, lab: "question-lab", res: pass})
	tm.Send(labActionDoneMsg{id: 1, what: "start"})
	labs.results <- func() checks.LabResult {
		r := pass
		r.Tasks = []checks.TaskResult{{ID: "count-nodes", Status: checks.Fail}}
		return r
	}()
	waitFor(t, tm, "✗ Count the nodes")

	press(tm, "esc")
	waitFor(t, tm, "Next:")
	waitUntil(t, tm, "every watch stopped", func(string) bool { return labs.active.Load() == 0 })
	waitUntil(t, tm, "no stream goroutine left", func(string) bool { return len(leftovers()) == 0 })
	labs.mu.Lock()
	n := len(labs.answers)
	labs.mu.Unlock()
	if n != 2 {
		t.Errorf("%d watches started; want 2 (a stale message restarted one?)", n)
	}
	finalScreen(t, tm)
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
	case <-time.After(5 * time.Second):
		t.Fatal("the lab start was not cancelled on quit")
	}
}
