package workshop

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/k8slab/k8slab/labfile"
)

// graderLab has a task whose check reads a sliver of the events (those
// about ReplicaSets) and one that reads a ConfigMap in kube-system.
const graderLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: g
title: G
tasks:
  - id: replaced
    title: Replace a pod
    goal: Delete a pod of web.
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - name: a pod of web was replaced
        podReplaced: {deployment: web}
  - id: system
    title: Read kube-system
    goal: Turn the mode on.
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - name: the mode is on
        object:
          apiVersion: v1
          kind: ConfigMap
          name: settings
          namespace: kube-system
          assert:
            - {expr: "object.data.mode == 'on'", message: "the mode is off"}
`

func object(apiVersion, kind, ns, name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

// fakeClass is one learner's lab namespace in workshop w, on a fake
// cluster that records the field selector of every list of events.
func fakeClass(t *testing.T) (*dynamicfake.FakeDynamicClient, *labfile.Lab, <-chan string) {
	t.Helper()
	lab, ps := labfile.ParseLab([]byte(graderLab))
	if ps != nil {
		t.Fatal(ps)
	}
	ns := object("v1", "Namespace", "", "w-alice-g", map[string]string{WorkshopLabel: "w", LearnerLabel: "alice", LabLabel: "g"})
	lists := map[schema.GroupVersionResource]string{}
	for _, r := range []struct{ group, version, resource, list string }{
		{"", "v1", "namespaces", "NamespaceList"}, {"", "v1", "pods", "PodList"}, {"", "v1", "events", "EventList"},
		{"", "v1", "configmaps", "ConfigMapList"}, {"apps", "v1", "deployments", "DeploymentList"}, {"apps", "v1", "replicasets", "ReplicaSetList"},
	} {
		lists[schema.GroupVersionResource{Group: r.group, Version: r.version, Resource: r.resource}] = r.list
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, ns)
	selectors := make(chan string, 16)
	client.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		selectors <- a.(k8stesting.ListAction).GetListRestrictions().Fields.String()
		return false, nil, nil
	})
	return client, lab, selectors
}

// runGrader runs a grader of the class and hands over its tables.
func runGrader(t *testing.T, client *dynamicfake.FakeDynamicClient, lab *labfile.Lab) <-chan Table {
	t.Helper()
	g := NewGrader(Clients{Dynamic: client, Watch: client}, "w", []*labfile.Lab{lab})
	tables := make(chan Table, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.Run(ctx, 0, func(tb Table) { tables <- tb }); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return tables
}

// The grader lists events with the field selector the check declares, so
// a class's cache holds the ReplicaSet events, not every event of the
// cluster. Before, it keyed informers by resource alone and listed all.
func TestGraderKeepsTheChecksFieldSelectors(t *testing.T) {
	client, lab, selectors := fakeClass(t)
	tables := runGrader(t, client, lab)
	<-tables
	select {
	case got := <-selectors:
		if got != "involvedObject.kind=ReplicaSet" {
			t.Errorf("events listed with field selector %q, want involvedObject.kind=ReplicaSet", got)
		}
	default:
		t.Fatal("the first table came without events being listed")
	}
}

func taskStatus(tb Table, task string) string {
	c, _ := tb.Cell("alice", "g")
	for _, r := range c.Tasks {
		if r.ID == task {
			return string(r.Status)
		}
	}
	return "absent"
}

// A change in kube-system, which no learner's namespace is, regrades the
// cells of the labs whose checks read it there. Before, only the changed
// object's namespace was marked, so such a check never changed its mind.
func TestGraderRegradesOnAChangeOutsideLearnersNamespaces(t *testing.T) {
	client, lab, _ := fakeClass(t)
	tables := runGrader(t, client, lab)
	if got := taskStatus(<-tables, "system"); got == "pass" {
		t.Fatalf("before the ConfigMap exists, task system is %s", got)
	}
	cm := object("v1", "ConfigMap", "kube-system", "settings", nil)
	_ = unstructured.SetNestedStringMap(cm.Object, map[string]string{"mode": "on"}, "data")
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := client.Resource(gvr).Namespace("kube-system").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Only a failure waits for this deadline.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case tb := <-tables:
			if taskStatus(tb, "system") == "pass" {
				return
			}
		case <-deadline:
			t.Fatal("the change in kube-system was never graded")
		}
	}
}

// A learner who has made something in a lab's namespace, though no task
// passes yet, has started: the table and the CSV say so. Before, such a
// learner showed "not started" (and "-" in the table).
func TestGraderShowsStartedForAnyObject(t *testing.T) {
	client, lab, _ := fakeClass(t)
	// What the cluster puts in every namespace is not the learner's.
	rootCA := object("v1", "ConfigMap", "w-alice-g", "kube-root-ca.crt", nil)
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := client.Resource(cmGVR).Namespace("w-alice-g").Create(context.Background(), rootCA, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tables := runGrader(t, client, lab)
	if c, _ := (<-tables).Cell("alice", "g"); c.State != NotStarted {
		t.Fatalf("an empty namespace is %q", c.State)
	}
	wrong := object("v1", "ConfigMap", "w-alice-g", "not-what-was-asked", nil)
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := client.Resource(gvr).Namespace("w-alice-g").Create(context.Background(), wrong, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Only a failure waits for this deadline.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case tb := <-tables:
			c, _ := tb.Cell("alice", "g")
			if c.State != Started {
				continue
			}
			var buf bytes.Buffer
			if err := Export(&buf, tb, "csv"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), ","+Started+",") {
				t.Errorf("the CSV does not say started:\n%s", buf.String())
			}
			return
		case <-deadline:
			t.Fatal("a namespace with an object never showed started")
		}
	}
}
