package timeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var t0 = time.Date(2026, 12, 2, 12, 1, 7, 0, time.UTC)

func ts(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }

func deployment(rv string, replicas int64, image string, managed ...map[string]any) unstructured.Unstructured {
	mf := make([]any, len(managed))
	for i, m := range managed {
		mf[i] = m
	}
	return unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "uid": "d1", "resourceVersion": rv, "generation": int64(len(rv)),
			"creationTimestamp": ts(-time.Minute), "managedFields": mf},
		"spec": map[string]any{"replicas": replicas, "template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "nginx", "image": image}}}}},
	}}
}

func entry(manager, sub string, at time.Duration, fields string) map[string]any {
	m := map[string]any{"manager": manager, "operation": "Update", "time": ts(at), "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{fields: map[string]any{}}}}
	if sub != "" {
		m["subresource"] = sub
	}
	return m
}

// event is a core/v1 event named as client-go's recorder names it: the
// object's name and the nanosecond it happened.
func event(uid, kind, obj, component, host, reason, msg string, at time.Duration) unstructured.Unstructured {
	when := t0.Add(at)
	return unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata":       map[string]any{"name": fmt.Sprintf("%s.%x", obj, when.UnixNano()), "uid": uid, "resourceVersion": "1"},
		"involvedObject": map[string]any{"kind": kind, "name": obj},
		"source":         map[string]any{"component": component, "host": host},
		"reason":         reason, "message": msg, "count": int64(1),
		"firstTimestamp": when.Format(time.RFC3339), "lastTimestamp": when.Format(time.RFC3339),
	}}
}

func readyPod(name string, at time.Duration) unstructured.Unstructured {
	return unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "uid": "p-" + name, "resourceVersion": "1",
			"ownerReferences": []any{map[string]any{"kind": "ReplicaSet", "name": "web-69c", "uid": "r1", "apiVersion": "apps/v1"}}},
		"spec": map[string]any{"nodeName": "w1"},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": ts(at)},
		}},
	}}
}

