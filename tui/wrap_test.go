package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
)

// failingUp fails to create a cluster with the long advice the simulator
// gives when its binaries are missing.
type failingUp struct{ fakeCluster }

const simAdvice = "the simulator's binaries are not in /home/learner/.cache/k8slab/sim/v1.37.2: build them with 'make sim' (needs only the Go module proxy), or install kwokctl (https://kwok.sigs.k8s.io) so it can download them"

func (f *failingUp) Up(context.Context, clusterctl.Progress) (string, error) {
	return "", errors.New(simAdvice)
}

// The error that says how to get a cluster wraps at 80 columns instead of
// ending in "…", and so does the lab's completion summary.
func TestLongTextsWrapAt80Columns(t *testing.T) {
	f := newFixture(t)
	cluster := &failingUp{fakeCluster{release: make(chan struct{})}}
	labs := newFakeLabs()
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Cluster: cluster, Labs: labs})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "press c to create one")
	press(tm, "c")
	waitFor(t, tm, "Cluster not created")
	waitFor(t, tm, "can download them")
	screen := tm.last.Load().(string)
	if got := strings.Join(strings.Fields(screen), " "); !strings.Contains(got, simAdvice) {
		t.Errorf("the advice is not shown whole:\n%s", screen)
	}
	for i, line := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, line)
		}
		if strings.HasSuffix(line, "…") {
			t.Errorf("line %d is cut: %q", i, line)
		}
	}
	finalScreen(t, tm)

	// The lab summary, at 80 columns.
	tm = f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Pass, checks.Pass)
	waitFor(t, tm, "Lab complete")
	waitFor(t, tm, "map).")
	screen = finalScreen(t, tm)
	if got := strings.Join(strings.Fields(screen), " "); !strings.Contains(got, "Lab complete in 0s with 0 hints. Well done! Next: More (esc for the course map).") {
		t.Errorf("the summary is not shown whole:\n%s", screen)
	}
}

// A second rendering of a lesson already shown (a late window size asks
// for one while the first is under way) leaves the reader where they
// scrolled to; under load it used to put them back at the top.
func TestLessonDuplicateRenderKeepsPlace(t *testing.T) {
	f := newFixture(t)
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	l, _ := f.course.Lesson("long-lesson")
	s := app.lesson
	app.active = s
	first := s.open(l, f.store.Snapshot())
	second := s.Update(tea.WindowSizeMsg{Width: 80, Height: 24}) // not rendered yet: asks again
	if second == nil {
		t.Fatal("a window size before the first rendering asked for none; the test no longer shows the race")
	}
	s.Update(first())
	for range 5 {
		s.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
	}
	s.Update(second())
	if got := s.viewport.YOffset(); got != 5 {
		t.Errorf("offset after a second rendering = %d, want 5", got)
	}
}

// A failure message that ends in a command wraps at spaces only: the lab
// screen once broke "kubectl apply --server-side -f web.yaml" after "--",
// leaving a learner who copies it two halves of a command.
func TestFailureMessagesNeverBreakACommandAtAHyphen(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	const msg = "deployment web has not been applied server-side yet; run kubectl apply --server-side -f web.yaml"
	r := labResult(checks.Fail, checks.Pass)
	r.Tasks[0].Checks[0].Messages = []string{msg}
	labs.results <- r
	waitFor(t, tm, "web.yaml")
	screen := finalScreen(t, tm)
	if got := strings.Join(strings.Fields(screen), " "); !strings.Contains(got, msg) {
		t.Errorf("the message is not shown whole:\n%s", screen)
	}
	for _, word := range []string{"--server-side -f web.yaml"} {
		if !strings.Contains(screen, word) {
			t.Errorf("%q is broken across lines:\n%s", word, screen)
		}
	}
}
