package checks

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func configMap(name string, created int, writes ...int) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, CreationTimestamp: at(created)}}
	for _, sec := range writes {
		e := managed("kubectl-patch", metav1.ManagedFieldsOperationUpdate, "", sec, `{"f:data":{"f:GREETING":{}}}`)
		e.APIVersion = "v1"
		cm.ManagedFields = append(cm.ManagedFields, e)
	}
	return cm
}

func rv(cm *corev1.ConfigMap, v string) *corev1.ConfigMap { cm.ResourceVersion = v; return cm }

func podRV(v string) podOpt { return func(p *corev1.Pod) { p.ResourceVersion = v } }

func TestStartedAfter(t *testing.T) {
	d := deployment("web", 2)
	rs := replicaSet(d, "abc", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) { rs.Spec.Template = d.Spec.Template })
	old := replicaSet(d, "old", 0, "nginx:1.27")
	spec := StartedAfter{Deployment: "web", ConfigMap: "app-settings"}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"pods newer than the change", []runtime.Object{d, rs, configMap("app-settings", 0, 10),
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(12)),
			pod("web-abc-2", app("web"), ownedByRS(rs), createdAt(13))}, Pass, nil},
		{"in the second of the change, a pod written since counts", []runtime.Object{d, rs, rv(configMap("app-settings", 0, 10), "100"),
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(10), podRV("101"))}, Pass, nil},
		{"in the second of the change, a pod last written before it does not", []runtime.Object{d, rs, rv(configMap("app-settings", 0, 10), "100"),
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(10), podRV("99"))}, Fail, []string{"pod web-abc-1"}},
		{"changed after the pods started", []runtime.Object{d, rs, configMap("app-settings", 0, 10),
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-abc-2", app("web"), ownedByRS(rs), createdAt(13))}, Fail,
			[]string{"pod web-abc-1", "started before configmap app-settings last changed", "kubectl rollout restart deployment web"}},
		{"a rollout after the change is replacing them", []runtime.Object{d,
			replicaSet(d, "abc", 2, "nginx:1.27", func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template = d.Spec.Template
				rs.CreationTimestamp = at(20)
			}),
			replicaSet(d, "old", 1, "nginx:1.26"), configMap("app-settings", 0, 10),
			pod("web-old-1", app("web"), ownedByRS(old), createdAt(2))}, Fail, []string{"is replacing pod web-old-1"}},
		{"a bare pod with the labels is not the deployment's", []runtime.Object{d, rs, configMap("app-settings", 0, 10),
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(12)),
			pod("impostor", app("web"), createdAt(2))}, Pass, nil},
		{"no configmap", []runtime.Object{d, rs}, Missing, []string{"configmap app-settings in namespace " + testNS + " not found"}},
		{"no deployment", []runtime.Object{configMap("app-settings", 0)}, Missing, []string{"deployment web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := startedAfter(context.Background(), snapshotOf(t, tt.objs...), testNS, spec)
			expect(t, got, tt.status, tt.words...)
		})
	}
}

func TestPodsPlaced(t *testing.T) {
	d := deployment("cache", 2)
	rs := replicaSet(d, "abc", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) { rs.Spec.Template = d.Spec.Template })
	on := func(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
	pending := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't match Pod's node affinity/selector."}}
	}
	cp := node("k8slab-control-plane", map[string]string{"node-role.kubernetes.io/control-plane": ""})
	ssd := node("k8slab-worker", map[string]string{"disk": "ssd"})
	plain := node("k8slab-worker2", nil)
	nodes := []runtime.Object{cp, ssd, plain}
	with := func(objs ...runtime.Object) []runtime.Object {
		return append(append([]runtime.Object{d, rs}, nodes...), objs...)
	}
	ssdSpec := PodsPlaced{Deployment: "cache", NodeLabel: "disk=ssd"}
	tests := []struct {
		name   string
		spec   PodsPlaced
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"all on the labelled node", ssdSpec, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), on("k8slab-worker")),
			pod("cache-abc-2", app("cache"), ownedByRS(rs), on("k8slab-worker"))), Pass, nil},
		{"one elsewhere", ssdSpec, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), on("k8slab-worker")),
			pod("cache-abc-2", app("cache"), ownedByRS(rs), on("k8slab-worker2"))), Fail,
			[]string{"pod cache-abc-2 runs on node k8slab-worker2", "does not have the label disk=ssd"}},
		{"unschedulable says why", ssdSpec, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), pending)), Fail,
			[]string{"pod cache-abc-1 is Pending", "had untolerated taint(s)"}},
		{"not yet looked at by the scheduler", ssdSpec, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending; p.Status.Conditions = nil })), Fail,
			[]string{"has not been placed on a node yet"}},
		{"role", PodsPlaced{Deployment: "cache", Role: "control-plane"}, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), on("k8slab-worker"))), Fail,
			[]string{"a worker node", "on a control-plane node"}},
		{"role met", PodsPlaced{Deployment: "cache", Role: "control-plane"}, with(
			pod("cache-abc-1", app("cache"), ownedByRS(rs), on("k8slab-control-plane"))), Pass, nil},
		{"no pods", ssdSpec, with(), Fail, []string{"has no running pods yet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podsPlaced(context.Background(), snapshotOf(t, tt.objs...), testNS, tt.spec)
			expect(t, got, tt.status, tt.words...)
		})
	}
	// A pod that has not been looked at yet is the scheduler's to place:
	// settling, not wrong.
	got := podsPlaced(context.Background(), snapshotOf(t, with(pod("cache-abc-1", app("cache"), ownedByRS(rs),
		func(p *corev1.Pod) { p.Status.Conditions = nil }))...), testNS, ssdSpec)
	if !got.Settling {
		t.Errorf("an unplaced pod without a verdict is not settling: %+v", got)
	}
	got = podsPlaced(context.Background(), snapshotOf(t, with(pod("cache-abc-1", app("cache"), ownedByRS(rs), pending))...), testNS, ssdSpec)
	if got.Settling {
		t.Errorf("a pod the scheduler cannot place is reported as settling: %+v", got)
	}
}
