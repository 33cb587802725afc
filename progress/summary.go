package progress

import (
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

// Summary is how far a learner is through a course. The TUI's course map
// and 'k8slab progress' both show it, so they always agree.
type Summary struct {
	Modules []ModuleSummary
}

// ModuleSummary counts one module's items: lessons read, the quiz passed,
// labs with every task passed.
type ModuleSummary struct {
	ID, Title string

	LessonsRead, Lessons int
	// QuizPassed and HasQuiz describe the module's quiz, if it has one.
	QuizPassed, HasQuiz bool
	// LabsDone counts labs with every task passed; Tasks and TasksDone
	// count tasks over all the module's labs.
	LabsDone, Labs   int
	TasksDone, Tasks int
	// Elsewhere counts the tasks left out of the figures above because
	// they need what the learner's cluster lacks (a kind cluster's
	// containers, say); a lab with no other task is left out too.
	Elsewhere int
}

// Done and Total count items: lessons, quizzes and labs.
func (m ModuleSummary) Done() int {
	n := m.LessonsRead + m.LabsDone
	if m.QuizPassed {
		n++
	}
	return n
}

func (m ModuleSummary) Total() int {
	n := m.Lessons + m.Labs
	if m.HasQuiz {
		n++
	}
	return n
}

// Done and Total count items over the whole course.
func (s Summary) Done() (n int) {
	for _, m := range s.Modules {
		n += m.Done()
	}
	return n
}

func (s Summary) Total() (n int) {
	for _, m := range s.Modules {
		n += m.Total()
	}
	return n
}

// Summarize counts what d records as done in course. Records of lessons,
// quizzes, labs or tasks the course no longer has are ignored. Tasks that
// need a feature in lacks are left out, so a course can be finished on the
// cluster the learner has.
func Summarize(c *course.Course, d Data, lacks ...labfile.Feature) Summary {
	var s Summary
	for _, m := range c.Modules {
		ms := ModuleSummary{ID: m.ID, Title: m.Title, Lessons: len(m.Lessons), HasQuiz: m.Quiz != nil}
		for _, l := range m.Lessons {
			if !d.Lessons[l.ID].ReadAt.IsZero() {
				ms.LessonsRead++
			}
		}
		if m.Quiz != nil {
			ms.QuizPassed = d.Quizzes[m.Quiz.ID].Passed
		}
		for _, lab := range m.Labs {
			tasks := lab.RunnableTasks(lacks)
			ms.Elsewhere += len(lab.Tasks) - len(tasks)
			if len(tasks) == 0 {
				continue
			}
			ms.Labs++
			done := LabTasksDone(d, lab.ID, taskIDs(tasks))
			ms.Tasks += len(tasks)
			ms.TasksDone += done
			if done == len(tasks) {
				ms.LabsDone++
			}
		}
		s.Modules = append(s.Modules, ms)
	}
	return s
}

// LabTasksDone counts the tasks among ids that have passed at least once.
func LabTasksDone(d Data, lab string, ids []string) int {
	n := 0
	for _, id := range ids {
		if !d.Labs[lab].Tasks[id].PassedAt.IsZero() {
			n++
		}
	}
	return n
}

func taskIDs(tasks []labfile.Task) []string {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	return ids
}
