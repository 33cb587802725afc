package progress

import "time"

// ExamMarker says a practice exam is running, so that commands which
// would show a solution refuse until it ends. A marker whose deadline is
// long past is an exam that ended without saying so (a killed process),
// and no longer counts.
type ExamMarker struct {
	Seed      int64     `json:"seed"`
	Labs      []string  `json:"labs"`
	StartedAt time.Time `json:"startedAt"`
	Deadline  time.Time `json:"deadline"`
}

// examGrace is how long after its deadline an exam still counts as
// running: the final grading and the result page come after the clock.
const examGrace = 10 * time.Minute

// RunningExam returns the exam running at now, or nil.
func (d *Data) RunningExam(now time.Time) *ExamMarker {
	if d.Exam == nil || now.After(d.Exam.Deadline.Add(examGrace)) {
		return nil
	}
	return d.Exam
}

// ExamRecord is one finished practice exam.
type ExamRecord struct {
	ExamSummary
	Tasks []ExamTaskMark `json:"tasks"`
}

// ExamSummary is what an exam was and how it went, the same in progress
// and in the exam's export (exam.Result), whose JSON starts with it.
type ExamSummary struct {
	Seed int64 `json:"seed"`
	// Workshop is the workshop that set the exam, if one did.
	Workshop  string        `json:"workshop,omitempty"`
	Labs      []string      `json:"labs"`
	StartedAt time.Time     `json:"startedAt"`
	EndedAt   time.Time     `json:"endedAt"`
	Limit     time.Duration `json:"limitNanos"`
	// Ended is why it ended: "finished" by the learner, or "time".
	Ended    string `json:"ended"`
	Score    int    `json:"score"`
	MaxScore int    `json:"maxScore"`
}

// ExamTaskMark is one task's grade in an exam.
type ExamTaskMark struct {
	Lab       string `json:"lab"`
	Task      string `json:"task"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"maxPoints"`
	// Wrong is what was still wrong at the end, for a task not passed.
	Wrong []string `json:"wrong,omitempty"`
}

// StartExam marks an exam as running.
func (d *Data) StartExam(m ExamMarker) {
	m.StartedAt, m.Deadline = m.StartedAt.UTC(), m.Deadline.UTC()
	d.Exam = &m
}

// FinishExam records a finished exam and clears the running mark.
func (d *Data) FinishExam(r ExamRecord) {
	r.StartedAt, r.EndedAt = r.StartedAt.UTC(), r.EndedAt.UTC()
	d.Exams = append(d.Exams, r)
	d.Exam = nil
}
