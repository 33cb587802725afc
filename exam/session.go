package exam

import (
	"fmt"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// Namespace is where an exam runs lab: a namespace of its own, so the
// exam starts afresh and leaves the learner's practice in the lab's own
// namespace as it was.
func Namespace(lab *labfile.Lab) string { return "exam-" + lab.ID }

// Why an exam ended.
const (
	EndedFinished = "finished" // the learner said so
	EndedTime     = "time"     // the clock ran out
)

// Session is a running exam: its clock and what each task has shown so
// far. Time is always passed in, so a test never waits for it.
//
// A task counts once it has passed, even if a later change undoes it: a
// lab's later tasks change what its earlier ones made (scaling to five
// undoes "three replicas"), as on the lab screen.
type Session struct {
	Plan  Plan
	Start time.Time
	Limit time.Duration
	// Namespaces picks each lab's namespace (nil: Namespace); a
	// workshop's exam is in the learner's own.
	Namespaces func(*labfile.Lab) string
	tasks      map[string]*taskState
}

// namespace is where lab runs in this exam.
func (s *Session) namespace(lab *labfile.Lab) string {
	if s.Namespaces != nil {
		return s.Namespaces(lab)
	}
	return Namespace(lab)
}

type taskState struct {
	last     *checks.TaskResult
	passedAt time.Time
}

// NewSession starts plan's clock at start.
func NewSession(plan Plan, start time.Time, limit time.Duration) *Session {
	s := &Session{Plan: plan, Start: start, Limit: limit, tasks: map[string]*taskState{}}
	for _, it := range plan.Items {
		s.tasks[it.Key()] = &taskState{}
	}
	return s
}

// Deadline is when time runs out.
func (s *Session) Deadline() time.Time { return s.Start.Add(s.Limit) }

// Remaining is the time left at now, never below zero.
func (s *Session) Remaining(now time.Time) time.Duration { return max(0, s.Deadline().Sub(now)) }

// Over reports whether time has run out at now.
func (s *Session) Over(now time.Time) bool { return !now.Before(s.Deadline()) }

// Clock shows the time left as the screen does: 59:07, or 1:02:03.
func Clock(left time.Duration) string {
	left = left.Round(time.Second)
	h, m, sec := int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", m, sec)
}

// Record takes a grading of one of the exam's labs at time at; results
// after the deadline are not taken. It reports whether a task passed for
// the first time.
func (s *Session) Record(res checks.LabResult, at time.Time) (newlyPassed bool) {
	if at.After(s.Deadline()) {
		return false
	}
	for i := range res.Tasks {
		tr := res.Tasks[i]
		st, ok := s.tasks[res.Lab+"/"+tr.ID]
		if !ok {
			continue
		}
		st.last = &tr
		if tr.Status == checks.Pass && st.passedAt.IsZero() {
			st.passedAt, newlyPassed = at, true
		}
	}
	return newlyPassed
}

// Passed reports whether it has passed during the exam.
func (s *Session) Passed(it Item) bool { return !s.tasks[it.Key()].passedAt.IsZero() }

// Done reports whether every task has passed.
func (s *Session) Done() bool {
	for _, st := range s.tasks {
		if st.passedAt.IsZero() {
			return false
		}
	}
	return true
}

// Result is a finished exam.
type Result struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	progress.ExamSummary
	Tasks []Mark `json:"tasks"`
	// Review are the course lessons behind the tasks not passed.
	Review []Lesson `json:"review,omitempty"`
}

// Mark is one task's grade.
type Mark struct {
	Lab       string        `json:"lab"`
	Task      string        `json:"task"`
	Title     string        `json:"title"`
	Namespace string        `json:"namespace"`
	Points    int           `json:"points"`
	MaxPoints int           `json:"maxPoints"`
	Status    checks.Status `json:"status"`
	// PassedAfter is when, from the exam's start, the task passed.
	PassedAfter time.Duration `json:"passedAfterNanos,omitempty"`
	// Wrong is what was still wrong at the end.
	Wrong []string `json:"wrong,omitempty"`
}

// Passed reports whether the task passed.
func (m Mark) Passed() bool { return m.Status == checks.Pass }

