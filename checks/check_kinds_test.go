package checks

import (
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

const testNS = "lab-x"

// t0 is when the fixtures' story starts.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(sec) * time.Second)) }

var listKinds = map[schema.GroupVersionResource]string{
	kube.DeploymentsGVR:    "DeploymentList",
	kube.ReplicaSetsGVR:    "ReplicaSetList",
	kube.PodsGVR:           "PodList",
	kube.ServicesGVR:       "ServiceList",
	kube.EndpointSlicesGVR: "EndpointSliceList",
	kube.NodesGVR:          "NodeList",
	kube.EventsGVR:         "EventList",
	kube.SecretsGVR:        "SecretList",
	kube.ConfigMapsGVR:     "ConfigMapList",
}

func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	var gv, kind string
	switch obj.(type) {
	case *appsv1.Deployment:
		gv, kind = "apps/v1", "Deployment"
	case *appsv1.ReplicaSet:
		gv, kind = "apps/v1", "ReplicaSet"
	case *corev1.Pod:
		gv, kind = "v1", "Pod"
	case *corev1.Service:
		gv, kind = "v1", "Service"
	case *corev1.Node:
		gv, kind = "v1", "Node"
	case *discoveryv1.EndpointSlice:
		gv, kind = "discovery.k8s.io/v1", "EndpointSlice"
	case *corev1.Event:
		gv, kind = "v1", "Event"
	case *corev1.Secret:
		gv, kind = "v1", "Secret"
	case *corev1.ConfigMap:
		gv, kind = "v1", "ConfigMap"
	default:
		t.Fatalf("no kind for %T", obj)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(gv)
	u.SetKind(kind)
	return u
}

func fakeClient(t *testing.T, objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	t.Helper()
	us := make([]runtime.Object, len(objs))
	for i, o := range objs {
		us[i] = toUnstructured(t, o)
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, us...)
}

func snapshotOf(t *testing.T, objs ...runtime.Object) clustercache.Snapshot {
	t.Helper()
	return clustercache.NewSnapshot(fakeClient(t, objs...), nil)
}

// expect asserts the status and that the messages mention every word.
func expect(t *testing.T, got Outcome, status Status, words ...string) {
	t.Helper()
	if got.Status != status {
		t.Errorf("status = %s, want %s (messages: %q)", got.Status, status, got.Messages)
	}
	all := strings.Join(got.Messages, "\n")
	for _, w := range words {
		if !strings.Contains(all, w) {
			t.Errorf("messages %q do not mention %q", got.Messages, w)
		}
	}
	if status == Pass && len(got.Messages) > 0 {
		t.Errorf("a pass has messages: %q", got.Messages)
	}
	if status != Pass && len(got.Messages) == 0 {
		t.Errorf("%s without a message", status)
	}
}

func ptr[T any](v T) *T { return &v }

func template(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: app, Image: image,
			Resources: corev1.ResourceRequirements{},
		}}},
	}
}

func deployment(name string, replicas int32, mut ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: types.UID("uid-" + name),
			Generation: 1, CreationTimestamp: at(0)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: template(name, "nginx:1.27"),
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, UpdatedReplicas: replicas,
			ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
	for _, m := range mut {
		m(d)
	}
	return d
}

func replicaSet(d *appsv1.Deployment, hash string, revision int, image string, mut ...func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
	tpl := template(d.Spec.Template.Labels["app"], image)
	tpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: testNS, UID: types.UID("uid-rs-" + hash),
			CreationTimestamp: at(revision),
			Annotations:       map[string]string{kube.RevisionAnnotation: fmt.Sprint(revision)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name,
				UID: d.UID, Controller: ptr(true)}},
		},
		Spec: appsv1.ReplicaSetSpec{Template: tpl},
	}
	for _, m := range mut {
		m(rs)
	}
	return rs
}

type podOpt func(*corev1.Pod)

func pod(name string, lbls map[string]string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, Labels: lbls, CreationTimestamp: at(1)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }

func ip(addr string) podOpt { return func(p *corev1.Pod) { p.Status.PodIP = addr } }

func createdAt(sec int) podOpt { return func(p *corev1.Pod) { p.CreationTimestamp = at(sec) } }

func ownedByRS(rs *appsv1.ReplicaSet) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name,
			UID: rs.UID, Controller: ptr(true)}}
	}
}

func app(name string) map[string]string {
	return map[string]string{"app": name, appsv1.DefaultDeploymentUniqueLabelKey: "abc"}
}

func service(name string, selector map[string]string, mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

type endpoint struct {
	pod   string
	addr  string
	ready *bool
}

func endpointSlice(svc string, eps ...endpoint) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc + "-x1", Namespace: testNS, Labels: map[string]string{kube.ServiceNameLabel: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, e := range eps {
		ep := discoveryv1.Endpoint{Addresses: []string{e.addr}, Conditions: discoveryv1.EndpointConditions{Ready: e.ready}}
		if e.addr == "" {
			ep.Addresses = []string{"10.0.0.1"}
		}
		if e.pod != "" {
			ep.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: e.pod, Namespace: testNS}
		}
		es.Endpoints = append(es.Endpoints, ep)
	}
	return es
}

// rsEvent is what the ReplicaSet controller records for a pod it creates
// ("SuccessfulCreate", "Created pod: NAME") or deletes.
func rsEvent(rs *appsv1.ReplicaSet, reason, message string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%08x", rs.Name, crc32.ChecksumIEEE([]byte(string(rs.UID)+reason+message))), Namespace: testNS},
		InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Namespace: testNS, Name: rs.Name, UID: rs.UID,
			APIVersion: "apps/v1"},
		Reason: reason, Message: message, Count: 1, Type: corev1.EventTypeNormal,
	}
}

func node(name string, lbls map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

func managed(manager string, op metav1.ManagedFieldsOperationType, subresource string, sec int, fields string) metav1.ManagedFieldsEntry {
	e := metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: subresource, APIVersion: "apps/v1",
		Time: ptr(at(sec)), FieldsType: "FieldsV1"}
	if fields != "" {
		e.FieldsV1 = metav1.NewFieldsV1(fields)
	}
	return e
}

