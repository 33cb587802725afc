package checks

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stesting "k8s.io/client-go/testing"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

// cacheLab is the check list of a lab grading an appliedBy (which reads a
// deployment's managedFields) and an object check on pods (which does not).
const cacheLab = `      - name: applied
        appliedBy: {apiVersion: apps/v1, kind: Deployment, name: web}
      - name: pods run
        object:
          apiVersion: v1
          kind: Pod
          assert:
            - {expr: "objects.size() > 0 && objects.all(p, p.status.phase == 'Running')", message: "wait"}
`

// labWithChecks parses a one-task lab whose check list is checksYAML,
// written at the indentation of a task's checks.
func labWithChecks(t *testing.T, checksYAML string) *labfile.Lab {
	t.Helper()
	lab, ps := labfile.ParseLab([]byte(oneTaskLab + checksYAML))
	if ps != nil {
		t.Fatal(ps)
	}
	return lab
}

// oneTaskLab is a lab with one task, up to its check list.
const oneTaskLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: s
title: S
tasks:
  - id: t
    title: T
    goal: G
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
`

// written is a managedFields entry for fixtures.
var written = []metav1.ManagedFieldsEntry{{Manager: clientSideApplyManager, Operation: metav1.ManagedFieldsOperationUpdate,
	Time: &metav1.Time{Time: t0}, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)}}

func hasManagedFields(items []unstructured.Unstructured) bool {
	return slices.ContainsFunc(items, func(u unstructured.Unstructured) bool { return u.GetManagedFields() != nil })
}

// waitForCache syncs keys or fails the test.
func waitForCache(t *testing.T, c *clustercache.Cache, keys []clustercache.Key) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitForSync(ctx, keys); err != nil {
		t.Fatal(err)
	}
}

// A lab's cache drops managedFields from what no check of the lab reads
// them on (here pods), and keeps them where one does: appliedBy still
// judges the deployment by who wrote it.
func TestCacheKeepsManagedFieldsOnlyWhereChecksReadThem(t *testing.T) {
	lab := labWithChecks(t, cacheLab)
	d := deployment("web", 3, func(d *appsv1.Deployment) { d.ManagedFields = written })
	p := pod("web-1", map[string]string{"app": "web"}, func(p *corev1.Pod) { p.ManagedFields = written })
	c := clustercache.NewCache(fakeClient(t, d, p), nil)
	defer c.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan LabResult, 1)
	go func() {
		_ = (&Engine{now: time.Now}).Watch(ctx, lab, Options{Namespace: testNS, Cache: c}, func(r LabResult) {
			select {
			case results <- r:
			default:
			}
		})
	}()
	var res LabResult
	select {
	case res = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("no grading result")
	}
	if tr := res.Tasks[0]; tr.Status != Pass {
		t.Errorf("appliedBy through the cache: %+v; want a pass (web was written by kubectl apply)", tr)
	}
	pods, err := c.List(ctx, kube.PodsGVR, testNS)
	if err != nil || len(pods) != 1 {
		t.Fatalf("pods: %v, %v", pods, err)
	}
	if hasManagedFields(pods) {
		t.Error("the cache kept the pods' managedFields, which no check of the lab reads")
	}
	if got := pods[0].GetName(); got != "web-1" {
		t.Errorf("pod name %q: dropping managedFields must leave the rest", got)
	}
	deps, err := c.List(ctx, kube.DeploymentsGVR, testNS)
	if err != nil || !hasManagedFields(deps) {
		t.Errorf("the cache dropped the deployment's managedFields, which appliedBy reads (%v)", err)
	}
}

// The map may watch a resource before grading asks for its managedFields;
// the cache then reads it again, with them.
func TestKeepManagedFieldsRereadsAWatchedKey(t *testing.T) {
	d := deployment("web", 3, func(d *appsv1.Deployment) { d.ManagedFields = written })
	client := fakeClient(t, d)
	c := clustercache.NewCache(client, nil)
	defer c.Close()
	key := clustercache.Key{Resource: kube.DeploymentsGVR, Namespace: testNS}
	stop, err := c.Watch([]clustercache.Key{key}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	waitForCache(t, c, []clustercache.Key{key})
	if deps, _ := c.List(context.Background(), kube.DeploymentsGVR, testNS); len(deps) != 1 || hasManagedFields(deps) {
		t.Fatalf("before: %d deployments, managedFields %v; want 1 without", len(deps), hasManagedFields(deps))
	}
	if err := c.KeepManagedFields([]clustercache.Key{key}); err != nil {
		t.Fatal(err)
	}
	waitForCache(t, c, []clustercache.Key{key})
	if deps, _ := c.List(context.Background(), kube.DeploymentsGVR, testNS); len(deps) != 1 || !hasManagedFields(deps) {
		t.Errorf("after: %d deployments, managedFields %v; want 1 with", len(deps), hasManagedFields(deps))
	}
}

// What a lab's checks say they read decides what keeps managedFields.
func TestManagedFieldsNeeds(t *testing.T) {
	lab := labWithChecks(t, `      - name: replaced
        podReplaced: {deployment: web}
      - name: services
        object:
          apiVersion: v1
          kind: Service
          name: web
          assert:
            - {expr: "has(object.metadata.managedFields)", message: "apply it"}
      - name: configmaps
        object:
          apiVersion: v1
          kind: ConfigMap
          name: web
          assert:
            - {expr: "object.data.x == 'y'", message: "set x"}
`)
	got := managedFieldsNeeds(testNS, selectTasks(lab, nil))
	want := []clustercache.Key{
		{Resource: kube.DeploymentsGVR, Namespace: testNS},
		{Resource: kube.ReplicaSetsGVR, Namespace: testNS},
		{Resource: kube.ServicesGVR, Namespace: testNS},
	}
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%s in %s should keep managedFields; needs are %v", k.Resource.Resource, k.Namespace, got)
		}
	}
	for _, k := range got {
		if k.Resource.Resource == "configmaps" || k.Resource.Resource == "pods" || k.Resource.Resource == "events" {
			t.Errorf("%s keep managedFields, but no check reads them", k.Resource.Resource)
		}
	}
}

// podReplaced reads only the ReplicaSets' events: the cache asks the API
// server for those alone rather than every event about every pod.
func TestPodReplacedListsOnlyReplicaSetEvents(t *testing.T) {
	lab := labWithChecks(t, `      - name: replaced
        podReplaced: {deployment: web}
`)
	keys := needs(testNS, selectTasks(lab, nil))
	client := fakeClient(t)
	c := clustercache.NewCache(client, nil)
	defer c.Close()
	stop, err := c.Watch(keys, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	waitForCache(t, c, keys)
	var selectors []string
	for _, a := range client.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok && a.GetResource().Resource == "events" {
			selectors = append(selectors, l.GetListRestrictions().Fields.String())
		}
	}
	if len(selectors) == 0 || slices.ContainsFunc(selectors, func(s string) bool { return s != "involvedObject.kind=ReplicaSet" }) {
		t.Errorf("event lists used field selectors %q; want only involvedObject.kind=ReplicaSet", selectors)
	}
}