// Read after the fact ('lab explain'): the write is known to the second
// and by the fields its manager owns; the events to the nanosecond of
// their names; a pod's chain is in causal order though its records
// disagree (the Ready condition is known to the second only).
func TestExplainFromWhatTheClusterKeeps(t *testing.T) {
	s := State{
		Deployments: []unstructured.Unstructured{deployment("5", 5, "nginx:1.27",
			entry("k8slab", "", -time.Minute, "f:template"),
			entry("kubectl", "scale", 0, "f:replicas"))},
		ReplicaSets: []unstructured.Unstructured{{Object: map[string]any{"metadata": map[string]any{"name": "web-69c", "uid": "r1"}}}},
		Pods:        []unstructured.Unstructured{readyPod("web-69c-ab12", 1*time.Second)},
		Events: []unstructured.Unstructured{
			event("e1", "Deployment", "web", "deployment-controller", "", "ScalingReplicaSet", "Scaled up replica set web-69c from 3 to 5", 300*time.Millisecond),
			event("e2", "ReplicaSet", "web-69c", "replicaset-controller", "", "SuccessfulCreate", "Created pod: web-69c-ab12", 320*time.Millisecond),
			event("e3", "ReplicaSet", "web-69c", "replicaset-controller", "", "SuccessfulCreate", "Created pod: web-69c-cd34", 330*time.Millisecond),
			event("e4", "Pod", "web-69c-ab12", "default-scheduler", "", "Scheduled", "Successfully assigned lab/web-69c-ab12 to w1", 350*time.Millisecond),
			// The kubelet's Started is recorded after the pod is ready
			// to the second: the chain still reads started, then ready.
			event("e5", "Pod", "web-69c-ab12", "kubelet", "w1", "Pulled", `Container image "nginx:1.27" already present on machine`, 1400*time.Millisecond),
			event("e6", "Pod", "web-69c-ab12", "kubelet", "w1", "Started", "Container started", 1500*time.Millisecond),
		},
	}
	var b strings.Builder
	if err := WriteText(&b, Explain(s, 0), time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `12:00:07 the lab's setup created deployment/web

12:01:07 you (kubectl, scale) set deployment/web replicas (now 5)
  +0 s deployment controller scaled replicaset web-69c 3 → 5
  +0 s replicaset controller created pods web-69c-ab12, web-69c-cd34
  +0 s scheduler placed web-69c-ab12 on w1
  +1 s kubelet on w1: web-69c-ab12 pulled, started, ready
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// untimed is a write through /scale by a manager new to the object,
// which the API server records without a time.
func untimed(m map[string]any) map[string]any {
	delete(m, "time")
	return m
}

// Followed live, the journal knows the value a write replaced, and
// measures steps to the hundredth of a second; a write recorded without
// a time is placed when k8slab saw it.
func TestJournalTellsWhatAWriteReplaced(t *testing.T) {
	j := NewJournal(0)
	create := entry("kubectl-create", "", -time.Minute, "f:replicas")
	j.Update(State{Deployments: []unstructured.Unstructured{deployment("1", 3, "nginx:1.27", create)}}, t0.Add(-time.Minute))
	j.Update(State{Deployments: []unstructured.Unstructured{deployment("22", 5, "nginx:1.27",
		entry("kubectl-create", "", -time.Minute, "f:template"), untimed(entry("kubectl", "scale", 0, "f:replicas")))}}, t0)
	ev := event("e1", "Deployment", "web", "deployment-controller", "", "ScalingReplicaSet", "Scaled up replica set web-69c from 3 to 5", 20*time.Millisecond)
	j.Update(State{
		Deployments: []unstructured.Unstructured{deployment("22", 5, "nginx:1.27", entry("kubectl-create", "", -time.Minute, "f:template"), untimed(entry("kubectl", "scale", 0, "f:replicas")))},
		Events:      []unstructured.Unstructured{ev},
	}, t0.Add(40*time.Millisecond))
	acts := j.Actions()
	if len(acts) != 2 {
		t.Fatalf("want the creation and the scale, got %+v", acts)
	}
	a := acts[1]
	if got := ActionLine(a, time.UTC); got != "12:01:07 you (kubectl, scale) set deployment/web replicas 3 → 5" {
		t.Errorf("action: %q", got)
	}
	if len(a.Steps) != 1 || StepLine(a.Steps[0]) != "+0.02 s deployment controller scaled replicaset web-69c 3 → 5" {
		t.Errorf("steps: %+v", a.Steps)
	}
}

// The journal keeps the last n actions and forgets what came before.
func TestJournalIsBounded(t *testing.T) {
	j := NewJournal(3)
	for i := 0; i < 10; i++ {
		rv := strings.Repeat("1", i+1)
		j.Update(State{Deployments: []unstructured.Unstructured{deployment(rv, int64(i), "nginx:1.27",
			entry("kubectl", "scale", time.Duration(i)*time.Second, "f:replicas"))}}, t0.Add(time.Duration(i)*time.Second))
		j.Actions()
	}
	acts := j.Actions()
	if len(acts) != 3 || !strings.Contains(acts[2].Text, "replicas 8 → 9") {
		t.Fatalf("got %+v", acts)
	}
	if len(j.facts) > 4 {
		t.Errorf("the journal keeps %d facts for 3 actions", len(j.facts))
	}
}

// observed is a journal that follows a cache: obs hands it each state as
// the watch delivers it, before any update reads it.
func observed() (*Journal, func(...unstructured.Unstructured)) {
	j := NewJournal(0)
	j.v = newVersions()
	return j, func(us ...unstructured.Unstructured) {
		for i := range us {
			j.v.observe(&us[i], false)
		}
	}
}

// replicaSet is deployment web's ReplicaSet web-69c at rv with n replicas.
func replicaSet(rv string, n int64) unstructured.Unstructured {
	return unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"metadata": map[string]any{"name": "web-69c", "uid": "r1", "resourceVersion": rv,
			"ownerReferences": []any{map[string]any{"kind": "Deployment", "name": "web", "uid": "d1", "apiVersion": "apps/v1"}}},
		"spec": map[string]any{"replicas": n},
	}}
}

// newPod is a pod of ReplicaSet web-69c as its watch first delivers it.
func newPod(name, rv string) unstructured.Unstructured {
	p := readyPod(name, 0)
	p.SetResourceVersion(rv)
	delete(p.Object, "status")
	return p
}

func withGeneration(u unstructured.Unstructured, g int64) unstructured.Unstructured {
	u.SetGeneration(g)
	return u
}

// withVersions sets an event's own resourceVersion and the one of the
// object it reports on.
func withVersions(u unstructured.Unstructured, own, involved string) unstructured.Unstructured {
	u.SetResourceVersion(own)
	if involved != "" {
		_ = unstructured.SetNestedField(u.Object, involved, "involvedObject", "resourceVersion")
	}
	return u
}

// A write whose watch delivers it seconds late (a loaded machine) keeps
// the steps it caused: they follow it by resourceVersion, though their
// clocks say they happened before k8slab heard of the write. Placed by
// the clocks, the second scale's first steps went under the first.
func TestAWriteSeenLateKeepsItsSteps(t *testing.T) {
	j, obs := observed()
	clock := t0
	j.v.now = func() time.Time { return clock }
	create := entry("kubectl-create", "", -time.Minute, "f:template")
	d10 := withGeneration(deployment("10", 3, "nginx:1.27", create), 1)
	rs11 := replicaSet("11", 3)
	obs(d10, rs11)
	j.Update(State{Deployments: []unstructured.Unstructured{d10}, ReplicaSets: []unstructured.Unstructured{rs11}}, t0.Add(-time.Minute))

	d20 := withGeneration(deployment("20", 4, "nginx:1.27", create, entry("kubectl-scale", "", 0, "f:replicas")), 2)
	obs(d20)
	clock = t0.Add(20 * time.Millisecond)
	rs21 := replicaSet("21", 4)
	obs(rs21)
	clock = t0.Add(30 * time.Millisecond)
	obs(newPod("web-69c-ab12", "23"))
	j.Update(State{Deployments: []unstructured.Unstructured{d20}, ReplicaSets: []unstructured.Unstructured{rs21}}, t0.Add(40*time.Millisecond))

	// The second scale at 12:01:17 (resourceVersion 30): the ReplicaSet's
	// watch and the events arrive at once, the Deployment's 2.5 s late.
	clock = t0.Add(10020 * time.Millisecond)
	rs31 := replicaSet("31", 5)
	obs(rs31)
	clock = t0.Add(10030 * time.Millisecond)
	obs(newPod("web-69c-cd34", "33"))
	j.Update(State{Deployments: []unstructured.Unstructured{d20}, ReplicaSets: []unstructured.Unstructured{rs31}}, t0.Add(10050*time.Millisecond))
	d30 := withGeneration(deployment("30", 5, "nginx:1.27", create, entry("kubectl-scale", "", 10*time.Second, "f:replicas")), 3)
	obs(d30)
	j.Update(State{Deployments: []unstructured.Unstructured{d30}, ReplicaSets: []unstructured.Unstructured{rs31}}, t0.Add(12500*time.Millisecond))

	var b strings.Builder
	if err := WriteText(&b, j.Actions(), time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `12:00:07 you (kubectl-create) created deployment/web

12:01:07 you (kubectl-scale) set deployment/web replicas 3 → 4
  +0.00 s deployment controller scaled replicaset web-69c 3 → 4
  +0.00 s replicaset controller created pod web-69c-ab12

12:01:17 you (kubectl-scale) set deployment/web replicas 4 → 5
  +0.00 s deployment controller scaled replicaset web-69c 4 → 5
  +0.00 s replicaset controller created pod web-69c-cd34
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// The informer's store changes before its handlers hear of the change: a
// state read ahead of what was observed waits for the next update, when
// its version is known, rather than being placed by a guess.
func TestAStateAheadOfItsObservationWaits(t *testing.T) {
	j, obs := observed()
	create := entry("kubectl-create", "", -time.Minute, "f:template")
	d10 := withGeneration(deployment("10", 3, "nginx:1.27", create), 1)
	obs(d10)
	j.Update(State{Deployments: []unstructured.Unstructured{d10}}, t0.Add(-time.Minute))

	d20 := withGeneration(deployment("20", 4, "nginx:1.27", create, entry("kubectl-scale", "", 0, "f:replicas")), 2)
	ev := withVersions(event("e1", "Pod", "web-69c-ab12", "kubelet", "w1", "Pulled", "Container image \"nginx:1.27\" already present on machine", 20*time.Millisecond), "21", "20")
	j.Update(State{Deployments: []unstructured.Unstructured{d20}, Events: []unstructured.Unstructured{ev}}, t0)
	if acts := j.Actions(); len(acts) != 1 || len(acts[0].Steps) != 1 {
		t.Fatalf("a write not yet observed is placed: %+v", acts)
	}
	obs(d20)
	j.Update(State{Deployments: []unstructured.Unstructured{d20}, Events: []unstructured.Unstructured{ev}}, t0.Add(10*time.Millisecond))
	acts := j.Actions()
	if len(acts) != 2 || acts[1].rv != 20 || acts[1].Text != "set deployment/web replicas 3 → 4" || len(acts[1].Steps) != 1 {
		t.Fatalf("got %+v", acts)
	}
}

// client-go's correlator folds similar events into one and patches its
// count: the folded event keeps the involvedObject (and its
// resourceVersion) of its first occurrence, so its own resourceVersion
// places it. Placed by the stale one, a rollback's steps went under the
// rollout before it on the simulator.
func TestAFoldedEventIsPlacedByItsOwnVersion(t *testing.T) {
	j, obs := observed()
	create := entry("kubectl-create", "", -time.Minute, "f:template")
	d10 := withGeneration(deployment("10", 3, "nginx:1.27", create), 1)
	obs(d10)
	j.Update(State{Deployments: []unstructured.Unstructured{d10}}, t0.Add(-time.Minute))

	d20 := withGeneration(deployment("20", 3, "nginx:1.28", create, entry("kubectl-set", "", 0, "f:template")), 2)
	folded := withVersions(event("e1", "Deployment", "web", "deployment-controller", "", "Progressing",
		"(combined from similar events): replica set web-5d4 progressed", 20*time.Millisecond), "21", "20")
	obs(d20)
	j.Update(State{Deployments: []unstructured.Unstructured{d20}, Events: []unstructured.Unstructured{folded}}, t0.Add(40*time.Millisecond))

	d30 := withGeneration(deployment("30", 3, "nginx:1.27", create, entry("kubectl-set", "", 10*time.Second, "f:template")), 3)
	obs(d30)
	j.Update(State{Deployments: []unstructured.Unstructured{d30}, Events: []unstructured.Unstructured{folded}}, t0.Add(10*time.Second))
	again := withVersions(event("e1", "Deployment", "web", "deployment-controller", "", "Progressing",
		"(combined from similar events): replica set web-69c progressed", 10020*time.Millisecond), "31", "20")
	again.Object["count"] = int64(2)
	j.Update(State{Deployments: []unstructured.Unstructured{d30}, Events: []unstructured.Unstructured{again}}, t0.Add(10050*time.Millisecond))

	acts := j.Actions()
	if len(acts) != 3 || len(acts[2].Steps) != 1 || acts[2].Steps[0].Text != "deployment/web Progressing: replica set web-69c progressed" {
		var b strings.Builder
		_ = WriteText(&b, acts, time.UTC)
		t.Fatalf("the rollback's step is not under it:\n%s", b.String())
	}
}

// A pod deleted gracefully is replaced as soon as it is marked deleting:
// the replacement follows the delete though no read saw the pod deleting
// (only the watch did) and it was removed after the replacement was made.
func TestAGracefulDeletePlacesItsReplacement(t *testing.T) {
	j, obs := observed()
	pod := readyPod("web-69c-ab12", -time.Minute)
	pod.SetResourceVersion("10")
	rs := replicaSet("11", 1)
	obs(pod, rs)
	j.Update(State{Pods: []unstructured.Unstructured{pod}, ReplicaSets: []unstructured.Unstructured{rs}}, t0.Add(-time.Minute))

	deleting := *pod.DeepCopy()
	deleting.SetResourceVersion("50")
	now := metav1.NewTime(t0)
	deleting.SetDeletionTimestamp(&now)
	obs(deleting)
	gone := *deleting.DeepCopy()
	gone.SetResourceVersion("60")
	replacement := newPod("web-69c-cd34", "55")
	obs(replacement)
	j.v.observe(&gone, true)
	j.Update(State{Pods: []unstructured.Unstructured{replacement}, ReplicaSets: []unstructured.Unstructured{rs}}, t0.Add(2*time.Second))

	acts := j.Actions()
	if len(acts) != 2 || acts[1].Text != "deleted pod web-69c-ab12" || len(acts[1].Steps) != 1 || acts[1].Steps[0].Text != "created pod web-69c-cd34" {
		var b strings.Builder
		_ = WriteText(&b, acts, time.UTC)
		t.Fatalf("the replacement is not under the delete:\n%s", b.String())
	}
}

// Annotated, the text timeline follows the first step of each kind with
// its why, wrapped at 80 columns, and the JSON carries it on every step.
func TestWhyFollowsTheFirstStepOfItsKind(t *testing.T) {
	acts := []Action{{Time: t0, Actor: "you (kubectl-scale)", Text: "set deployment/web replicas 3 → 5", Steps: []Step{
		{Offset: 20 * time.Millisecond, Precise: true, Actor: "scheduler", Text: "placed a on w1", Kind: KindSchedule},
		{Offset: 30 * time.Millisecond, Precise: true, Actor: "scheduler", Text: "placed b on w2", Kind: KindSchedule},
	}}}
	Annotate(acts, func(kind string) (string, string) {
		if kind != KindSchedule {
			return "", ""
		}
		return "A new pod has no node - the scheduler filters out the nodes it does not fit, scores the rest, and binds the pod to the best one.", "Choosing nodes"
	})
	var b strings.Builder
	if err := WriteText(&b, acts, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `12:01:07 you (kubectl-scale) set deployment/web replicas 3 → 5
  +0.02 s scheduler placed a on w1
      why: A new pod has no node - the scheduler filters out the nodes it does
      not fit, scores the rest, and binds the pod to the best one. (lesson:
      Choosing nodes)
  +0.03 s scheduler placed b on w2
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, acts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `"lesson": "Choosing nodes"`); n != 2 {
		t.Errorf("the JSON carries the lesson on %d steps, want 2:\n%s", n, b.String())
	}
}

// A pod deleted while its ReplicaSet has pods to shed (scaled down) is
// the controller's delete; a pod deleted when it has none is a person's.
// Both are read from the pods: client-go folds the controller's events
// after ten similar ones, and a folded event tells only the last pod.
func TestWhoDeletedAPod(t *testing.T) {
	j, obs := observed()
	rs := replicaSet("10", 2)
	a, b := newPod("web-69c-aaaaa", "11"), newPod("web-69c-bbbbb", "12")
	obs(rs, a, b)
	j.Update(State{ReplicaSets: []unstructured.Unstructured{rs}, Pods: []unstructured.Unstructured{a, b}}, t0)

	deleting := func(p unstructured.Unstructured, rv string) unstructured.Unstructured {
		p = *p.DeepCopy()
		p.SetResourceVersion(rv)
		now := metav1.NewTime(t0)
		p.SetDeletionTimestamp(&now)
		return p
	}
	// The pod's watch delivers its deletion before the ReplicaSet's
	// watch delivers the scale-down that caused it: it is decided once
	// the ReplicaSet's watch has caught up (its status follows).
	rs20 := replicaSet("20", 1)
	a21 := deleting(a, "21")
	obs(a21)
	j.Update(State{ReplicaSets: []unstructured.Unstructured{rs}, Pods: []unstructured.Unstructured{a21, b}}, t0.Add(time.Second))
	rs22 := replicaSet("22", 1)
	obs(rs20, rs22)
	j.Update(State{ReplicaSets: []unstructured.Unstructured{rs22}, Pods: []unstructured.Unstructured{a21, b}}, t0.Add(time.Second))
	b31 := deleting(b, "31")
	rs32 := replicaSet("32", 1)
	obs(b31, rs32)
	j.Update(State{ReplicaSets: []unstructured.Unstructured{rs32}, Pods: []unstructured.Unstructured{a21, b31}}, t0.Add(2*time.Second))

	var out strings.Builder
	_ = WriteText(&out, j.Actions(), time.UTC)
	text := out.String()
	if !strings.Contains(text, "replicaset controller deleted pod web-69c-aaaaa") || strings.Contains(text, "you deleted pod web-69c-aaaaa") ||
		!strings.Contains(text, "you deleted pod web-69c-bbbbb") {
		t.Errorf("who deleted which pod:\n%s", text)
	}
}
