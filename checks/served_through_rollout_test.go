package checks

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// scaled is the deployment controller's record of one scaling, at second
// sec of the story, written to etcd as revision rv.
func scaled(d *appsv1.Deployment, sec, rv int, message string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", d.Name, rv), Namespace: testNS,
			ResourceVersion: fmt.Sprint(rv), CreationTimestamp: at(sec)},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: testNS, Name: d.Name, UID: d.UID,
			APIVersion: "apps/v1"},
		Reason: "ScalingReplicaSet", Message: message, Count: 1, Type: corev1.EventTypeNormal,
		FirstTimestamp: at(sec), LastTimestamp: at(sec),
	}
}

// readyFrom makes the pod ready since second sec, last written as rv.
func readyFrom(sec, rv int) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions[0].LastTransitionTime = at(sec)
		p.ResourceVersion = fmt.Sprint(rv)
	}
}

func TestServedThroughRollout(t *testing.T) {
	d := deployment("web", 2, func(d *appsv1.Deployment) { d.Spec.Template = template("web", "nginx:1.28") })
	oldRS := replicaSet(d, "old", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(0)) })
	newRS := replicaSet(d, "new", 2, "nginx:1.28", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(2)) })
	svc := service("web", map[string]string{"app": "web"}, func(s *corev1.Service) { s.CreationTimestamp = at(0) })
	ev := func(sec, rv int, msg string) *corev1.Event { return scaled(d, sec, rv, msg) }
	pods := func(opts ...podOpt) []runtime.Object {
		var out []runtime.Object
		for i, o := range opts {
			out = append(out, pod(fmt.Sprintf("web-new-%d", i), app("web"), ownedByRS(newRS), o))
		}
		return out
	}
	// A rolling update with maxUnavailable 0: a new pod is ready before
	// each old one goes.
	rolling := []runtime.Object{
		ev(10, 100, "Scaled up replica set web-new from 0 to 1"),
		ev(12, 110, "Scaled down replica set web-old from 2 to 1"),
		ev(12, 112, "Scaled up replica set web-new from 1 to 2"),
		ev(14, 120, "Scaled down replica set web-old from 1 to 0"),
	}
	// Recreate: every old pod goes before the first new one is made.
	recreate := []runtime.Object{
		ev(10, 100, "Scaled down replica set web-old from 2 to 0"),
		ev(11, 105, "Scaled up replica set web-new from 0 to 2"),
	}
	story := func(parts ...[]runtime.Object) []runtime.Object {
		out := []runtime.Object{d, oldRS, newRS, svc}
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"rolling update", story(rolling, pods(readyFrom(11, 105), readyFrom(14, 118))), Pass, nil},
		{"ready in the same second as the old pods went, and written before", story(rolling,
			pods(readyFrom(14, 118), readyFrom(14, 119))), Pass, nil},
		{"ready in the same second, but written after", story(rolling,
			pods(readyFrom(14, 121), readyFrom(15, 130))),
			Fail, []string{"service web was left with no ready pod during the rollout of deployment web", "12:00:14 UTC", "maxUnavailable: 0", "kubectl rollout restart deployment/web"}},
		{"recreate", story(recreate, pods(readyFrom(12, 130), readyFrom(13, 131))),
			Fail, []string{"left with no ready pod", "12:00:10 UTC"}},
		{"all old pods at once (maxUnavailable 100%)", story([]runtime.Object{
			ev(10, 100, "Scaled up replica set web-new from 0 to 2"),
			ev(10, 101, "Scaled down replica set web-old from 2 to 0"),
		}, pods(readyFrom(11, 120), readyFrom(11, 121))), Fail, []string{"left with no ready pod"}},
		{"scaled to zero after a good rollout", story(rolling,
			[]runtime.Object{ev(30, 200, "Scaled down replica set web-new from 2 to 0"), ev(40, 300, "Scaled up replica set web-new from 0 to 2")},
			pods(readyFrom(41, 310), readyFrom(42, 311))), Fail, []string{"left with no ready pod"}},
		{"a bad rollout earlier, a good one last", func() []runtime.Object {
			older := replicaSet(d, "older", 0, "nginx:1.26", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(0)) })
			return story([]runtime.Object{older, ev(2, 50, "Scaled down replica set web-older from 2 to 0")}, rolling,
				pods(readyFrom(11, 105), readyFrom(14, 118)))
		}(), Pass, nil},
		{"pod not ready now does not count", story(rolling,
			pods(func(p *corev1.Pod) { readyFrom(11, 105)(p); notReady(p) }, readyFrom(16, 140))),
			Fail, []string{"left with no ready pod"}},
		{"only a pod the service does not select was ready", story(rolling,
			[]runtime.Object{pod("other", map[string]string{"app": "other"}, readyFrom(1, 10))},
			pods(readyFrom(16, 140))), Fail, []string{"left with no ready pod"}},
		{"rollout still running", []runtime.Object{d, newRS, svc, rolling[0], rolling[1],
			replicaSet(d, "old", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(1)) }),
			pods(readyFrom(11, 105))[0]},
			Fail, []string{"has not finished", "web-old still has pods"}},
		{"first revision only", []runtime.Object{d, replicaSet(d, "new", 1, "nginx:1.28"), svc,
			ev(1, 10, "Scaled up replica set web-new from 0 to 2")},
			Fail, []string{"deployment web is at its first revision", "deleted and created again"}},
		{"events expired", story(pods(readyFrom(11, 105))),
			Fail, []string{"holds no record", "kubectl rollout restart deployment/web"}},
		{"events of an earlier deployment of the same name", story([]runtime.Object{func() *corev1.Event {
			e := ev(14, 120, "Scaled down replica set web-old from 1 to 0")
			e.InvolvedObject.UID = "uid-earlier"
			return e
		}()}, pods(readyFrom(11, 105))), Fail, []string{"holds no record"}},
		{"service created after the old pods went", []runtime.Object{d, oldRS, newRS,
			service("web", map[string]string{"app": "web"}, func(s *corev1.Service) { s.CreationTimestamp = at(20) }),
			rolling[0], rolling[1], rolling[2], rolling[3], pods(readyFrom(11, 105))[0]},
			Fail, []string{"service web was created at 12:00:20 UTC", "12:00:14 UTC"}},
		{"scalings folded, newest kept", story(rolling[:3], []runtime.Object{
			ev(14, 120, combinedPrefix+"Scaled down replica set web-old from 1 to 0")},
			pods(readyFrom(11, 105), readyFrom(14, 118))), Pass, nil},
		{"scalings folded, the one that matters lost", story(rolling, []runtime.Object{
			ev(20, 150, combinedPrefix+"Scaled up replica set web-new from 1 to 2")},
			pods(readyFrom(11, 105))), Fail, []string{"folded its scaling events together"}},
		{"no ready pod now", story(rolling, pods(func(p *corev1.Pod) { notReady(p) })),
			Fail, []string{"service web has no ready pod behind it now"}},
		{"service without selector", []runtime.Object{d, oldRS, newRS, service("web", nil), rolling[3],
			pods(readyFrom(11, 105))[0]}, Fail, []string{"service web has no selector"}},
		{"missing service", []runtime.Object{d, oldRS, newRS}, Missing, []string{"service web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servedThroughRollout(context.Background(), snapshotOf(t, tt.objs...), testNS,
				ServedThroughRollout{Deployment: "web", Service: "web"})
			expect(t, got, tt.status, tt.words...)
		})
	}
	t.Run("settling while the rollout runs", func(t *testing.T) {
		running := replicaSet(d, "old", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(1)) })
		got := servedThroughRollout(context.Background(), snapshotOf(t, d, running, newRS, svc), testNS,
			ServedThroughRollout{Deployment: "web", Service: "web"})
		if !got.Settling {
			t.Errorf("a running rollout should be settling: %+v", got)
		}
	})
}
