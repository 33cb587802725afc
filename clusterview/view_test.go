package clusterview

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slab/k8slab/clusterview/clusterviewtest"
)

func TestBuild(t *testing.T) {
	v := Build(clusterviewtest.Rollout(3, 2, 1, 1))
	if len(v.Nodes) != 3 || v.Nodes[0].Role != "control-plane" || len(v.Nodes[0].Pods) != 0 {
		t.Fatalf("nodes = %+v", v.Nodes)
	}
	r := v.Rollouts[0]
	if r.Old != 2 || r.New != 2 || r.NewReady != 1 || r.Revision != "2" || r.Desired != 4 {
		t.Errorf("rollout = %+v", r)
	}
	if got := len(v.Services[0].Endpoints); got != 3 {
		t.Errorf("service endpoints = %d, want the 3 ready pods", got)
	}
	newest := 0
	for _, n := range v.Nodes {
		for _, p := range n.Pods {
			if p.Newest != (p.Revision == "2") {
				t.Errorf("pod %s revision %s newest=%v", p.Name, p.Revision, p.Newest)
			}
			if p.Newest {
				newest++
			}
		}
	}
	if newest != 2 {
		t.Errorf("%d pods marked newest, want 2", newest)
	}
}

// Pods are drawn as what they are: a pod with no node is listed as
// pending with the scheduler's reason, a container waiting on its image
// is a problem, and running containers in a pod that is not ready are a
// failing readiness probe, none of them "starting".
func TestBuildPodStates(t *testing.T) {
	nodes := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}}
	running := corev1.ContainerStatus{Name: "c", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	pods := []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "report"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient cpu."}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pull"}, Spec: corev1.PodSpec{NodeName: "worker"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: corev1.PodSpec{NodeName: "worker"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{running}}},
	}
	v := Build(nodes, pods, nil, nil, nil, nil)
	if len(v.Pending) != 1 || v.Pending[0].Name != "report" || v.Pending[0].Unscheduled != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Errorf("pending = %+v", v.Pending)
	}
	got := map[string]Pod{}
	for _, p := range v.Nodes[0].Pods {
		got[p.Name] = p
	}
	if got["pull"].Problem != "ImagePullBackOff" || got["pull"].NotReady {
		t.Errorf("pull = %+v", got["pull"])
	}
	if !got["probe"].NotReady || got["probe"].Problem != "" {
		t.Errorf("probe = %+v", got["probe"])
	}
}
