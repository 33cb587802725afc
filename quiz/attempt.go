package quiz

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/k8slab/k8slab/internal/answer"
)

// Answer is what a learner gave for one question. Choices index the options
// as authored (not as displayed), so answers survive any shuffle.
type Answer struct {
	Choices []int
	Bool    *bool
	Text    string
}

// Correct reports whether a is right for q.
func (q *Question) Correct(a Answer) bool {
	switch q.Type {
	case SingleChoice, MultipleChoice:
		var want []int
		for i, o := range q.Options {
			if o.Correct {
				want = append(want, i)
			}
		}
		got := slices.Clone(a.Choices)
		slices.Sort(got)
		got = slices.Compact(got)
		return slices.Equal(want, got)
	case TrueFalse:
		return a.Bool != nil && q.Answer != nil && *a.Bool == *q.Answer
	case FreeText:
		given := answer.Normalize(a.Text)
		if given == "" {
			return false
		}
		for _, acc := range q.Accept {
			if answer.Normalize(acc) == given {
				return true
			}
		}
	}
	return false
}

// CorrectAnswerText describes the right answer for feedback.
func (q *Question) CorrectAnswerText() []string {
	switch q.Type {
	case SingleChoice, MultipleChoice:
		var out []string
		for _, o := range q.Options {
			if o.Correct {
				out = append(out, o.Text)
			}
		}
		return out
	case TrueFalse:
		if q.Answer != nil && *q.Answer {
			return []string{"True"}
		}
		return []string{"False"}
	case FreeText:
		return q.Accept[:1]
	}
	return nil
}

// Attempt is one run through a quiz: the display order of each question's
// options, the answers given so far, and the score.
type Attempt struct {
	Quiz *Quiz
	// Order[i] lists the authored option indexes of question i in display
	// order.
	Order   [][]int
	Answers []*Answer
}

// Seed derives the shuffle seed for a learner's n-th attempt at a quiz, so
// retakes see a different order while a given attempt is reproducible.
func Seed(learnerID, quizID string, attempt int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(learnerID))
	h.Write([]byte{0})
	h.Write([]byte(quizID))
	h.Write([]byte{0, byte(attempt), byte(attempt >> 8), byte(attempt >> 16)})
	return h.Sum64()
}

// NewAttempt starts an attempt with options shuffled by seed. Question order
// is kept: authors order questions to build on each other.
func NewAttempt(q *Quiz, seed uint64) *Attempt {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	a := &Attempt{Quiz: q, Order: make([][]int, len(q.Questions)), Answers: make([]*Answer, len(q.Questions))}
	for i, question := range q.Questions {
		n := len(question.Options)
		if question.Type == TrueFalse {
			n = 0
		}
		order := make([]int, n)
		for j := range order {
			order[j] = j
		}
		rng.Shuffle(n, func(x, y int) { order[x], order[y] = order[y], order[x] })
		a.Order[i] = order
	}
	return a
}

// Answer records the learner's answer to question i and reports whether it
// was right.
func (a *Attempt) Answer(i int, ans Answer) bool {
	a.Answers[i] = &ans
	return a.Quiz.Questions[i].Correct(ans)
}

// Score summarises an attempt.
type Score struct {
	Correct, Total int
	Percent        int
	Passed         bool
}

// Score counts unanswered questions as wrong.
func (a *Attempt) Score() Score {
	s := Score{Total: len(a.Quiz.Questions)}
	for i, ans := range a.Answers {
		if ans != nil && a.Quiz.Questions[i].Correct(*ans) {
			s.Correct++
		}
	}
	if s.Total > 0 {
		s.Percent = s.Correct * 100 / s.Total
	}
	s.Passed = s.Total > 0 && s.Correct*100 >= a.Quiz.PassPercent*s.Total
	return s
}
