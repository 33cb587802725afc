package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/timeline"
)

// A question task adds "a answer" to the lab's first line of keys, which
// then did not fit 80 columns: bubbles' help cut it with "…" and "w what
// happened" was lost (#22). A group of keys too wide for the window now
// continues on the next line, each key whole.
func TestLabQuestionKeysAt80x24(t *testing.T) {
	f := newFixture(t)
	svc := &fakeTimeline{fakeMap: fakeMap{views: make(chan clusterview.View, 1)}, timelines: make(chan []timeline.Action, 1)}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: newFakeLabs(), Map: svc})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "j", "j", "enter")
	waitFor(t, tm, "press a to answer")
	waitFor(t, tm, "m map")
	screen := finalScreen(t, tm)
	golden.RequireEqual(t, []byte(screen))
	for _, want := range []string{"a answer", "m map", "w what happened", "? more keys"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the keys at 80 columns lack %q:\n%s", want, screen)
		}
	}
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), "…") {
			t.Errorf("a line is cut: %q", line)
		}
	}
}
