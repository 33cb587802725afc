package tui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/tui/stream"
)

// rolloutObjects models deployment web with old pods at revision 1 and new
// ones at revision 2, spread over two workers; ready new pods back the
// service.
func rolloutObjects(nodes, oldReady, newStarting, newReady int) ([]corev1.Node, []corev1.Pod, []appsv1.ReplicaSet, []appsv1.Deployment, []corev1.Service, []discoveryv1.EndpointSlice) {
	var ns []corev1.Node
	for i := range nodes {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("k8slab-worker%d", i), Labels: map[string]string{}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
		if i == 0 {
			n.Name = "k8slab-control-plane"
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
		}
		ns = append(ns, n)
	}
	replicas := int32(oldReady + newStarting + newReady)
	if replicas < 3 {
		replicas = 3
	}
	dep := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &replicas,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	owner := []metav1.OwnerReference{{Kind: "Deployment", Name: "web"}}
	rss := []appsv1.ReplicaSet{
		{ObjectMeta: metav1.ObjectMeta{Name: "web-aaaaa11111", OwnerReferences: owner, Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "web-bbbbb22222", OwnerReferences: owner, Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}}},
	}
	var pods []corev1.Pod
	var slice discoveryv1.EndpointSlice
	slice.Labels = map[string]string{discoveryv1.LabelServiceName: "web"}
	add := func(rs string, i int, ready bool) {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-p%04d", rs, i), Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs}}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("k8slab-worker%d", 1+i%max(1, nodes-1))}}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{TargetRef: &corev1.ObjectReference{Name: p.Name}})
		}
		pods = append(pods, p)
	}
	for i := range oldReady {
		add("web-aaaaa11111", i, true)
	}
	for i := range newStarting {
		add("web-bbbbb22222", 100+i, false)
	}
	for i := range newReady {
		add("web-bbbbb22222", 200+i, true)
	}
	svc := corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	return ns, pods, rss, []appsv1.Deployment{dep}, []corev1.Service{svc}, []discoveryv1.EndpointSlice{slice}
}

func view(nodes, oldReady, newStarting, newReady int) clusterview.View {
	return clusterview.Build(rolloutObjects(nodes, oldReady, newStarting, newReady))
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
				return clusterview.Build(rolloutObjects(size.nodes+1, size.pods/2, 0, size.pods/2))
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
