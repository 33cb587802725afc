package workshop

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/k8slab/k8slab/labfile"
)

// capacityLab sets up three web pods without requests (the LimitRange's
// 50m/64Mi each), one db pod asking for 200m/256Mi, and a pod that asks
// for more than any node has, which the lab means to stay Pending.
const capacityLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: cap
title: Cap
setup: |
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    replicas: 3
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec: {containers: [{name: web, image: nginx:1.27}]}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: db}
  spec:
    containers: [{name: db, image: nginx:1.27, resources: {requests: {cpu: 200m, memory: 256Mi}}}]
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: huge}
  spec:
    selector: {matchLabels: {app: huge}}
    template:
      metadata: {labels: {app: huge}}
      spec: {containers: [{name: huge, image: nginx:1.27, resources: {requests: {cpu: "100"}}}]}
tasks:
  - id: t
    title: T
    goal: Do it.
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - name: web exists
        object:
          apiVersion: apps/v1
          kind: Deployment
          name: web
          assert:
            - {expr: "object.spec.replicas == 3", message: "web has not 3 replicas"}
`

func capLab(t *testing.T) *labfile.Lab {
	t.Helper()
	lab, ps := labfile.ParseLab([]byte(capacityLab))
	if ps != nil {
		t.Fatal(ps)
	}
	return lab
}

var node4cpu = Resources{CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi"), Pods: 110}

func TestClassNeedCountsSetupsAndHeadroom(t *testing.T) {
	need, err := ClassNeed([]*labfile.Lab{capLab(t)}, 20, node4cpu)
	if err != nil {
		t.Fatal(err)
	}
	// Setup: 3 × 50m + 200m = 350m, 3 × 64Mi + 256Mi = 448Mi, 4 pods;
	// headroom: 2 pods at 50m/64Mi.
	if got := need.PerLearner; got.CPU.MilliValue() != 450 || got.Memory.Value() != 576<<20 || got.Pods != 6 {
		t.Errorf("per learner: %s", got)
	}
	if got := need.Total; got.CPU.MilliValue() != 9000 || got.Pods != 120 {
		t.Errorf("20 learners: %s", got)
	}
	if len(need.Unschedulable) != 1 || !strings.Contains(need.Unschedulable[0], "huge") {
		t.Errorf("the pod meant to stay Pending: %v", need.Unschedulable)
	}
}

func fakeNode(name string, cpu, mem string, pods int64, taint bool) *unstructured.Unstructured {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI)}}}
	if taint {
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	}
	u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(n)
	obj := &unstructured.Unstructured{Object: u}
	obj.SetAPIVersion("v1")
	obj.SetKind("Node")
	return obj
}

func fakePod(ns, name, node, cpu string) *unstructured.Unstructured {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.PodSpec{NodeName: node,
		Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("64Mi")}}}}}}
	u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
	obj := &unstructured.Unstructured{Object: u}
	obj.SetAPIVersion("v1")
	obj.SetKind("Pod")
	return obj
}

// smallCluster is the simulator's default: a tainted control plane and
// two 4-CPU workers, one with a kube-system pod and one with a pod of
// workshop w (which the class's need counts, so it is not subtracted).
func smallCluster() *dynamicfake.FakeDynamicClient {
	lists := map[schema.GroupVersionResource]string{}
	for _, r := range []struct{ resource, list string }{{"nodes", "NodeList"}, {"pods", "PodList"}, {"namespaces", "NamespaceList"}} {
		lists[schema.GroupVersionResource{Version: "v1", Resource: r.resource}] = r.list
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists,
		fakeNode("cp", "4", "8Gi", 110, true), fakeNode("w1", "4", "8Gi", 110, false), fakeNode("w2", "4", "8Gi", 110, false),
		fakePod("kube-system", "dns", "w1", "500m"), fakePod("w-ada-pods", "web", "w2", "1"))
}

func TestClusterCapacityCountsWorkersLessWhatRuns(t *testing.T) {
	client := smallCluster()
	capa, err := ClusterCapacity(context.Background(), Clients{Dynamic: client}, "w")
	if err != nil {
		t.Fatal(err)
	}
	if capa.Nodes != 2 || capa.Free.CPU.MilliValue() != 7500 || capa.Free.Pods != 219 {
		t.Errorf("free: %d nodes, %s", capa.Nodes, capa.Free)
	}
}

// init refuses a class that cannot fit, with the numbers and what to do,
// before it makes anything. Before, it applied every lab's setup for
// every learner and half the pods stayed Pending.
func TestInitRefusesAClassThatDoesNotFitBeforeMakingAnything(t *testing.T) {
	client := smallCluster()
	// 40 learners × 450m = 18 CPUs do not fit in 7.5.
	plan := Plan{Name: "w", Learners: LearnerIDs(40), Labs: []*labfile.Lab{capLab(t)}}
	var progress strings.Builder
	_, err := Init(context.Background(), Clients{Dynamic: client}, plan, InitOptions{OutDir: t.TempDir(), Progress: &progress})
	if err == nil {
		t.Fatal("a class of 18 CPUs on 7.5 free was not refused")
	}
	for _, want := range []string{"too little CPU", "40 learners × 1 labs will request 18 CPU", "7.5 CPU", "--labs", "--nodes 6", "--force", "Nothing was created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	for _, a := range client.Actions() {
		if v := a.GetVerb(); v != "list" && v != "get" && v != "watch" {
			t.Errorf("init wrote before refusing: %s %s", v, a.GetResource().Resource)
		}
	}
	if !strings.Contains(progress.String(), "huge of lab cap") {
		t.Errorf("init does not say which pod it left out as meant to be Pending:\n%s", progress.String())
	}
}
