package tui

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// kindOnlyCourse is the test course plus a lab that needs a volume
// provisioner for every task, which a simulated cluster lacks.
func kindOnlyCourse(t *testing.T) *course.Course {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "course"))); err != nil {
		t.Fatal(err)
	}
	lab := `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: a-kind-lab
title: Provision a volume
features: [storage]
tasks:
  - id: count-classes
    title: Count the storage classes
    goal: Find out how many storage classes the cluster has.
    hints: [kubectl get storageclass]
    question:
      prompt: How many storage classes are there?
      resource: {apiVersion: storage.k8s.io/v1, kind: StorageClass}
      answer: string(size(objects))
`
	if err := os.WriteFile(filepath.Join(dir, "next", "labs", "a-kind-lab.yaml"), []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := course.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// On a simulated cluster, a lab it cannot run says so on the course map
// before the learner opens it, is never "Next", and the course's 100 %
// does not wait for it (#22 item 5).
func TestKindOnlyLabOnTheSimulator(t *testing.T) {
	c := kindOnlyCourse(t)
	f := newFixture(t)
	f.course = c
	tm := f.startWithCluster(t, &fakeCluster{up: true})
	waitFor(t, tm, "needs kind")
	finalScreen(t, tm)

	rows := courseRows(c)
	var d progress.Data
	for _, r := range rows {
		switch r.kind {
		case lessonRow:
			d.MarkLessonRead(r.id, 0, testNow)
		case quizRow:
			d.RecordQuiz(r.id, progress.QuizAttempt{Passed: true})
		case labRow:
			lab, _ := c.Lab(r.id)
			if r.id == "a-kind-lab" {
				continue
			}
			for _, task := range lab.Tasks {
				d.UpdateTask(r.id, task.ID, func(s *progress.TaskState) { s.PassedAt = testNow })
			}
		}
	}
	lacks := labfile.SimulatedClusterLacks
	if i := nextOf(c, d, rows, lacks); i >= 0 {
		t.Errorf("Next on the simulator is %q; want none: the rest is done", rowTitle(c, rows[i]))
	}
	if i := nextOf(c, d, rows, nil); i < 0 || rows[i].id != "a-kind-lab" {
		t.Errorf("Next on kind is %d; want the kind lab", i)
	}
	if s := progress.Summarize(c, d, lacks...); s.Done() != s.Total() {
		t.Errorf("on the simulator the course is %d of %d done; want all", s.Done(), s.Total())
	}
}
