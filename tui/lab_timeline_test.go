package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/timeline"
)

// fakeTimeline is a map service that also plays a scripted timeline, as
// the lab service offers both.
type fakeTimeline struct {
	fakeMap
	timelines chan []timeline.Action
}

func (f *fakeTimeline) WatchTimeline(ctx context.Context, _ *labfile.Lab, onChange func([]timeline.Action)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case acts := <-f.timelines:
			onChange(acts)
		}
	}
}

// scaleTimeline is 'kubectl scale' to 5 as the simulator's controllers
// answer it, with names as long as real ones.
func scaleTimeline() []timeline.Action {
	at := testNow.Add(67 * time.Second)
	step := func(ms int, precise bool, actor, text string) timeline.Step {
		d := time.Duration(ms) * time.Millisecond
		return timeline.Step{Offset: d, Precise: precise, Time: at.Add(d), Actor: actor, Text: text}
	}
	return []timeline.Action{
		{Time: testNow, Actor: "the lab's setup", Manager: "k8slab", Text: "created deployment/web"},
		{Time: at, Actor: "you (kubectl, scale)", Manager: "kubectl", Text: "set deployment/web replicas 3 → 5", Steps: []timeline.Step{
			step(20, true, "deployment controller", "scaled replicaset web-69c6f74b8b 3 → 5"),
			step(30, true, "replicaset controller", "created pods web-69c6f74b8b-m7qn5, web-69c6f74b8b-qmxf2"),
			step(50, true, "scheduler", "placed web-69c6f74b8b-m7qn5, web-69c6f74b8b-qmxf2 on k8slab-worker2"),
			step(1400, true, "kubelet on k8slab-worker2", "web-69c6f74b8b-m7qn5 pulled, created, started, ready"),
			step(1500, true, "endpointslice controller", "added 10.244.1.7 (web-69c6f74b8b-m7qn5), 10.244.1.8 (web-69c6f74b8b-qmxf2) to service web"),
		}},
	}
}

// The timeline pane at 80x24: the newest action first, every step's text
// wrapped to the right of its offset, nothing cut; w toggles it, and the
// map's key takes its place.
func TestLabTimeline(t *testing.T) {
	f := newFixture(t)
	svc := &fakeTimeline{fakeMap: fakeMap{views: make(chan clusterview.View, 1)}, timelines: make(chan []timeline.Action, 1)}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: newFakeLabs(), Map: svc})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	waitFor(t, tm, "what happened")
	press(tm, "w")
	waitFor(t, tm, "Reading the cluster")
	svc.timelines <- nil
	waitFor(t, tm, "No change yet")
	svc.timelines <- scaleTimeline()
	waitFor(t, tm, "to service web")
	screen := tm.last.Load().(string)
	golden.RequireEqual(t, []byte(screen))
	for _, want := range []string{"web-69c6f74b8b-qmxf2 on", "k8slab-worker2", "10.244.1.8 (web-69c6f74b8b-qmxf2)", "10:01:07 you (kubectl, scale)"} {
		if !strings.Contains(screen, want) {
			t.Errorf("%q is cut at 80 columns:\n%s", want, screen)
		}
	}
	press(tm, "m")
	waitFor(t, tm, "Reading the cluster")
	press(tm, "w")
	waitFor(t, tm, "to service web")
	press(tm, "w")
	waitFor(t, tm, "Create a deployment named")
	// Leaving the lab ends the timeline's stream with the others.
	press(tm, "esc")
	waitFor(t, tm, "Next:")
	waitForNoLeftovers(t)
	finalScreen(t, tm)
}
