package course

import (
	"bytes"
	"sync"

	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/quiz"
)

// DeferQuizzes reads only what the course map shows of each quiz (its id,
// title and pass mark) at load, and its questions when Course.Quiz first
// returns it. The questions are a third of the built-in course's loading,
// and the TUI's first frame shows none of them.
//
// It is for the built-in course only, whose quizzes are proven whole by
// 'k8slab lint' and the tests (TestDeferredQuizzesAreTheQuizzes): a
// problem in a deferred quiz would show only when it is opened, as no
// quiz at all. A --content course is loaded without it, so that every
// problem is reported at once, with file and line.
func DeferQuizzes() Option {
	return func(l *loader) { l.deferQuizzes = true }
}

// deferredQuiz is a quiz file whose questions are not read yet.
type deferredQuiz struct {
	once sync.Once
	data []byte
	ok   bool
}

// deferQuiz adds m's quiz from the part of its file before its questions,
// leaving them to be read on first use. It reports false, adding nothing,
// when that part does not hold a whole header (the file is then parsed at
// once and its problems reported as usual).
func (l *loader) deferQuiz(c *Course, m *Module, data []byte) bool {
	q, ok := quizHeader(data)
	if !ok {
		return false
	}
	if q.ID == "" {
		q.ID = m.ID
	}
	if _, dup := c.quizzes[q.ID]; dup {
		return false // parsed at once, to report the duplicate
	}
	if c.deferred == nil {
		c.deferred = map[string]*deferredQuiz{}
	}
	c.quizzes[q.ID], c.deferred[q.ID] = q, &deferredQuiz{data: data}
	m.Quiz = q
	return true
}

// questions fills q, the quiz read from d's header, with its questions
// the first time it is asked for; q stays the same pointer, which
// Module.Quiz holds too. Only the questions are written, so a screen that
// shows the header meanwhile reads fields that do not change.
func (d *deferredQuiz) questions(q *quiz.Quiz) (*quiz.Quiz, bool) {
	d.once.Do(func() {
		full, ps := quiz.Parse(d.data)
		if ps != nil {
			return // proven not to happen to the built-in course
		}
		q.Questions, d.ok = full.Questions, true
	})
	if !d.ok {
		return nil, false
	}
	return q, true
}

// quizHeader decodes the part of a quiz file before its top-level
// 'questions:' key, or reports false when there is no such part or it
// does not decode whole.
func quizHeader(data []byte) (*quiz.Quiz, bool) {
	i := bytes.Index(data, []byte("\nquestions:"))
	if i < 0 {
		return nil, false
	}
	root, ps := source.Parse(data[:i+1])
	if ps != nil {
		return nil, false
	}
	var q quiz.Quiz
	if ps := source.Decode(root, &q); len(ps) > 0 || q.Title == "" {
		return nil, false
	}
	if q.PassPercent == 0 {
		q.PassPercent = quiz.DefaultPassPercent
	}
	return &q, true
}
