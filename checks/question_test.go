package checks

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/k8slab/k8slab/labfile"
)

func questionLab(t *testing.T, kind, answer string) *labfile.Lab {
	t.Helper()
	lab, ps := labfile.ParseLab([]byte(`apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: q
title: Q
tasks:
  - id: q
    title: Q
    goal: Answer.
    hints: [look]
    question:
      prompt: What?
      resource: {apiVersion: v1, kind: ` + kind + `}
      answer: "` + answer + `"
`))
	if ps != nil {
		t.Fatal(ps)
	}
	return lab
}

// A question may accept the cluster's own words besides the short answer:
// the scheduler says "Insufficient cpu" where the question asks which
// resource (#22).
func TestQuestionAcceptsEveryRightForm(t *testing.T) {
	lab := questionLab(t, "Node", "['cpu', 'Insufficient cpu']")
	q := &lab.Tasks[0]
	snap := snapshotOf(t)
	for given, want := range map[string]Status{"cpu": Pass, "Insufficient cpu": Pass, "insufficient CPU.": Pass, "memory": Fail} {
		if got := evalQuestion(context.Background(), snap, testNS, q, given); got.Status != want {
			t.Errorf("answer %q: %s %q, want %s", given, got.Status, got.Messages, want)
		}
	}
	e := NewEngine(fakeClient(t))
	if got, err := e.Expected(context.Background(), lab, testNS, q); err != nil || got != "cpu" {
		t.Errorf("Expected = %q, %v; want the first form, cpu", got, err)
	}
}

// A pod's IP given for a Service's gets a hint at the mix-up, not only
// "look again".
func TestQuestionNamesAPodIPGivenForAService(t *testing.T) {
	lab := questionLab(t, "Service", "objects[0].spec.clusterIP")
	q := &lab.Tasks[0]
	svc := service("web", map[string]string{"app": "web"}, func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.42" })
	snap := snapshotOf(t, svc)
	got := evalQuestion(context.Background(), snap, testNS, q, "10.244.1.7")
	if got.Status != Fail || !strings.Contains(strings.Join(got.Messages, " "), "CLUSTER-IP column") {
		t.Errorf("a pod IP: %s %q; want a hint at the cluster IP", got.Status, got.Messages)
	}
	got = evalQuestion(context.Background(), snap, testNS, q, "web")
	if got.Status != Fail || !strings.Contains(strings.Join(got.Messages, " "), "look again") {
		t.Errorf("a name: %s %q; want look again", got.Status, got.Messages)
	}
	if got = evalQuestion(context.Background(), snap, testNS, q, "10.96.0.42"); got.Status != Pass {
		t.Errorf("the cluster IP: %s %q", got.Status, got.Messages)
	}
}
