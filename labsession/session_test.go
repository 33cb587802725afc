package labsession

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

const testLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: web
title: Web
tasks:
  - id: serve
    title: Serve
    goal: Expose web.
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - name: web is exposed
        serviceEndpoints: {service: web, deployment: web}
`

func fakeService(t *testing.T, objs ...runtime.Object) (*Service, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = appsv1.AddToScheme(scheme)
	listKinds := map[schema.GroupVersionResource]string{
		kube.PodsGVR: "PodList", kube.ServicesGVR: "ServiceList", kube.NodesGVR: "NodeList",
		kube.ReplicaSetsGVR: "ReplicaSetList", kube.DeploymentsGVR: "DeploymentList", kube.EndpointSlicesGVR: "EndpointSliceList",
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, listKinds, objs...)
	s := New(func() clusterctl.Target { return clusterctl.Target{Kubeconfig: "fake"} }, t.TempDir(), Options{})
	s.dial = func(clusterctl.Target) (*connection, error) {
		return &connection{kubeconfig: "fake", client: client, watchClient: client}, nil
	}
	return s, client
}

// The lab's grading and its map read the same namespace: together they
// must list and watch each resource once, not once each.
func TestGradingAndMapShareOneWatchPerResource(t *testing.T) {
	ns := "lab-web"
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "k8slab-worker"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns, Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{NodeName: "k8slab-worker"}}
	s, client := fakeService(t, node, pod)
	lab, ps := labfile.ParseLab([]byte(testLab))
	if ps != nil {
		t.Fatal(ps)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	graded := make(chan checks.LabResult, 8)
	mapped := make(chan clusterview.View, 8)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.Watch(ctx, lab, nil, func(r checks.LabResult) { graded <- r }); err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.WatchMap(ctx, lab, func(v clusterview.View) { mapped <- v }); err != nil {
			t.Errorf("WatchMap: %v", err)
		}
	}()
	for range 2 {
		select {
		case <-graded:
			graded = nil
		case v := <-mapped:
			if len(v.Nodes) != 1 || len(v.Nodes[0].Pods) != 1 {
				t.Errorf("map = %+v, want one node with pod web-1", v)
			}
			mapped = nil
		case <-time.After(10 * time.Second):
			t.Fatal("no result from the grading or the map")
		}
	}
	cancel()
	wg.Wait()

	counts := map[string]int{}
	for _, a := range client.Actions() {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			counts[a.GetVerb()+" "+a.GetResource().Resource+" "+a.GetNamespace()]++
		}
	}
	for _, r := range []string{"pods", "services", "deployments", "endpointslices"} {
		for _, verb := range []string{"list", "watch"} {
			if n := counts[verb+" "+r+" "+ns]; n != 1 {
				t.Errorf("%s %s: %d requests, want 1 shared by grading and map (all: %v)", verb, r, n, counts)
			}
		}
	}
	if s.caches[ns] != nil {
		t.Error("the namespace's cache outlived its last user")
	}
}

// A map the cluster will not let the learner read says so, instead of
// "Reading the cluster…" for ever.
func TestMapReportsAFailedSync(t *testing.T) {
	s, client := fakeService(t)
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, forbidden("nodes")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := s.WatchMap(ctx, &labfile.Lab{Namespace: "lab-web"}, func(clusterview.View) { t.Error("a view without the nodes") })
	if err == nil || ctx.Err() != nil {
		t.Fatalf("WatchMap = %v (ctx %v); want a prompt error naming nodes", err, ctx.Err())
	}
	if got := err.Error(); got != `could not read nodes: nodes is forbidden: User "learner" cannot list resource "nodes"` {
		t.Errorf("error = %q", got)
	}
}

func forbidden(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", fmt.Errorf("User %q cannot list resource %q", "learner", resource))
}
