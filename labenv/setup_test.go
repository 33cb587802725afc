package labenv

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

const pvSetup = `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${LAB_NAMESPACE}-data
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: /tmp/k8slab/${LAB_NAMESPACE}
  claimRef:
    namespace: ${LAB_NAMESPACE}
    name: data
`

func TestSetupObjectsReplacesThePlaceholderEverywhere(t *testing.T) {
	lab := &labfile.Lab{ID: "storage", Setup: pvSetup}
	objs, err := SetupObjects(lab, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	o := objs[0]
	path, _, _ := unstructured.NestedString(o.Object, "spec", "hostPath", "path")
	claimNS, _, _ := unstructured.NestedString(o.Object, "spec", "claimRef", "namespace")
	if o.GetName() != "team-a-data" || path != "/tmp/k8slab/team-a" || claimNS != "team-a" {
		t.Errorf("name %q, path %q, claim namespace %q", o.GetName(), path, claimNS)
	}
	if got := ClusterScopedKinds(lab); len(got) != 1 || got[0] != "v1/PersistentVolume" {
		t.Errorf("cluster-scoped kinds = %v", got)
	}
	if got := ClusterScopedKinds(&labfile.Lab{Setup: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}); got != nil {
		t.Errorf("a namespaced setup has cluster-scoped kinds %v", got)
	}
}

// Mistakes of a lab are made at once, each in its namespace, only where
// two namespaces' setups never make the same cluster-wide object.
func TestClusterScopedSetupShared(t *testing.T) {
	fixed := strings.Replace(pvSetup, "name: ${LAB_NAMESPACE}-data", "name: shared-data", 1)
	if fixed == pvSetup {
		t.Fatal("pvSetup changed; update this test")
	}
	for _, c := range []struct {
		setup string
		want  bool
	}{
		{pvSetup, false},
		{fixed, true},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", false},
		{"", false},
	} {
		if got := ClusterScopedSetupShared(&labfile.Lab{ID: "l", Setup: c.setup}); got != c.want {
			t.Errorf("ClusterScopedSetupShared = %v, want %v, for setup:\n%s", got, c.want, c.setup)
		}
	}
}

var pvGVR = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}

func pvClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{pvGVR: "PersistentVolumeList", kube.NamespacesGVR: "NamespaceList"}, objs...)
}

