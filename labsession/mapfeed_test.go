package labsession

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/internal/kube"
)

// The map keeps only the parts of a pod it draws: pods cut down by mapPod
// must give the very view whole pods give, for every state a pod is
// drawn in (ready, starting, terminating, finished, of the newest
// ReplicaSet or an older one, unscheduled).
func TestMapPodKeepsWhatTheMapDraws(t *testing.T) {
	now := metav1.Now()
	ready := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	pod := func(name, rs, node string, phase corev1.PodPhase, conds []corev1.PodCondition, deleted *metav1.Time) corev1.Pod {
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: "lab", UID: "uid-" + types.UID(name), DeletionTimestamp: deleted,
				Labels:          map[string]string{"app": "web", "pod-template-hash": rs},
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs, UID: "uid-" + types.UID(rs)}},
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate}},
			},
			Spec: corev1.PodSpec{
				NodeName:   node,
				Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}},
				Volumes:    []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			},
			Status: corev1.PodStatus{Phase: phase, Conditions: conds, PodIP: "10.0.0.1",
				ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Ready: true}}},
		}
	}
	pods := []corev1.Pod{
		pod("web-new-a", "web-new", "worker", corev1.PodRunning, ready, nil),
		pod("web-new-b", "web-new", "worker2", corev1.PodPending, nil, nil),
		pod("web-old-a", "web-old", "worker", corev1.PodRunning, ready, &now),
		pod("web-old-b", "web-old", "worker2", corev1.PodSucceeded, ready, nil),
		pod("web-new-c", "web-new", "", corev1.PodPending, nil, nil),
	}
	// A container waiting on its image is drawn as failing, not starting.
	pods[1].Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "nginx", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}
	dep := appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "uid-web"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	rs := func(name, revision string) appsv1.ReplicaSet {
		return appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
			Name: name, UID: "uid-" + types.UID(name), Annotations: map[string]string{kube.RevisionAnnotation: revision},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: "uid-web"}},
		}}
	}
	rss := []appsv1.ReplicaSet{rs("web-old", "1"), rs("web-new", "2")}
	nodes := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}, {ObjectMeta: metav1.ObjectMeta{Name: "worker2"}}}

	var slim []corev1.Pod
	for i := range pods {
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pods[i])
		if err != nil {
			t.Fatal(err)
		}
		var p corev1.Pod
		if err := mapPod(&unstructured.Unstructured{Object: obj}, &p); err != nil {
			t.Fatal(err)
		}
		if p.Spec.Containers != nil || p.ManagedFields != nil || p.Status.PodIP != "" {
			t.Errorf("mapPod kept more of %s than the map draws: %+v", pods[i].Name, p)
		}
		slim = append(slim, p)
	}
	want := clusterview.Build(nodes, pods, rss, []appsv1.Deployment{dep}, nil, nil)
	got := clusterview.Build(nodes, slim, rss, []appsv1.Deployment{dep}, nil, nil)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the map from cut-down pods differs:\n got %+v\nwant %+v", got, want)
	}
	if len(want.Rollouts) != 1 || want.Rollouts[0].New != 3 || want.Rollouts[0].NewReady != 1 || want.Rollouts[0].Old != 1 {
		t.Errorf("the fixture should count 3 new pods (1 ready) and 1 old one: %+v", want.Rollouts)
	}
}