// untimed drops an entry's time, as the API server's scale handler does.
func untimed(e metav1.ManagedFieldsEntry) metav1.ManagedFieldsEntry {
	e.Time = nil
	return e
}

const (
	replicasFields = `{"f:spec":{"f:replicas":{}}}`
	imageFields    = `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}}}`
	allFields      = `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	revisionFields = `{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}}}`
	statusFields   = `{"f:status":{"f:replicas":{}}}`
)

func TestRolloutComplete(t *testing.T) {
	tests := []struct {
		name   string
		d      *appsv1.Deployment
		status Status
		words  []string
	}{
		{"complete", deployment("web", 3), Pass, nil},
		{"half done", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas, d.Status.Replicas = 1, 4
		}), Fail, []string{"deployment web", "1 out of 3 new replicas have been updated", "still in progress"}},
		{"old replicas pending termination", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Status.Replicas = 4
		}), Fail, []string{"deployment web", "1 old replicas are pending termination"}},
		{"available behind updated", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Status.AvailableReplicas = 2
		}), Fail, []string{"deployment web: 2 of 3 updated replicas are available; the rollout is still in progress"}},
		{"paused mid-rollout", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Spec.Paused = true
			d.Status.UpdatedReplicas = 0
		}), Fail, []string{"deployment web is paused", "0 out of 3", "kubectl rollout resume deployment/web"}},
		{"paused after finishing", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Spec.Paused = true
		}), Pass, nil},
		{"progress deadline exceeded", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 2
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing,
				Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: `ReplicaSet "web-abc" has timed out progressing.`}}
		}), Fail, []string{"deployment web exceeded its progress deadline", "timed out progressing", "kubectl describe deployment/web"}},
		{"generation not observed", deployment("web", 3, func(d *appsv1.Deployment) {
			d.Generation = 2
		}), Fail, []string{"has not yet seen the latest change", "generation 2, observed 1"}},
		{"scaled to zero", deployment("web", 0), Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rolloutComplete(context.Background(), snapshotOf(t, tt.d), testNS, labfile.WorkloadRef{Deployment: "web"})
			expect(t, got, tt.status, tt.words...)
		})
	}
	t.Run("missing", func(t *testing.T) {
		got := rolloutComplete(context.Background(), snapshotOf(t, deployment("api", 1)), testNS, labfile.WorkloadRef{Deployment: "web"})
		expect(t, got, Missing, "deployment web in namespace "+testNS+" not found")
	})
}

func TestRolledBack(t *testing.T) {
	atImage := func(image string) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) { d.Spec.Template = template("web", image) }
	}
	withHistory := func(h string) func(*appsv1.ReplicaSet) {
		return func(rs *appsv1.ReplicaSet) { rs.Annotations[kube.RevisionHistoryAnnotation] = h }
	}
	createdRS := func(sec int) func(*appsv1.ReplicaSet) {
		return func(rs *appsv1.ReplicaSet) { rs.CreationTimestamp = at(sec) }
	}
	historyBy := func(manager string) func(*appsv1.ReplicaSet) {
		return func(rs *appsv1.ReplicaSet) {
			rs.ManagedFields = append(rs.ManagedFields, managed(manager, metav1.ManagedFieldsOperationUpdate, "", 5,
				`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision-history":{}}}}`))
		}
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"rolled back: the current ReplicaSet is older than another template's", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.27"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 3, "nginx:1.27", createdRS(1)),
				replicaSet(d, "bbb", 2, "nginx:1.28")}
		}(), Pass, nil},
		{"rolled back within one second: history as the controller wrote it", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.27"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 3, "nginx:1.27", createdRS(1), withHistory("1"), historyBy(controllerManager)),
				replicaSet(d, "bbb", 2, "nginx:1.28", createdRS(1))}
		}(), Pass, nil},
		{"rolled back to the newer template: history as the controller wrote it", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 3, "nginx:1.27", createdRS(1), withHistory("1")),
				replicaSet(d, "bbb", 4, "nginx:1.28", createdRS(2), withHistory("2"), historyBy(controllerManager))}
		}(), Pass, nil},
		// The one-command false pass of issue #19: the annotation is
		// anyone's to write.
		{"history annotated by hand on a new template", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27"),
				replicaSet(d, "bbb", 2, "nginx:1.28", withHistory("1"), historyBy("kubectl-annotate"))}
		}(), Fail, []string{"was written by 'kubectl annotate', not by the deployment controller", "kubectl rollout undo deployment/web"}},
		{"history annotated by hand within one second", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27", createdRS(2)),
				replicaSet(d, "bbb", 2, "nginx:1.28", withHistory("1"), historyBy("kubectl-annotate"))}
		}(), Fail, []string{"an annotation does not roll anything back"}},
		{"history without a record of its writer", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27"),
				replicaSet(d, "bbb", 2, "nginx:1.28", withHistory("1"))}
		}(), Fail, []string{"revision 2, which is a new template"}},
		{"new template", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27"),
				replicaSet(d, "bbb", 2, "nginx:1.28")}
		}(), Fail, []string{"deployment web is at revision 2, which is a new template, not an earlier one: roll back with kubectl rollout undo deployment/web"}},
		{"first revision only", func() []runtime.Object {
			d := deployment("web", 3)
			return []runtime.Object{d, replicaSet(d, "aaa", 1, "nginx:1.27")}
		}(), Fail, []string{"revision 1, its first"}},
		{"undo not yet seen by the controller", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.27"))
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27"),
				replicaSet(d, "bbb", 2, "nginx:1.28")}
		}(), Fail, []string{"template is that of revision 1", "wait a moment"}},
		{"history on a replica set of another deployment", func() []runtime.Object {
			d := deployment("web", 3, atImage("nginx:1.28"))
			other := deployment("web", 3, func(o *appsv1.Deployment) { o.UID = "uid-old-web" })
			return []runtime.Object{d,
				replicaSet(d, "aaa", 1, "nginx:1.27"),
				replicaSet(d, "bbb", 2, "nginx:1.28"),
				replicaSet(other, "zzz", 5, "nginx:1.28", withHistory("1"))}
		}(), Fail, []string{"revision 2, which is a new template"}},
		{"no replica sets", []runtime.Object{deployment("web", 3)}, Fail, []string{"no ReplicaSets yet"}},
		{"missing deployment", nil, Missing, []string{"deployment web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rolledBack(context.Background(), snapshotOf(t, tt.objs...), testNS, labfile.WorkloadRef{Deployment: "web"})
			expect(t, got, tt.status, tt.words...)
		})
	}
}

