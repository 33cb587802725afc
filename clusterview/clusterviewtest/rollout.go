// Package clusterviewtest holds the objects of a cluster mid-rollout, shared
// by the tests of the cluster view and of the TUI that draws it.
package clusterviewtest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Rollout models deployment web with old pods at revision 1 and new
// ones at revision 2, spread over two workers; ready new pods back the
// service.
func Rollout(nodes, oldReady, newStarting, newReady int) ([]corev1.Node, []corev1.Pod, []appsv1.ReplicaSet, []appsv1.Deployment, []corev1.Service, []discoveryv1.EndpointSlice) {
	var ns []corev1.Node
	for i := range nodes {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("k8slab-worker%d", i), Labels: map[string]string{}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
		if i == 0 {
			n.Name = "k8slab-control-plane"
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
		}
		ns = append(ns, n)
	}
	replicas := int32(oldReady + newStarting + newReady)
	if replicas < 3 {
		replicas = 3
	}
	dep := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &replicas,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	owner := []metav1.OwnerReference{{Kind: "Deployment", Name: "web"}}
	rss := []appsv1.ReplicaSet{
		{ObjectMeta: metav1.ObjectMeta{Name: "web-aaaaa11111", OwnerReferences: owner, Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "web-bbbbb22222", OwnerReferences: owner, Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}}},
	}
	var pods []corev1.Pod
	var slice discoveryv1.EndpointSlice
	slice.Labels = map[string]string{discoveryv1.LabelServiceName: "web"}
	add := func(rs string, i int, ready bool) {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-p%04d", rs, i), Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs}}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("k8slab-worker%d", 1+i%max(1, nodes-1))}}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{TargetRef: &corev1.ObjectReference{Name: p.Name}})
		}
		pods = append(pods, p)
	}
	for i := range oldReady {
		add("web-aaaaa11111", i, true)
	}
	for i := range newStarting {
		add("web-bbbbb22222", 100+i, false)
	}
	for i := range newReady {
		add("web-bbbbb22222", 200+i, true)
	}
	svc := corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	return ns, pods, rss, []appsv1.Deployment{dep}, []corev1.Service{svc}, []discoveryv1.EndpointSlice{slice}
}
