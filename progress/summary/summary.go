// Package summary counts how far a learner is through a course: the
// progress file read against the course's content. The TUI's course map and
// 'k8slab progress' both show it, so they always agree; progress itself
// stays the file and nothing else.
package summary

import (
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// Course is how far a learner is through a course.
type Course struct {
	Modules []Module
}

// Module counts one module's items: lessons read, the quiz passed,
// labs with every task passed.
type Module struct {
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
func (m Module) Done() int {
	n := m.LessonsRead + m.LabsDone
	if m.QuizPassed {
		n++
	}
	return n
}

func (m Module) Total() int {
	n := m.Lessons + m.Labs
	if m.HasQuiz {
		n++
	}
	return n
}

// Done and Total count items over the whole course.
func (s Course) Done() (n int) {
	for _, m := range s.Modules {
		n += m.Done()
	}
	return n
}

func (s Course) Total() (n int) {
	for _, m := range s.Modules {
		n += m.Total()
	}
	return n
}

// Of counts what d records as done in c. Records of lessons, quizzes,
// labs or tasks the course no longer has are ignored. Tasks that need a
// feature in lacks are left out, so a course can be finished on the
// cluster the learner has.
func Of(c *course.Course, d progress.Data, lacks ...labfile.Feature) Course {
	var s Course
	for _, m := range c.Modules {
		ms := Module{ID: m.ID, Title: m.Title, Lessons: len(m.Lessons), HasQuiz: m.Quiz != nil}
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
			done := progress.LabTasksDone(d, lab.ID, taskIDs(tasks))
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

func taskIDs(tasks []labfile.Task) []string {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	return ids
}