func TestServiceEndpoints(t *testing.T) {
	f := false
	web := map[string]string{"app": "web"}
	d := deployment("web", 2)
	base := func(extra ...runtime.Object) []runtime.Object {
		return append([]runtime.Object{d,
			pod("web-1", app("web"), ip("10.0.0.11")),
			pod("web-2", app("web"), ip("10.0.0.12"))}, extra...)
	}
	targetPort := func(p intstr.IntOrString) func(*corev1.Service) {
		return func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = p }
	}
	// listening is base with pods whose container declares port (named
	// name), behind svc.
	listening := func(svc *corev1.Service, port int32, name string) []runtime.Object {
		declares := func(p *corev1.Pod) {
			p.Spec.Containers = []corev1.Container{{Name: "nginx", Image: "nginx", Ports: []corev1.ContainerPort{{Name: name, ContainerPort: port}}}}
		}
		return []runtime.Object{d, svc,
			pod("web-1", app("web"), ip("10.0.0.11"), declares),
			pod("web-2", app("web"), ip("10.0.0.12"), declares),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"})}
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"exact match", base(service("web", web), endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"})), Pass, nil},
		{"exact match by address", base(service("web", web),
			endpointSlice("web", endpoint{addr: "10.0.0.11"}, endpoint{addr: "10.0.0.12"})), Pass, nil},
		{"not-ready pod listed as not ready", base(service("web", web),
			pod("web-3", app("web"), notReady),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"}, endpoint{pod: "web-3", ready: &f})), Pass, nil},
		{"not-ready pod listed as ready", base(service("web", web, func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pod("web-3", app("web"), notReady),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"}, endpoint{pod: "web-3"})),
			Fail, []string{"service web sends traffic to pod web-3, which is not Ready", "publishNotReadyAddresses"}},
		{"selects a pod of another app", []runtime.Object{d, service("web", map[string]string{"tier": "front"}),
			pod("web-1", map[string]string{"app": "web", "tier": "front"}),
			pod("web-2", map[string]string{"app": "web", "tier": "front"}),
			pod("api-1", map[string]string{"app": "api", "tier": "front"}),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"}, endpoint{pod: "api-1"})},
			Fail, []string{"service web also selects pod api-1, which is not part of deployment web", "tier=front"}},
		{"endpoints list a pod of another app", base(service("web", web),
			pod("api-1", map[string]string{"app": "api"}),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"}, endpoint{pod: "api-1"})),
			Fail, []string{"sends traffic to pod api-1, which is not part of deployment web"}},
		{"ready pod missing from endpoints", base(service("web", web), endpointSlice("web", endpoint{pod: "web-1"})),
			Fail, []string{"ready pod web-2 of deployment web is not among service web's endpoints yet"}},
		{"ready pod not selected", []runtime.Object{d,
			pod("web-1", map[string]string{"app": "web", "tier": "front"}),
			pod("web-2", app("web")),
			service("web", map[string]string{"app": "web", "tier": "front"}),
			endpointSlice("web", endpoint{pod: "web-1"})},
			Fail, []string{"does not send traffic to ready pod web-2", "app=web,tier=front does not match it (labelled app=web)"}},
		{"typo in selector", base(service("web", map[string]string{"app": "wbe"})),
			Fail, []string{"service web selects app=wbe, which matches no pods; the deployment's pods are labelled app=web"}},
		{"selects only another app", base(service("web", map[string]string{"app": "api"}), pod("api-1", map[string]string{"app": "api"})),
			Fail, []string{"service web selects app=api, which matches pod api-1 but none of deployment web's pods"}},
		{"no selector", base(service("web", nil)), Fail, []string{"service web has no selector", "app=web"}},
		{"no ready pods", []runtime.Object{d, pod("web-1", app("web"), notReady), service("web", web),
			endpointSlice("web", endpoint{pod: "web-1", ready: &f})}, Fail, []string{"deployment web has no Ready pods"}},
		// Waiting does not bring pods to a deployment scaled to 0.
		{"deployment scaled to zero", []runtime.Object{deployment("web", 0), service("web", web)},
			Fail, []string{"deployment web is scaled to 0 replicas", "scale it up"}},
		{"deployment with no pods yet", []runtime.Object{d, service("web", web)},
			Fail, []string{"but the deployment has no running pods yet"}},
		{"deleted pod still listed", base(service("web", web),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"}, endpoint{pod: "web-0"})),
			Fail, []string{"still lists pod web-0, which no longer exists"}},
		// The Service selects the right pods and reaches nothing: its
		// target port is not one the pods listen on (issue #19).
		{"target port the pods do not declare", listening(service("web", web, targetPort(intstr.FromInt32(8080))), 80, "http"),
			Fail, []string{"service web sends port 80 to port 8080, but deployment web's containers listen on http (80)"}},
		{"named target port the pods do not have", listening(service("web", web, targetPort(intstr.FromString("web"))), 80, "http"),
			Fail, []string{"port named web, which pod web-1 of deployment web does not have (its ports: http (80))"}},
		{"named target port", listening(service("web", web, targetPort(intstr.FromString("http"))), 80, "http"), Pass, nil},
		{"numbered target port", listening(service("web", web, targetPort(intstr.FromInt32(80))), 80, ""), Pass, nil},
		{"target port left out, port declared", listening(service("web", web), 80, ""), Pass, nil},
		{"no ports declared", base(service("web", web, targetPort(intstr.FromInt32(8080))),
			endpointSlice("web", endpoint{pod: "web-1"}, endpoint{pod: "web-2"})), Pass, nil},
		{"no service", base(), Missing, []string{"service web in namespace " + testNS + " not found"}},
		{"no deployment", []runtime.Object{service("web", web)}, Missing, []string{"deployment web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serviceEndpoints(context.Background(), snapshotOf(t, tt.objs...), testNS, ServiceEndpoints{Service: "web", Deployment: "web"})
			expect(t, got, tt.status, tt.words...)
			// Only pods still to come are worth waiting for.
			if want := tt.name == "deployment with no pods yet"; got.Settling != want && (want || tt.name == "deployment scaled to zero") {
				t.Errorf("settling = %v, want %v", got.Settling, want)
			}
		})
	}
}

func TestAppliedBy(t *testing.T) {
	withFields := func(replicas int32, lastApplied string, entries ...metav1.ManagedFieldsEntry) *appsv1.Deployment {
		return deployment("web", replicas, func(d *appsv1.Deployment) {
			d.ManagedFields = entries
			if lastApplied != "" {
				d.Annotations = map[string]string{kube.LastAppliedAnnotation: lastApplied}
			}
		})
	}
	const applied3 = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}`
	const applied5 = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}`
	ctrl := managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "", 20, revisionFields)
	ctrlStatus := managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", 30, statusFields)
	tests := []struct {
		name   string
		d      *appsv1.Deployment
		status Status
		words  []string
	}{
		{"client-side apply", withFields(3, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields), ctrl, ctrlStatus), Pass, nil},
		{"server-side apply", withFields(3, "",
			managed("kubectl", metav1.ManagedFieldsOperationApply, "", 10, allFields), ctrl, ctrlStatus), Pass, nil},
		{"scaled after apply", withFields(5, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields), ctrl,
			managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 40, replicasFields)),
			Fail, []string{"deployment web was last changed by 'kubectl scale' (imperative), after kubectl apply: run kubectl apply -f again, which sets replicas to what your file says (3 when last applied)"}},
		{"scaled after apply, scale entry without a time", withFields(5, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields), ctrl,
			untimed(managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 0, replicasFields))),
			Fail, []string{"'kubectl scale' (imperative), after kubectl apply: run kubectl apply -f again, which sets replicas to what your file says (3"}},
		{"scaled then applied again, scale entry without a time", withFields(3, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 50, allFields), ctrl,
			untimed(managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 0, replicasFields))), Pass, nil},
		{"scaled after server-side apply, scale entry without a time", withFields(5, "",
			managed("kubectl", metav1.ManagedFieldsOperationApply, "", 10, imageFields),
			untimed(managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 0, replicasFields))),
			Fail, []string{"'kubectl scale'", "kubectl apply --server-side -f again"}},
		// The way out of #22's trap: after 'kubectl scale', applying a
		// file that says the same count makes the two managers share
		// the field, and nothing else can move it.
		{"scaled, then the same count applied server-side", withFields(5, "",
			untimed(managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 0, replicasFields)),
			managed("kubectl", metav1.ManagedFieldsOperationApply, "", 50, allFields)), Pass, nil},
		{"scaled after server-side apply", withFields(5, "",
			managed("kubectl", metav1.ManagedFieldsOperationApply, "", 10, allFields),
			managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 40, replicasFields)),
			Fail, []string{"'kubectl scale'", "kubectl apply --server-side -f again"}},
		{"scaled in the same second as the apply", withFields(5, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields),
			managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 10, replicasFields)),
			Fail, []string{"'kubectl scale'", "which sets replicas to what your file says"}},
		// A field the file does not have, added in the same second as
		// the apply: half the time a script's label went unseen (#19).
		{"labelled in the same second as the apply", withFields(3, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields),
			managed("kubectl-label", metav1.ManagedFieldsOperationUpdate, "", 10, `{"f:metadata":{"f:labels":{"f:tier":{}}}}`)),
			Fail, []string{"'kubectl label'", "metadata.labels.tier"}},
		{"created, then applied in the same second", withFields(3, applied3,
			managed("kubectl-create", metav1.ManagedFieldsOperationUpdate, "", 10, `{"f:metadata":{"f:labels":{"f:tier":{}}}}`),
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields)), Pass, nil},
		{"scaled, then the change applied in the same second", withFields(5, applied5,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields),
			managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 10, replicasFields)), Pass, nil},
		{"scaled, then applied again", withFields(3, applied3,
			managed("kubectl", metav1.ManagedFieldsOperationUpdate, "scale", 10, replicasFields),
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 40, allFields)), Pass, nil},
		{"image set after apply", withFields(3, applied3,
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 10, allFields),
			managed("kubectl-set", metav1.ManagedFieldsOperationUpdate, "", 40, imageFields)),
			Fail, []string{"'kubectl set'", "spec.template.spec.containers[name=web].image"}},
		{"created imperatively", withFields(3, "",
			managed("kubectl-create", metav1.ManagedFieldsOperationUpdate, "", 10, allFields), ctrl, ctrlStatus),
			Fail, []string{"written only imperatively (by 'kubectl create')", "kubectl apply -f"}},
		{"no managed fields", withFields(3, applied3), Fail, []string{"managedFields is empty"}},
	}
	res := labfile.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appliedBy(context.Background(), snapshotOf(t, tt.d), testNS, res)
			expect(t, got, tt.status, tt.words...)
		})
	}
	t.Run("missing", func(t *testing.T) {
		got := appliedBy(context.Background(), snapshotOf(t), testNS, res)
		expect(t, got, Missing, "deployment web in namespace "+testNS+" not found")
	})
	t.Run("cluster-scoped", func(t *testing.T) {
		n := node("k8slab-worker", nil)
		n.ManagedFields = []metav1.ManagedFieldsEntry{managed("kubectl", metav1.ManagedFieldsOperationApply, "", 10, `{"f:metadata":{"f:labels":{"f:disk":{}}}}`)}
		got := appliedBy(context.Background(), snapshotOf(t, n), testNS, labfile.Resource{APIVersion: "v1", Kind: "Node", Name: "k8slab-worker"})
		expect(t, got, Pass)
	})
	t.Run("unknown kind", func(t *testing.T) {
		got := appliedBy(context.Background(), snapshotOf(t), testNS, labfile.Resource{APIVersion: "v1", Kind: "Deployment", Name: "web"})
		expect(t, got, Error, "apps/v1")
	})
}