func pv(name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("PersistentVolume")
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

func TestApplySetupLabelsWhatItCreates(t *testing.T) {
	client := pvClient()
	if err := ApplySetup(context.Background(), client, &labfile.Lab{ID: "storage", Setup: pvSetup}, "team-a"); err != nil {
		t.Fatal(err)
	}
	got, err := client.Resource(pvGVR).Get(context.Background(), "team-a-data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ownedBy(got, "team-a") || ownedBy(got, "team-b") {
		t.Errorf("labels %v", got.GetLabels())
	}
}

func TestApplySetupRefusesAnObjectItDidNotMake(t *testing.T) {
	for name, labels := range map[string]map[string]string{
		"unlabelled":             nil,
		"made for another space": {ManagedByLabel: ManagedByValue, LabNamespaceLabel: "team-b"},
		"not managed by k8slab":  {LabNamespaceLabel: "team-a"},
	} {
		t.Run(name, func(t *testing.T) {
			client := pvClient(pv("team-a-data", labels))
			err := ApplySetup(context.Background(), client, &labfile.Lab{ID: "storage", Setup: pvSetup}, "team-a")
			if err == nil || !strings.Contains(err.Error(), "PersistentVolume team-a-data exists but was not created by k8slab for namespace team-a") {
				t.Fatalf("err = %v", err)
			}
			got, _ := client.Resource(pvGVR).Get(context.Background(), "team-a-data", metav1.GetOptions{})
			if len(got.GetLabels()) != len(labels) {
				t.Errorf("the foreign object was changed: %v", got.GetLabels())
			}
		})
	}
}

func TestApplySetupRefusesANameWithoutTheNamespace(t *testing.T) {
	// A lab parsed lazily is not linted at load; the rule still holds.
	lab := &labfile.Lab{ID: "storage", Setup: strings.ReplaceAll(pvSetup, "${LAB_NAMESPACE}-data", "shared-data")}
	err := ApplySetup(context.Background(), pvClient(), lab, "team-a")
	if err == nil || !strings.Contains(err.Error(), "its name must contain ${LAB_NAMESPACE}") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteClusterObjectsDeletesOnlyThoseMadeForTheNamespace(t *testing.T) {
	mine := map[string]string{ManagedByLabel: ManagedByValue, LabNamespaceLabel: "team-a"}
	client := pvClient(
		pv("team-a-data", mine),
		pv("team-a-logs", mine),
		pv("team-b-data", map[string]string{ManagedByLabel: ManagedByValue, LabNamespaceLabel: "team-b"}),
		pv("team-a-by-hand", map[string]string{LabNamespaceLabel: "team-a"}),
		pv("plain", nil),
	)
	if n, err := DeleteClusterObjects(context.Background(), client, []string{"v1/PersistentVolume"}, []string{"team-a"}, true); err != nil || n != 2 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	list, err := client.Resource(pvGVR).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, o := range list.Items {
		left = append(left, o.GetName())
	}
	if strings.Join(left, " ") != "plain team-a-by-hand team-b-data" {
		t.Errorf("left: %v", left)
	}
}

// A start refused for a foreign volume makes nothing, not even the
// namespace, so there is nothing to clean up after choosing another.
func TestStartLabRefusedMakesNoNamespace(t *testing.T) {
	client := pvClient(pv("team-a-data", nil))
	err := StartLab(context.Background(), client, &labfile.Lab{ID: "storage", Setup: pvSetup}, "team-a")
	if err == nil || !strings.Contains(err.Error(), "PersistentVolume team-a-data exists but was not created by k8slab") {
		t.Fatalf("err = %v", err)
	}
	if _, err := client.Resource(kube.NamespacesGVR).Get(context.Background(), "team-a", metav1.GetOptions{}); err == nil {
		t.Error("the refused start left namespace team-a behind")
	}
}

func TestApplySetupPinsTheVolumeToOneTakingWorker(t *testing.T) {
	mk := func(name string, labels map[string]string, mut func(*corev1.Node)) *unstructured.Unstructured {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		if mut != nil {
			mut(n)
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(n)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetAPIVersion("v1")
		u.SetKind("Node")
		return u
	}
	tainted := func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	}
	cp := mk("a-control-plane", map[string]string{"node-role.kubernetes.io/control-plane": "", corev1.LabelHostname: "a-control-plane"}, nil)
	setup := pvSetup + "  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n        - matchExpressions:\n            - {key: kubernetes.io/hostname, operator: In, values: [\"${LAB_NODE}\"]}\n"
	for _, tt := range []struct {
		name  string
		nodes []runtime.Object
		want  string
	}{
		{"the first worker by name, by its hostname label", []runtime.Object{cp,
			mk("k8slab-worker2", map[string]string{corev1.LabelHostname: "k8slab-worker2"}, nil),
			mk("k8slab-worker", map[string]string{corev1.LabelHostname: "host-1"}, nil)}, "host-1"},
		{"not a tainted or cordoned worker", []runtime.Object{cp,
			mk("k8slab-worker", nil, tainted),
			mk("k8slab-worker2", nil, func(n *corev1.Node) { n.Spec.Unschedulable = true }),
			mk("k8slab-worker3", nil, nil)}, "k8slab-worker3"},
		{"a lone control plane that takes pods", []runtime.Object{
			mk("solo", map[string]string{"node-role.kubernetes.io/control-plane": ""}, nil)}, "solo"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{pvGVR: "PersistentVolumeList", kube.NamespacesGVR: "NamespaceList", kube.NodesGVR: "NodeList"}, tt.nodes...)
			if err := ApplySetup(context.Background(), client, &labfile.Lab{ID: "storage", Setup: setup}, "team-a"); err != nil {
				t.Fatal(err)
			}
			got, err := client.Resource(pvGVR).Get(context.Background(), "team-a-data", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			terms, _, _ := unstructured.NestedSlice(got.Object, "spec", "nodeAffinity", "required", "nodeSelectorTerms")
			if len(terms) != 1 || !strings.Contains(fmt.Sprint(terms), "values:["+tt.want+"]") {
				t.Errorf("node affinity %v, want the node %s", terms, tt.want)
			}
		})
	}
}
