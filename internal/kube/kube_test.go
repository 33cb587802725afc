package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNodeRoleKnowsTheLegacyLabel(t *testing.T) {
	for _, tt := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{ControlPlaneRoleLabel: ""}, "control-plane"},
		{map[string]string{LegacyMasterRoleLabel: ""}, "control-plane"},
		{map[string]string{"node-role.kubernetes.io/worker": ""}, "worker"},
		{nil, "worker"},
	} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: tt.labels}}
		if got := NodeRole(n); got != tt.want {
			t.Errorf("NodeRole(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestPodReadyIgnoresPodsOnTheirWayOut(t *testing.T) {
	ready := corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	now := metav1.NewTime(time.Now())
	for _, tt := range []struct {
		name string
		pod  corev1.Pod
		want bool
	}{
		{"running and ready", corev1.Pod{Status: ready}, true},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: ready}, false},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded, Conditions: ready.Conditions}}, false},
		{"no condition", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, false},
	} {
		if got := PodReady(&tt.pod); got != tt.want {
			t.Errorf("%s: PodReady = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewestReplicaSetByRevisionAndOwner(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "d1"}}
	rs := func(name, rev string, owner metav1.OwnerReference) appsv1.ReplicaSet {
		return appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{RevisionAnnotation: rev},
			OwnerReferences: []metav1.OwnerReference{owner}}}
	}
	mine := metav1.OwnerReference{Kind: "Deployment", Name: "web", UID: "d1"}
	oldOwner := metav1.OwnerReference{Kind: "Deployment", Name: "web", UID: "gone"}
	rss := []appsv1.ReplicaSet{rs("web-1", "1", mine), rs("web-10", "10", mine), rs("web-2", "2", mine), rs("web-old", "99", oldOwner)}
	if got := NewestReplicaSet(d, rss); got == nil || got.Name != "web-10" {
		t.Errorf("NewestReplicaSet = %v, want web-10 (revision 10 beats 2 numerically; a deleted deployment's ReplicaSet is not ours)", got)
	}
}

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	for _, tt := range []struct {
		err  error
		want Failure
	}{
		{apierrors.NewForbidden(gr, "x", errors.New("no")), Forbidden},
		{apierrors.NewUnauthorized("bad token"), Unauthorized},
		{apierrors.NewNotFound(gr, "x"), NotFound},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), Timeout},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, Unreachable},
		{errors.New(`Get "https://127.0.0.1:1/api": dial tcp 127.0.0.1:1: connect: connection refused`), Unreachable},
		{errors.New("something else"), Other},
	} {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNodeSettledWaitsForTheLifecycleTaints(t *testing.T) {
	ready := corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
	for _, tc := range []struct {
		name   string
		node   corev1.Node
		settle bool
	}{
		{"not ready", corev1.Node{}, false},
		{"ready, untainted", corev1.Node{Status: ready}, true},
		{"ready, still tainted not-ready", corev1.Node{Status: ready, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}}}, false},
		{"ready, tainted unreachable", corev1.Node{Status: ready, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}}}, false},
		{"ready, control plane's own taint", corev1.Node{Status: ready, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}}}, true},
	} {
		if got := NodeSettled(&tc.node); got != tc.settle {
			t.Errorf("%s: NodeSettled = %v, want %v", tc.name, got, tc.settle)
		}
	}
}