func TestPodReplaced(t *testing.T) {
	d := deployment("web", 2, func(d *appsv1.Deployment) {
		d.ManagedFields = []metav1.ManagedFieldsEntry{
			managed("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", 0, allFields),
			managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "", 1, revisionFields),
			// Status changes when a pod goes away; that is not a change
			// the learner made to the deployment.
			managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", 100, statusFields),
		}
	})
	rs := replicaSet(d, "abc", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) {
		rs.CreationTimestamp = at(1)
		rs.ManagedFields = []metav1.ManagedFieldsEntry{
			managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "", 1, replicasFields),
			managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", 100, statusFields),
		}
	})
	scaledRS := replicaSet(d, "abc", 1, "nginx:1.27", func(rs *appsv1.ReplicaSet) {
		rs.CreationTimestamp = at(1)
		rs.ManagedFields = []metav1.ManagedFieldsEntry{
			managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "", 60, replicasFields),
		}
	})
	oldRS := replicaSet(d, "old", 0, "nginx:1.26")
	created := func(name string) *corev1.Event { return rsEvent(rs, "SuccessfulCreate", "Created pod: "+name) }
	// Three pods were made in the second of the last change; web-abc-2 is
	// gone, web-abc-3 replaced it.
	sameSecond := func(extra ...runtime.Object) []runtime.Object {
		return append([]runtime.Object{d, rs,
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-abc-3", app("web"), ownedByRS(rs), createdAt(2)),
			created("web-abc-1"), created("web-abc-2"), created("web-abc-3")}, extra...)
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"replaced", []runtime.Object{d, rs,
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-abc-3", app("web"), ownedByRS(rs), createdAt(60))}, Pass, nil},
		{"not replaced", []runtime.Object{d, rs,
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-abc-2", app("web"), ownedByRS(rs), createdAt(2))},
			Fail, []string{"no pod of deployment web has been replaced yet: delete one with kubectl delete pod web-abc-1 and watch a new one appear"}},
		{"new pod from scaling up", []runtime.Object{d, scaledRS,
			pod("web-abc-1", app("web"), ownedByRS(scaledRS), createdAt(2)),
			pod("web-abc-3", app("web"), ownedByRS(scaledRS), createdAt(61))},
			Fail, []string{"has been replaced yet"}},
		{"late pod of an old replica set", []runtime.Object{d, rs, oldRS,
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-old-1", app("web"), ownedByRS(oldRS), createdAt(60))},
			Fail, []string{"has been replaced yet"}},
		{"replaced in the same second, as the events show", sameSecond(), Pass, nil},
		{"deleted pod still terminating", sameSecond(pod("web-abc-2", app("web"), ownedByRS(rs), createdAt(2),
			func(p *corev1.Pod) { p.DeletionTimestamp = ptr(at(3)) })), Pass, nil},
		{"pod removed by scaling down", sameSecond(rsEvent(rs, "SuccessfulDelete", "Deleted pod: web-abc-2")),
			Fail, []string{"has been replaced yet"}},
		{"deletions folded together", sameSecond(rsEvent(rs, "SuccessfulDelete", "(combined from similar events): Deleted pod: web-abc-9")),
			Fail, []string{"has been replaced yet"}},
		{"events of an earlier replica set of the same name", func() []runtime.Object {
			earlier := rs.DeepCopy()
			earlier.UID = "uid-rs-earlier"
			return []runtime.Object{d, rs,
				pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
				rsEvent(earlier, "SuccessfulCreate", "Created pod: web-abc-0")}
		}(), Fail, []string{"has been replaced yet"}},
		// Inside a workshop's quota, on a loaded machine, the
		// ReplicaSet made anew after 'kubectl delete replicaset' took
		// seconds to make its pods: they look late, but its events
		// name them all, and none has gone.
		{"replica set deleted, its successor's pods made late", func() []runtime.Object {
			successor := replicaSet(d, "abc", 2, "nginx:1.27", func(rs *appsv1.ReplicaSet) {
				rs.UID = "uid-rs-successor"
				rs.CreationTimestamp = at(50)
				rs.ManagedFields = []metav1.ManagedFieldsEntry{
					managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "", 50, replicasFields),
					managed("kube-controller-manager", metav1.ManagedFieldsOperationUpdate, "status", 56, statusFields),
				}
			})
			return []runtime.Object{d, successor,
				pod("web-abc-4", app("web"), ownedByRS(successor), createdAt(53)),
				pod("web-abc-5", app("web"), ownedByRS(successor), createdAt(55)),
				rsEvent(successor, "SuccessfulCreate", "Created pod: web-abc-4"),
				rsEvent(successor, "SuccessfulCreate", "Created pod: web-abc-5"),
				// The first ReplicaSet's, by its uid: not the successor's.
				created("web-abc-1"), created("web-abc-2")}
		}(), Fail, []string{"has been replaced yet"}},
		{"late pod, its creation folded into an event naming another", []runtime.Object{d, rs,
			pod("web-abc-1", app("web"), ownedByRS(rs), createdAt(2)),
			pod("web-abc-3", app("web"), ownedByRS(rs), createdAt(60)),
			created("web-abc-1"), rsEvent(rs, "SuccessfulCreate", "(combined from similar events): Created pod: web-abc-1")}, Pass, nil},
		{"no pods", []runtime.Object{d, rs}, Fail, []string{"no running pods"}},
		{"no current replica set", []runtime.Object{d}, Fail, []string{"no ReplicaSet for its current template"}},
		{"missing", nil, Missing, []string{"deployment web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podReplaced(context.Background(), snapshotOf(t, tt.objs...), testNS, labfile.WorkloadRef{Deployment: "web"})
			expect(t, got, tt.status, tt.words...)
		})
	}
}

func TestNodeLabelled(t *testing.T) {
	cp := func(extra map[string]string) *corev1.Node {
		l := map[string]string{kube.ControlPlaneRoleLabel: ""}
		for k, v := range extra {
			l[k] = v
		}
		return node("k8slab-control-plane", l)
	}
	ssd := map[string]string{"disk": "ssd"}
	tests := []struct {
		name   string
		spec   NodeLabelled
		nodes  []runtime.Object
		status Status
		words  []string
	}{
		{"on a worker", NodeLabelled{Key: "disk", Value: "ssd", Only: true},
			[]runtime.Object{cp(nil), node("k8slab-worker", ssd), node("k8slab-worker2", nil)}, Pass, nil},
		{"any value", NodeLabelled{Key: "disk"},
			[]runtime.Object{cp(nil), node("k8slab-worker", map[string]string{"disk": "hdd"})}, Pass, nil},
		{"wrong value", NodeLabelled{Key: "disk", Value: "ssd"},
			[]runtime.Object{cp(nil), node("k8slab-worker", map[string]string{"disk": "hdd"})},
			Fail, []string{"no worker node has the label disk=ssd", "worker node k8slab-worker has disk=hdd instead", "--overwrite"}},
		{"only on the control plane", NodeLabelled{Key: "disk", Value: "ssd"},
			[]runtime.Object{cp(ssd), node("k8slab-worker", nil)},
			Fail, []string{"no worker node has the label disk=ssd; only the control-plane node k8slab-control-plane has it", "kubectl label node k8slab-worker disk=ssd"}},
		{"on both with only", NodeLabelled{Key: "disk", Value: "ssd", Only: true},
			[]runtime.Object{cp(ssd), node("k8slab-worker", ssd)},
			Fail, []string{"the control-plane node k8slab-control-plane also has disk=ssd; label only worker nodes", "disk-"}},
		{"on both without only", NodeLabelled{Key: "disk", Value: "ssd"},
			[]runtime.Object{cp(ssd), node("k8slab-worker", ssd)}, Pass, nil},
		{"legacy master label", NodeLabelled{Key: "disk", Value: "ssd", Only: true},
			[]runtime.Object{node("old-master", map[string]string{kube.LegacyMasterRoleLabel: "", "disk": "ssd"}), node("k8slab-worker", ssd)},
			Fail, []string{"control-plane node old-master also has"}},
		{"nowhere", NodeLabelled{Key: "disk", Value: "ssd"},
			[]runtime.Object{cp(nil), node("k8slab-worker", nil)},
			Fail, []string{"no worker node has the label disk=ssd", "kubectl label node k8slab-worker disk=ssd"}},
		{"control-plane role", NodeLabelled{Key: "disk", Value: "ssd", Role: "control-plane", Only: true},
			[]runtime.Object{cp(ssd), node("k8slab-worker", nil)}, Pass, nil},
		{"any role", NodeLabelled{Key: "disk", Role: "any", Only: true},
			[]runtime.Object{cp(ssd), node("k8slab-worker", nil)}, Pass, nil},
		{"single-node cluster", NodeLabelled{Key: "disk", Value: "ssd"},
			[]runtime.Object{cp(nil)}, Fail, []string{"no worker nodes"}},
		{"bad role", NodeLabelled{Key: "disk", Role: "workers"}, nil, Error, []string{"worker, control-plane or any"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nodeLabelled(context.Background(), snapshotOf(t, tt.nodes...), tt.spec)
			expect(t, got, tt.status, tt.words...)
		})
	}
}

// A learner who is not done is told what to do; k8slab not being able to
// look must never read as "not done".
func TestPredicatesReportAPIErrors(t *testing.T) {
	ctx := context.Background()
	predicates := []struct {
		name  string
		reads []string
		check func(clustercache.Snapshot) Outcome
	}{
		{"rolloutComplete", []string{"deployments"}, func(s clustercache.Snapshot) Outcome {
			return rolloutComplete(ctx, s, testNS, labfile.WorkloadRef{Deployment: "web"})
		}},
		{"rolledBack", []string{"deployments", "replicasets"}, func(s clustercache.Snapshot) Outcome {
			return rolledBack(ctx, s, testNS, labfile.WorkloadRef{Deployment: "web"})
		}},
		{"serviceEndpoints", []string{"services", "deployments", "pods", "endpointslices"}, func(s clustercache.Snapshot) Outcome {
			return serviceEndpoints(ctx, s, testNS, ServiceEndpoints{Service: "web", Deployment: "web"})
		}},
		{"appliedBy", []string{"deployments"}, func(s clustercache.Snapshot) Outcome {
			return appliedBy(ctx, s, testNS, labfile.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"})
		}},
		{"podReplaced", []string{"deployments", "replicasets", "pods", "events"}, func(s clustercache.Snapshot) Outcome {
			return podReplaced(ctx, s, testNS, labfile.WorkloadRef{Deployment: "web"})
		}},
		{"nodeLabelled", []string{"nodes"}, func(s clustercache.Snapshot) Outcome {
			return nodeLabelled(ctx, s, NodeLabelled{Key: "disk"})
		}},
		{"servedThroughRollout", []string{"deployments", "services", "replicasets", "events", "pods"}, func(s clustercache.Snapshot) Outcome {
			return servedThroughRollout(ctx, s, testNS, ServedThroughRollout{Deployment: "web", Service: "web"})
		}},
		{"startedAfter", []string{"deployments", "configmaps", "replicasets", "pods"}, func(s clustercache.Snapshot) Outcome {
			return startedAfter(ctx, s, testNS, StartedAfter{Deployment: "web", ConfigMap: "app-settings"})
		}},
		{"podsPlaced", []string{"deployments", "replicasets", "pods", "nodes"}, func(s clustercache.Snapshot) Outcome {
			return podsPlaced(ctx, s, testNS, PodsPlaced{Deployment: "web", NodeLabel: "disk=ssd"})
		}},
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	errs := []struct {
		name   string
		err    func(resource string) error
		status Status
	}{
		{"forbidden", func(r string) error {
			return apierrors.NewForbidden(schema.GroupResource{Resource: r}, "", fmt.Errorf("RBAC says no"))
		}, Forbidden},
		{"connection refused", func(string) error { return refused }, Unreachable},
	}
	d := deployment("web", 1)
	rs := replicaSet(d, "abc", 1, "nginx:1.27")
	objs := []runtime.Object{d, rs, pod("web-abc-1", app("web"), ownedByRS(rs)), service("web", map[string]string{"app": "web"}),
		endpointSlice("web", endpoint{pod: "web-abc-1"}), node("k8slab-worker", nil), configMap("app-settings", 0),
		// An earlier revision, and the record of its going, so that
		// servedThroughRollout reads as far as the pods.
		replicaSet(d, "old", 0, "nginx:1.26", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(0)) }),
		scaled(d, 5, 100, "Scaled down replica set web-old from 1 to 0")}
	// Every resource a predicate reads fails in turn, so an error met
	// after the first list is mapped too.
	for _, p := range predicates {
		for _, res := range p.reads {
			for _, e := range errs {
				c := fakeClient(t, objs...)
				c.PrependReactor("list", res, func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, e.err(res)
				})
				got := p.check(clustercache.NewSnapshot(c, nil))
				if got.Status != e.status {
					t.Errorf("%s with %s %s: %s %q, want %s", p.name, res, e.name, got.Status, got.Messages, e.status)
				}
				if e.status == Forbidden && !strings.Contains(strings.Join(got.Messages, " "), "not allowed to read "+res) {
					t.Errorf("%s with %s %s: messages %q do not say what could not be read", p.name, res, e.name, got.Messages)
				}
			}
		}
	}
}

