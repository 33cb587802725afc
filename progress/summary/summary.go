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
// labs or tasks the course no longer has are ignored.
func Of(c *course.Course, d progress.Data) Course {
	var s Course
	for _, m := range c.Modules {
		ms := Module{ID: m.ID, Title: m.Title, Lessons: len(m.Lessons), Labs: len(m.Labs), HasQuiz: m.Quiz != nil}
		for _, l := range m.Lessons {
			if !d.Lessons[l.ID].ReadAt.IsZero() {
				ms.LessonsRead++
			}
		}
		if m.Quiz != nil {
			ms.QuizPassed = d.Quizzes[m.Quiz.ID].Passed
		}
		for _, lab := range m.Labs {
			done := progress.LabTasksDone(d, lab.ID, taskIDs(lab.Tasks))
			ms.Tasks += len(lab.Tasks)
			ms.TasksDone += done
			if done == len(lab.Tasks) {
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
