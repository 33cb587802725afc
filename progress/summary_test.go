package progress

import (
	"testing"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/quiz"
)

// Summarize counts lessons read, quizzes passed and labs with every task
// passed, and ignores records of things the course no longer has.
func TestSummarize(t *testing.T) {
	c := &course.Course{Modules: []*course.Module{
		{ID: "a", Lessons: []*lessons.Lesson{{ID: "l1"}, {ID: "l2"}}, Quiz: &quiz.Quiz{ID: "a"},
			Labs: []*labfile.Lab{{ID: "lab1", Tasks: []labfile.Task{{ID: "t1"}, {ID: "t2"}}}}},
		{ID: "b", Lessons: []*lessons.Lesson{{ID: "l3"}}, Labs: []*labfile.Lab{{ID: "lab2", Tasks: []labfile.Task{{ID: "t1"}}}}},
	}}
	var d Data
	d.MarkLessonRead("l1", 0, fixed)
	d.MarkLessonRead("gone", 0, fixed) // a lesson since removed
	d.RecordQuiz("a", QuizAttempt{Passed: true})
	d.UpdateTask("lab1", "t1", func(t *TaskState) { t.PassedAt = fixed })
	d.UpdateTask("lab1", "old", func(t *TaskState) { t.PassedAt = fixed }) // a task since removed
	d.UpdateTask("lab2", "t1", func(t *TaskState) { t.PassedAt = fixed })

	s := Summarize(c, d)
	a, b := s.Modules[0], s.Modules[1]
	if a.LessonsRead != 1 || !a.QuizPassed || a.LabsDone != 0 || a.TasksDone != 1 || a.Tasks != 2 || a.Done() != 2 || a.Total() != 4 {
		t.Errorf("module a = %+v (done %d of %d)", a, a.Done(), a.Total())
	}
	if b.LabsDone != 1 || b.Done() != 1 || b.Total() != 2 {
		t.Errorf("module b = %+v", b)
	}
	if s.Done() != 3 || s.Total() != 6 {
		t.Errorf("course: %d of %d, want 3 of 6", s.Done(), s.Total())
	}
}

// On a cluster that lacks a feature, the tasks that need it are left out:
// a lab whose other tasks passed is done, and a lab that needs the feature
// for every task is not counted at all, so the course can reach 100 %.
func TestSummarizeLeavesOutWhatTheClusterCannotRun(t *testing.T) {
	c := &course.Course{Modules: []*course.Module{{ID: "a",
		Labs: []*labfile.Lab{
			{ID: "services", Tasks: []labfile.Task{{ID: "svc"}, {ID: "from-host", Features: []labfile.Feature{labfile.NodePortFromHost}}}},
			{ID: "dynamic", Features: []labfile.Feature{labfile.Storage}, Tasks: []labfile.Task{{ID: "claim"}, {ID: "bound"}}},
		}}}}
	var d Data
	d.UpdateTask("services", "svc", func(t *TaskState) { t.PassedAt = fixed })

	onKind := Summarize(c, d).Modules[0]
	if onKind.Labs != 2 || onKind.LabsDone != 0 || onKind.Tasks != 4 || onKind.TasksDone != 1 || onKind.Elsewhere != 0 {
		t.Errorf("on kind: %+v", onKind)
	}
	onSim := Summarize(c, d, labfile.SimulatedClusterLacks...).Modules[0]
	if onSim.Labs != 1 || onSim.LabsDone != 1 || onSim.Tasks != 1 || onSim.TasksDone != 1 || onSim.Elsewhere != 3 || onSim.Done() != onSim.Total() {
		t.Errorf("on the simulator: %+v (done %d of %d)", onSim, onSim.Done(), onSim.Total())
	}
}