// Objects of surprising shapes (a hand-edited fixture, a future field type)
// must not take an evaluation down.
func TestPredicatesSurviveOddObjects(t *testing.T) {
	odd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": testNS, "managedFields": "not a list"},
		"spec":     map[string]any{"replicas": "three", "selector": int64(7)},
		"status":   []any{int64(1), int64(2)},
	}}
	c := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, odd)
	snap := clustercache.NewSnapshot(c, nil)
	ctx := context.Background()
	for _, got := range []Outcome{
		rolloutComplete(ctx, snap, testNS, labfile.WorkloadRef{Deployment: "web"}),
		rolledBack(ctx, snap, testNS, labfile.WorkloadRef{Deployment: "web"}),
		podReplaced(ctx, snap, testNS, labfile.WorkloadRef{Deployment: "web"}),
		serviceEndpoints(ctx, snap, testNS, ServiceEndpoints{Service: "web", Deployment: "web"}),
		appliedBy(ctx, snap, testNS, labfile.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}),
		servedThroughRollout(ctx, snap, testNS, ServedThroughRollout{Deployment: "web", Service: "web"}),
		startedAfter(ctx, snap, testNS, StartedAfter{Deployment: "web", ConfigMap: "app-settings"}),
		podsPlaced(ctx, snap, testNS, PodsPlaced{Deployment: "web", NodeLabel: "disk=ssd"}),
	} {
		if got.Status == Pass || len(got.Messages) == 0 {
			t.Errorf("odd deployment: %s %q", got.Status, got.Messages)
		}
	}
}

