package workshop

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// examNS is alice's exam namespace of lab g, as StartExam writes it.
func examNS(start time.Time, limit time.Duration, tasks string) *unstructured.Unstructured {
	ns := object("v1", "Namespace", "", ExamNamespace("w", "alice", "g"), map[string]string{WorkshopLabel: "w", LearnerLabel: "alice", LabLabel: "g", ExamLabel: "7"})
	ns.SetAnnotations(map[string]string{ExamTasksAnnotation: tasks, ExamStartAnnotation: start.UTC().Format(time.RFC3339),
		ExamDeadlineAnnotation: start.Add(limit).UTC().Format(time.RFC3339)})
	return ns
}

var (
	namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	configMapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// A learner's exam shows in their row as tasks passed of tasks asked and
// the clock, not as a lab column; a task counts once it has passed, even
// if a later change undoes it, as in 'k8slab exam'. Before, an exam
// namespace was no part of the class table.
func TestGraderShowsExamProgress(t *testing.T) {
	client, lab, _ := fakeClass(t)
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	if _, err := client.Resource(namespacesGVR).Create(context.Background(), examNS(start, time.Hour, "replaced,system"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tables := runGrader(t, client, lab)
	tb := <-tables
	if len(tb.Labs) != 1 || tb.Labs[0] != "g" {
		t.Errorf("lab columns %v: the exam namespace shows as one", tb.Labs)
	}
	e := tb.Rows[0].Exam
	if e == nil || e.Passed != 0 || e.Tasks != 2 || e.Finished || !e.Deadline.Equal(start.Add(time.Hour)) {
		t.Fatalf("exam at the start: %+v", e)
	}
	cm := object("v1", "ConfigMap", "kube-system", "settings", nil)
	_ = unstructured.SetNestedStringMap(cm.Object, map[string]string{"mode": "on"}, "data")
	if _, err := client.Resource(configMapsGVR).Namespace("kube-system").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	await := func(what string, ok func(Table) bool) {
		t.Helper()
		deadline := time.After(30 * time.Second) // only a failure waits for it
		for {
			select {
			case tb := <-tables:
				if ok(tb) {
					return
				}
			case <-deadline:
				t.Fatalf("the exam never showed %s", what)
			}
		}
	}
	await("a task passed", func(tb Table) bool { e := tb.Rows[0].Exam; return e != nil && e.Passed == 1 })
	_ = unstructured.SetNestedStringMap(cm.Object, map[string]string{"mode": "off"}, "data")
	if _, err := client.Resource(configMapsGVR).Namespace("kube-system").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Once the undo is graded (the cell of lab g says so), the exam
	// still counts the task.
	await("the undo graded", func(tb Table) bool {
		if taskStatus(tb, "system") == "pass" {
			return false
		}
		if e := tb.Rows[0].Exam; e == nil || e.Passed != 1 {
			t.Errorf("undoing a passed task took it off the exam: %+v", e)
		}
		return true
	})
}

// Once the clock has run out the exam is over, and what is done after
// does not count.
func TestGraderTakesNothingAfterTheExam(t *testing.T) {
	client, lab, _ := fakeClass(t)
	cm := object("v1", "ConfigMap", "kube-system", "settings", nil)
	_ = unstructured.SetNestedStringMap(cm.Object, map[string]string{"mode": "on"}, "data")
	if _, err := client.Resource(configMapsGVR).Namespace("kube-system").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	if _, err := client.Resource(namespacesGVR).Create(context.Background(), examNS(start, time.Hour, "replaced,system"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := (<-runGrader(t, client, lab)).Rows[0].Exam
	if e == nil || e.Passed != 0 || e.Tasks != 2 || !e.Finished {
		t.Errorf("an exam past its deadline: %+v", e)
	}
}
