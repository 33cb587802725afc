package plain_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
	"github.com/k8slab/k8slab/quiz/plain"
)

const sample = `apiVersion: k8slab.dev/v1alpha1
kind: Quiz
id: sample
title: Sample
passPercent: 75
questions:
  - id: single
    type: single
    prompt: Which?
    options:
      - text: Right
        correct: true
      - text: Wrong
      - text: Also wrong
    explanation: Single explained.
  - id: multi
    type: multiple
    prompt: Which ones?
    options:
      - text: A
        correct: true
      - text: B
      - text: C
        correct: true
    explanation: Multi explained.
  - id: tf
    type: truefalse
    prompt: Nodes can be virtual machines.
    answer: true
    explanation: TF explained.
  - id: text
    type: text
    prompt: Which CLI?
    accept: [kubectl]
    explanation: Text explained.
`

var at = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*quiz.Quiz, *progress.Store) {
	t.Helper()
	q, ps := quiz.Parse([]byte(sample))
	if ps != nil {
		t.Fatalf("Parse: %v", ps)
	}
	store, _, err := progress.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A learner whose first attempt shows the multiple-choice options out
	// of file order, so that typing a number from the file's order fails.
	for i := 0; ; i++ {
		id := fmt.Sprintf("learner-%d", i)
		if !slices.IsSorted(quiz.NewAttempt(q, quiz.Seed(id, q.ID, 1)).Order[1]) {
			if err := store.Update(func(d *progress.Data) { d.LearnerID = id }); err != nil {
				t.Fatal(err)
			}
			return q, store
		}
	}
}

// numbers gives the 1-based positions, as printed, of the options of
// question i that are correct (or, with correct false, of one wrong
// option), under the shuffle the first attempt uses.
func numbers(q *quiz.Quiz, store *progress.Store, i int, correct bool) string {
	a := quiz.NewAttempt(q, quiz.Seed(store.Snapshot().LearnerID, q.ID, 1))
	var out []string
	for pos, o := range a.Order[i] {
		if q.Questions[i].Options[o].Correct == correct {
			out = append(out, fmt.Sprint(pos+1))
			if !correct {
				break
			}
		}
	}
	return strings.Join(out, " ")
}

func attempts(store *progress.Store, id string) []progress.QuizAttempt {
	return store.Snapshot().Quizzes[id].Attempts
}

func TestAllRightIsRecordedAsPassed(t *testing.T) {
	q, store := setup(t)
	in := strings.Join([]string{numbers(q, store, 0, true), numbers(q, store, 1, true), "true", "kubectl"}, "\n") + "\n"
	var out strings.Builder
	if err := plain.Run(strings.NewReader(in), &out, q, store, func() time.Time { return at }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "Correct."); got != 4 {
		t.Errorf("want 4 answers called correct, got %d:\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "Score: 4 of 4 (100%). Passed.") {
		t.Errorf("no passing score line:\n%s", out.String())
	}
	got := attempts(store, "sample")
	if len(got) != 1 || !got[0].Passed || got[0].Correct != 4 || !got[0].At.Equal(at) {
		t.Errorf("recorded %+v, want one passed attempt of 4/4 at %v", got, at)
	}
}

func TestWrongAnswersShowTheRightOneAndTheExplanation(t *testing.T) {
	q, store := setup(t)
	in := strings.Join([]string{numbers(q, store, 0, false), numbers(q, store, 1, true), "false", "kubeadm"}, "\n") + "\n"
	var out strings.Builder
	if err := plain.Run(strings.NewReader(in), &out, q, store, time.Now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Not quite. The answer: Right.", "Single explained.", "TF explained.", "Not quite. The answer: kubectl.", "Score: 1 of 4 (25%). Not passed yet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if got := attempts(store, "sample"); len(got) != 1 || got[0].Passed || got[0].Correct != 1 {
		t.Errorf("recorded %+v, want one failed attempt of 1/4", got)
	}
}

func TestUnusableAnswersAreAskedAgainNotScored(t *testing.T) {
	q, store := setup(t)
	lines := []string{
		"", "9", "1 2", numbers(q, store, 0, true), // single: empty, out of range, two numbers
		"x", numbers(q, store, 1, true), // multiple: not a number
		"maybe", "yes", // true/false
		"kubectl",
	}
	var out strings.Builder
	if err := plain.Run(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, q, store, time.Now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Please type an answer (or q to stop).", "Please type one number from 1 to 3.", "Please type the numbers of every right option, from 1 to 3", "Please type 1 for true or 2 for false.", "Score: 4 of 4"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// Stopping part way, by q or by the end of the input, must never record a
// partial attempt that would lower the learner's best score.
func TestStoppingEarlyRecordsNothing(t *testing.T) {
	for name, in := range map[string]string{"q": "q\n", "end of input": ""} {
		t.Run(name, func(t *testing.T) {
			q, store := setup(t)
			in := numbers(q, store, 0, true) + "\n" + in
			var out strings.Builder
			if err := plain.Run(strings.NewReader(in), &out, q, store, time.Now); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "Stopped; nothing was recorded.") {
				t.Errorf("no stop notice:\n%s", out.String())
			}
			if got := attempts(store, "sample"); len(got) != 0 {
				t.Errorf("recorded %+v after stopping", got)
			}
		})
	}
}

// The options are shown in the attempt's shuffled order and the numbers
// typed refer to that order, not to the order in the file.
func TestNumbersFollowTheShownOrder(t *testing.T) {
	q, store := setup(t)
	a := quiz.NewAttempt(q, quiz.Seed(store.Snapshot().LearnerID, q.ID, 1))
	const multi = 1
	in := numbers(q, store, 0, true) + "\n" + numbers(q, store, multi, true) + "\nq\n"
	var out strings.Builder
	if err := plain.Run(strings.NewReader(in), &out, q, store, time.Now); err != nil {
		t.Fatal(err)
	}
	var want []string
	for pos, o := range a.Order[multi] {
		want = append(want, fmt.Sprintf("  %d) %s", pos+1, q.Questions[multi].Options[o].Text))
	}
	second := out.String()[strings.Index(out.String(), "Question 2 of"):strings.Index(out.String(), "Question 3 of")]
	var shown []string
	for _, l := range strings.Split(second, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, ") ") {
			shown = append(shown, l)
		}
	}
	if !slices.Equal(shown, want) {
		t.Errorf("options shown %q, want %q", shown, want)
	}
	if got := strings.Count(second, "Correct."); got != 1 {
		t.Errorf("the right numbers in the shown order were not accepted:\n%s", second)
	}
}