// Two checks of a task that both find the same thing missing say it once.
func TestTaskProblemsSayEachMessageOnce(t *testing.T) {
	r := TaskResult{Checks: []CheckResult{
		{Name: "a", Status: Missing, Messages: []string{"pod notes not found"}},
		{Name: "b", Status: Pass},
		{Name: "c", Status: Missing, Messages: []string{"pod notes not found", "claim data not found"}},
		{Name: "d", Status: Error},
	}}
	got := strings.Join(r.Problems(), " | ")
	if want := "pod notes not found | claim data not found | d: error"; got != want {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

// Every kind names a missing object in the same words as an object check,
// so that a task whose checks all miss it says so once (a fresh capstone
// task listed each missing object twice, in two wordings).
func TestMissingObjectSaidInOneWording(t *testing.T) {
	snap := clustercache.NewSnapshot(fakeClient(t), nil)
	ctx := context.Background()
	deploy := labfile.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	svc := labfile.Resource{APIVersion: "v1", Kind: "Service", Name: "web"}
	_, _, byObject := selectObjects(ctx, snap, testNS, deploy)
	_, _, svcByObject := selectObjects(ctx, snap, testNS, svc)
	if byObject == nil || svcByObject == nil {
		t.Fatal("an object check found objects in an empty cluster")
	}
	wantDeploy, wantSvc := byObject.Messages[0], svcByObject.Messages[0]
	for name, got := range map[string]Outcome{
		"rolloutComplete":  rolloutComplete(ctx, snap, testNS, labfile.WorkloadRef{Deployment: "web"}),
		"appliedBy":        appliedBy(ctx, snap, testNS, deploy),
		"startedAfter":     startedAfter(ctx, snap, testNS, StartedAfter{Deployment: "web", ConfigMap: "app-settings"}),
		"serviceEndpoints": serviceEndpoints(ctx, snap, testNS, ServiceEndpoints{Service: "web", Deployment: "web"}),
	} {
		if got.Status != Missing || len(got.Messages) == 0 {
			t.Errorf("%s: %s %q, want missing", name, got.Status, got.Messages)
			continue
		}
		if m := got.Messages[0]; m != wantDeploy && m != wantSvc {
			t.Errorf("%s says %q; an object check says %q or %q", name, m, wantDeploy, wantSvc)
		}
	}
}

// A rollout whose new pod cannot pull its image says so as soon as the
// pod's status does, and not as "still in progress": waiting does not
// fix a wrong tag (#22).
func TestRolloutCompleteSaysTheImageCannotBePulled(t *testing.T) {
	d := deployment("web", 3, func(d *appsv1.Deployment) {
		d.Spec.Template = template("web", "nginx:1.277")
		d.Status.UpdatedReplicas, d.Status.Replicas, d.Status.AvailableReplicas = 1, 4, 3
	})
	old := replicaSet(d, "aaa", 1, "nginx:1.27")
	cur := replicaSet(d, "bbb", 2, "nginx:1.277")
	pulling := func(reason string) *corev1.Pod {
		p := pod("web-bbb-1", app("web"), ownedByRS(cur), notReady)
		p.Spec.Containers = []corev1.Container{{Name: "web", Image: "nginx:1.277"}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", Image: "nginx:1.277",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}}
		return p
	}
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff"} {
		got := rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, pulling(reason)), testNS, labfile.WorkloadRef{Deployment: "web"})
		expect(t, got, Fail, "new pod web-bbb-1 cannot pull its image ("+reason+")", "however long you wait")
		if got.Settling {
			t.Errorf("%s: a pull failure is settling; waiting does not fix it", reason)
		}
	}
	unschedulable := pod("web-bbb-1", app("web"), ownedByRS(cur), notReady)
	unschedulable.Status.Conditions = append(unschedulable.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled,
		Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 Insufficient cpu."})
	got := rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, unschedulable), testNS, labfile.WorkloadRef{Deployment: "web"})
	expect(t, got, Fail, "new pod web-bbb-1 cannot be scheduled", "however long you wait")
	if got.Settling || strings.Contains(strings.Join(got.Messages, " "), "Insufficient") {
		t.Errorf("an unschedulable pod: settling %v, %q; want not settling, and the cause left for the learner to find", got.Settling, got.Messages)
	}
	// Inside a workshop's LimitRange the pod asking for 64 CPUs is never
	// made: the ReplicaSet controller says so on the ReplicaSet.
	refused := cur.DeepCopy()
	refused.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		Reason: "FailedCreate", Message: `pods "web-bbb-x" is forbidden: [maximum cpu usage per Container is 1, but limit is 64]`}}
	got = rolloutComplete(context.Background(), snapshotOf(t, d, old, refused), testNS, labfile.WorkloadRef{Deployment: "web"})
	expect(t, got, Fail, "refuses the pods of its ReplicaSet web-bbb", "rollout cannot finish", "kubectl describe replicaset web-bbb")
	if strings.Contains(strings.Join(got.Messages, " "), "maximum cpu") {
		t.Errorf("a refused ReplicaSet: %q; want the cause left for the learner to find", got.Messages)
	}
	got = rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, pulling("ContainerCreating")), testNS, labfile.WorkloadRef{Deployment: "web"})
	expect(t, got, Fail, "still in progress")
	if !got.Settling {
		t.Error("a pod still being created is the rollout under way: settling")
	}
}