// Lesson is a lesson to review.
type Lesson struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ResultKind and ResultVersion label the exam's JSON export.
const (
	ResultKind    = "k8slab-exam"
	ResultVersion = 1
)

// Result grades the session as it ends at end, for why (EndedFinished or
// EndedTime). review gives the lessons behind a lab; nil gives none.
func (s *Session) Result(end time.Time, why string, review func(*labfile.Lab) []Lesson) Result {
	r := Result{Kind: ResultKind, Version: ResultVersion, ExamSummary: progress.ExamSummary{Seed: s.Plan.Seed, Workshop: s.Plan.Workshop, StartedAt: s.Start.UTC(), EndedAt: end.UTC(), Limit: s.Limit, Ended: why}}
	for _, l := range s.Plan.Labs {
		r.Labs = append(r.Labs, l.ID)
	}
	wrongLabs := map[string]bool{}
	for _, it := range s.Plan.Items {
		st := s.tasks[it.Key()]
		m := Mark{Lab: it.Lab.ID, Task: it.Task.ID, Title: it.Task.Title, Namespace: s.namespace(it.Lab), MaxPoints: it.Task.Points, Status: checks.Missing}
		switch {
		case !st.passedAt.IsZero():
			m.Status, m.Points, m.PassedAfter = checks.Pass, it.Task.Points, st.passedAt.Sub(s.Start)
		case st.last != nil:
			m.Status, m.Wrong = st.last.Status, st.last.Problems()
			if len(m.Wrong) == 0 {
				m.Wrong = []string{"not done (" + string(st.last.Status) + ")"}
			}
		default:
			m.Wrong = []string{"never graded: the cluster gave no result for this task"}
		}
		if !m.Passed() {
			wrongLabs[it.Lab.ID] = true
		}
		r.Score += m.Points
		r.MaxScore += m.MaxPoints
		r.Tasks = append(r.Tasks, m)
	}
	r.Review = reviewOf(s.Plan.Labs, wrongLabs, review)
	return r
}

// reviewOf is the lessons behind the labs with a task not passed, each
// once, in the order of labs; review gives a lab's lessons and may be nil.
func reviewOf(labs []*labfile.Lab, wrong map[string]bool, review func(*labfile.Lab) []Lesson) []Lesson {
	var out []Lesson
	seen := map[string]bool{}
	for _, l := range labs {
		if !wrong[l.ID] || review == nil {
			continue
		}
		for _, ls := range review(l) {
			if !seen[ls.ID] {
				seen[ls.ID] = true
				out = append(out, ls)
			}
		}
	}
	return out
}

// Record is the result as progress keeps it.
func (r Result) Record() progress.ExamRecord {
	rec := progress.ExamRecord{ExamSummary: r.ExamSummary}
	for _, m := range r.Tasks {
		rec.Tasks = append(rec.Tasks, progress.ExamTaskMark{Lab: m.Lab, Task: m.Task, Points: m.Points, MaxPoints: m.MaxPoints, Wrong: m.Wrong})
	}
	return rec
}

// FromRecord makes the result of an exam kept in progress again, for an
// export after the fact; lab finds a lab's titles and review its lessons
// (both may return nothing for a lab no longer in the course).
func FromRecord(rec progress.ExamRecord, lab func(id string) *labfile.Lab, review func(*labfile.Lab) []Lesson) Result {
	r := Result{Kind: ResultKind, Version: ResultVersion, ExamSummary: rec.ExamSummary}
	wrong := map[string]bool{}
	for _, t := range rec.Tasks {
		m := Mark{Lab: t.Lab, Task: t.Task, Title: t.Task, Namespace: "exam-" + t.Lab, Points: t.Points, MaxPoints: t.MaxPoints, Status: checks.Pass, Wrong: t.Wrong}
		if l := lab(t.Lab); l != nil {
			if task := l.Task(t.Task); task != nil {
				m.Title = task.Title
			}
		}
		if t.Points < t.MaxPoints || len(t.Wrong) > 0 {
			m.Status, wrong[t.Lab] = checks.Fail, true
		}
		r.Tasks = append(r.Tasks, m)
	}
	var labs []*labfile.Lab
	for _, id := range rec.Labs {
		if l := lab(id); l != nil {
			labs = append(labs, l)
		}
	}
	r.Review = reviewOf(labs, wrong, review)
	return r
}
