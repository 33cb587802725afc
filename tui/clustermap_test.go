package tui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/clusterview/clusterviewtest"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/tui/stream"
)

func view(nodes, oldReady, newStarting, newReady int) clusterview.View {
	return clusterview.Build(clusterviewtest.Rollout(nodes, oldReady, newStarting, newReady))
}

// fakeMap plays a scripted sequence of views.
type fakeMap struct{ views chan clusterview.View }

func (f *fakeMap) WatchMap(ctx context.Context, _ *labfile.Lab, onChange func(clusterview.View)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case v := <-f.views:
			onChange(v)
		}
	}
}

// A rollout from 3 old to 3 new pods, as the map shows it, at 80x24 and
// wide, in colour and without.
func TestClusterMapRollout(t *testing.T) {
	for _, c := range []struct {
		name    string
		w, h    int
		noColor bool
	}{{"80x24", 80, 24, false}, {"140x40_no_color", 140, 40, true}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			maps := &fakeMap{views: make(chan clusterview.View, 8)}
			app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: newFakeLabs(), Map: maps, NoColor: c.noColor})
			tm := f.startApp(t, app, c.w, c.h)
			waitFor(t, tm, "Next:")
			press(tm, "j", "j", "j", "enter")
			waitFor(t, tm, "k8slab · Lab: First lab")
			waitFor(t, tm, "graded live")
			press(tm, "m")
			waitFor(t, tm, "Reading the cluster")
			maps.views <- view(3, 3, 0, 0)
			waitFor(t, tm, "rolling out r2: 0/3 new ready, 3 old") // the new ReplicaSet has no pods yet
			maps.views <- view(3, 2, 1, 1)
			waitFor(t, tm, "rolling out r2: 1/4 new ready, 2 old")
			golden.RequireEqual(t, []byte(tm.last.Load().(string)))
			maps.views <- view(3, 0, 0, 3)
			waitFor(t, tm, "rolled out r2: 3/3 new ready, 0 old")
			screen := finalScreen(t, tm)
			if strings.Contains(screen, "web-aaa") {
				t.Errorf("old pods still drawn after the rollout:\n%s", screen)
			}
		})
	}
}

// BenchmarkClusterMapRender is the cost of one redraw of the map, which
// happens once per change of the cluster (not per frame).
func BenchmarkClusterMapRender(b *testing.B) {
	styles := NewStyles(true, false)
	for _, size := range []struct{ nodes, pods int }{{3, 30}, {10, 300}} {
		v := view(size.nodes+1, size.pods/2, 0, size.pods/2)
		b.Run(fmt.Sprintf("%dnodes_%dpods", size.nodes, size.pods), func(b *testing.B) {
			for b.Loop() {
				_ = renderClusterMap(v, styles, 120)
			}
		})
		b.Run(fmt.Sprintf("build_%dnodes_%dpods", size.nodes, size.pods), func(b *testing.B) {
			objs := func() clusterview.View {
				return clusterview.Build(clusterviewtest.Rollout(size.nodes+1, size.pods/2, 0, size.pods/2))
			}
			for b.Loop() {
				_ = objs()
			}
		})
	}
}

// BenchmarkTUIMemoryWithMap reports the heap in use by the app with the
// lab screen and a 10-node, 300-pod map open.
func BenchmarkTUIMemoryWithMap(b *testing.B) {
	f := newFixture(&testing.T{})
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		app := New(Options{Course: f.course, Store: f.store, Labs: newFakeLabs(), Map: &fakeMap{}})
		app.Update(windowSize(120, 40))
		lab, _ := f.course.Lab("first-lab")
		app.lab.d.lab = lab
		v := view(11, 150, 0, 150)
		app.lab.showMap = true
		id := app.lab.streams.Begin(stream.Map)
		app.lab.Update(clusterMapMsg{id: id, view: v})
		_ = app.View()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/1024, "heap-KiB")
		runtime.KeepAlive(app)
	}
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// Pods whose names shorten alike keep what tells them apart; a failing
// container shows its reason; a pending pod is listed with the
// scheduler's words.
func TestClusterMapPodStatesAndNames(t *testing.T) {
	v := clusterview.View{
		Nodes: []clusterview.Node{{Name: "worker", Role: "worker", Ready: true, Pods: []clusterview.Pod{
			{Name: "backend-7d9f8c6b5d-x2k9p", Ready: true},
			{Name: "backend-7d9f8c6b5d-x2k9q", Problem: "ImagePullBackOff"},
			{Name: "backend-7d9f8c6b5d-ab3cd", NotReady: true},
		}}},
		Pending: []clusterview.Pod{{Name: "report", Unscheduled: "0/3 nodes are available: 3 Insufficient cpu."}},
	}
	out := ansi.Strip(renderClusterMap(v, NewStyles(true, true), 80))
	for _, want := range []string{"x2k9p", "x2k9q", "ab3cd", "✗ backend", "ImagePullBackOff", "◐ backend", "◇ report pending, on no node: 0/3 nodes are available: 3 Insufficient cpu."} {
		if !strings.Contains(out, want) {
			t.Errorf("the map lacks %q:\n%s", want, out)
		}
	}
}

// The map on the lab screen at 80x24 with a pod in every state a learner
// meets: ready, image pull failing, readiness failing, terminating and
// unschedulable, plus a service; what does not fit says that it scrolls.
func TestClusterMapPodStatesAt80x24(t *testing.T) {
	f := newFixture(t)
	maps := &fakeMap{views: make(chan clusterview.View, 2)}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: newFakeLabs(), Map: maps})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	press(tm, "m")
	waitFor(t, tm, "Reading the cluster")
	maps.views <- clusterview.View{
		Nodes: []clusterview.Node{
			{Name: "k8slab-control-plane", Role: "control-plane", Ready: true},
			{Name: "k8slab-worker", Role: "worker", Ready: true, Pods: []clusterview.Pod{
				{Name: "backend-7d9f8c6b5d-x2k9p", Ready: true, Phase: "Running"},
				{Name: "backend-7d9f8c6b5d-x2k9q", Problem: "ImagePullBackOff", Phase: "Pending"},
				{Name: "backend-7d9f8c6b5d-ab3cd", NotReady: true, Phase: "Running"},
			}},
			{Name: "k8slab-worker2", Role: "worker", Ready: true, Pods: []clusterview.Pod{
				{Name: "web-5c8f9d7b4-qq8rt", Ready: true, Phase: "Running"},
				{Name: "web-5c8f9d7b4-zz1xy", Terminating: true, Phase: "Running"},
			}},
		},
		Services: []clusterview.Service{{Name: "backend", Type: "ClusterIP", Endpoints: []string{"backend-7d9f8c6b5d-x2k9p"}}},
		Pending:  []clusterview.Pod{{Name: "report", Unscheduled: "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu."}},
	}
	waitFor(t, tm, "ImagePullBackOff")
	golden.RequireEqual(t, []byte(tm.last.Load().(string)))
	finalScreen(t, tm)
}