// In a task whose point is finding why a Service reaches nothing, the
// failure points at where to look and does not name the pods' labels
// (#22 item 11).
func TestServiceEndpointsInvestigationKeepsTheAnswer(t *testing.T) {
	d := deployment("web", 2)
	objs := []runtime.Object{d, service("web", map[string]string{"app": "web-server"}),
		pod("web-abc-1", app("web"), ip("10.244.1.5"))}
	tell := serviceEndpoints(context.Background(), snapshotOf(t, objs...), testNS, ServiceEndpoints{Service: "web", Deployment: "web"})
	expect(t, tell, Fail, "which matches no pods; the deployment's pods are labelled app=web")
	look := serviceEndpoints(context.Background(), snapshotOf(t, objs...), testNS, ServiceEndpoints{Service: "web", Deployment: "web", Investigate: true})
	expect(t, look, Fail, "selects app=web-server, which matches no pods", "kubectl get pods --show-labels")
	if m := strings.Join(look.Messages, " "); strings.Contains(m, "labelled app=web") {
		t.Errorf("an investigation's message names the answer: %q", m)
	}
}

// One fact, one line: the same words in another order, and a bare "not
// found" beside a message that says the object is gone and why, are said
// once (#22 item 16); another object keeps its line.
func TestTaskProblemsSayEachFactOnce(t *testing.T) {
	r := TaskResult{Checks: []CheckResult{
		{Name: "a", Status: Fail, Messages: []string{"service shop is gone: deleting it is not a fix"}},
		{Name: "b", Status: Missing, Messages: []string{"service shop in namespace lab-x not found", "deployment db in namespace lab-x not found"}},
		{Name: "c", Status: Missing, Messages: []string{"deployment db not found in namespace lab-x", "service db not found in namespace lab-x"}},
	}}
	got := strings.Join(r.Problems(), " | ")
	if want := "service shop is gone: deleting it is not a fix | deployment db in namespace lab-x not found | service db not found in namespace lab-x"; got != want {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

// A rollout whose new pod can never become ready says why as soon as the
// kubelet has said it, not "still in progress" (#22 item 10): a readiness
// probe that fails (its Unhealthy event), a container that keeps crashing
// or that the kubelet cannot create.
func TestRolloutCompleteSaysWhyItIsStuck(t *testing.T) {
	d := deployment("web", 2, func(d *appsv1.Deployment) {
		d.Spec.Template = template("web", "nginx:1.27")
		d.Status.UpdatedReplicas, d.Status.Replicas, d.Status.AvailableReplicas = 1, 3, 2
	})
	old := replicaSet(d, "aaa", 2, "nginx:1.26")
	cur := replicaSet(d, "bbb", 1, "nginx:1.27")
	newPod := func(state corev1.ContainerState) *corev1.Pod {
		p := pod("web-bbb-1", app("web"), ownedByRS(cur), notReady)
		p.UID = "uid-web-bbb-1"
		p.Spec.Containers = []corev1.Container{{Name: "web", Image: "nginx:1.27"}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", Image: "nginx:1.27", State: state}}
		return p
	}
	running := newPod(corev1.ContainerState{Running: &corev1.ContainerStateRunning{}})
	ref := labfile.WorkloadRef{Deployment: "web"}
	got := rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, running), testNS, ref)
	expect(t, got, Fail, "still in progress")
	if !got.Settling {
		t.Error("a running pod the kubelet has not found unready yet is the rollout under way: settling")
	}
	unhealthy := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-bbb-1.1", Namespace: testNS},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-bbb-1", UID: "uid-web-bbb-1"}, Reason: "Unhealthy", Type: "Warning",
		Message: `Readiness probe failed: Get "http://10.244.1.5:8080/": dial tcp 10.244.1.5:8080: connect: connection refused`}
	got = rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, running, unhealthy), testNS, ref)
	expect(t, got, Fail, "new pod web-bbb-1 runs but fails its readiness probe", "kubectl describe pod web-bbb-1")
	if got.Settling || strings.Contains(strings.Join(got.Messages, " "), "8080") {
		t.Errorf("a failing readiness probe: settling %v, %q; want not settling, and the probe's port left for the learner to find", got.Settling, got.Messages)
	}
	for reason, words := range map[string]string{
		"CrashLoopBackOff":           "new pod web-bbb-1 keeps crashing (CrashLoopBackOff)",
		"CreateContainerConfigError": "the kubelet cannot create the container of its new pod web-bbb-1 (CreateContainerConfigError)",
	} {
		p := newPod(corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}})
		got := rolloutComplete(context.Background(), snapshotOf(t, d, old, cur, p), testNS, ref)
		expect(t, got, Fail, words, "kubectl describe pod web-bbb-1")
		if got.Settling {
			t.Errorf("%s: settling; waiting does not fix it", reason)
		}
	}
}
