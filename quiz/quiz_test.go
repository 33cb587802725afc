package quiz_test

import (
	"slices"
	"testing"

	"github.com/k8slab/k8slab/internal/answer"
	"github.com/k8slab/k8slab/quiz"
)

const sample = `apiVersion: k8slab.dev/v1alpha1
kind: Quiz
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
      - text: Still wrong
    explanation: E.
  - id: multi
    type: multiple
    prompt: Which ones?
    options:
      - text: A
        correct: true
      - text: B
      - text: C
        correct: true
    explanation: E.
  - id: tf
    type: truefalse
    prompt: Nodes can be virtual machines.
    answer: true
    explanation: E.
  - id: text
    type: text
    prompt: Which CLI?
    accept: [kubectl, "kubectl get nodes"]
    explanation: E.
`

func mustParse(t *testing.T) *quiz.Quiz {
	t.Helper()
	q, ps := quiz.Parse([]byte(sample))
	if ps != nil {
		t.Fatalf("Parse: %v", ps)
	}
	return q
}

func boolp(b bool) *bool { return &b }

func TestCorrect(t *testing.T) {
	q := mustParse(t)
	single, multi, tf, text := &q.Questions[0], &q.Questions[1], &q.Questions[2], &q.Questions[3]
	tests := []struct {
		name string
		q    *quiz.Question
		a    quiz.Answer
		want bool
	}{
		{"single right", single, quiz.Answer{Choices: []int{0}}, true},
		{"single wrong", single, quiz.Answer{Choices: []int{1}}, false},
		{"single two picks", single, quiz.Answer{Choices: []int{0, 1}}, false},
		{"single none", single, quiz.Answer{}, false},
		{"multiple all right", multi, quiz.Answer{Choices: []int{2, 0}}, true},
		{"multiple repeated pick", multi, quiz.Answer{Choices: []int{0, 2, 0}}, true},
		{"multiple missing one", multi, quiz.Answer{Choices: []int{0}}, false},
		{"multiple one too many", multi, quiz.Answer{Choices: []int{0, 1, 2}}, false},
		{"true/false right", tf, quiz.Answer{Bool: boolp(true)}, true},
		{"true/false wrong", tf, quiz.Answer{Bool: boolp(false)}, false},
		{"true/false unanswered", tf, quiz.Answer{}, false},
		{"text exact", text, quiz.Answer{Text: "kubectl"}, true},
		{"text case and spaces", text, quiz.Answer{Text: "  KubeCtl  "}, true},
		{"text backticks and full stop", text, quiz.Answer{Text: "`kubectl`."}, true},
		{"text quotes", text, quiz.Answer{Text: `"kubectl"`}, true},
		{"text alternative with inner spaces", text, quiz.Answer{Text: "kubectl   get\tnodes"}, true},
		{"text wrong", text, quiz.Answer{Text: "kubeadm"}, false},
		{"text prefix is not enough", text, quiz.Answer{Text: "kube"}, false},
		{"text empty", text, quiz.Answer{Text: "  "}, false},
	}
	for _, tt := range tests {
		if got := tt.q.Correct(tt.a); got != tt.want {
			t.Errorf("%s: Correct(%+v) = %v, want %v", tt.name, tt.a, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Kubectl":                "kubectl",
		" kubectl  get   nodes ": "kubectl get nodes",
		"`etcd`.":                "etcd",
		"'etcd'":                 "etcd",
		"“Scheduler”":            "scheduler",
		"container runtime!":     "container runtime",
		"":                       "",
	} {
		if got := answer.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScoreAndPassMark(t *testing.T) {
	q := mustParse(t)
	a := quiz.NewAttempt(q, 1)
	a.Answer(0, quiz.Answer{Choices: []int{0}})
	a.Answer(1, quiz.Answer{Choices: []int{0, 2}})
	a.Answer(2, quiz.Answer{Bool: boolp(true)})
	if s := a.Score(); s.Correct != 3 || s.Total != 4 || s.Percent != 75 || !s.Passed {
		t.Errorf("3 of 4 with pass mark 75: %+v", s)
	}
	a.Answer(2, quiz.Answer{Bool: boolp(false)}) // changing an answer replaces it
	if s := a.Score(); s.Correct != 2 || s.Passed {
		t.Errorf("2 of 4 with pass mark 75 must fail: %+v", s)
	}
}

func TestShuffleIsStablePerSeedAndVariesAcrossAttempts(t *testing.T) {
	q := mustParse(t)
	first := quiz.NewAttempt(q, quiz.Seed("learner-1", "sample", 1))
	again := quiz.NewAttempt(q, quiz.Seed("learner-1", "sample", 1))
	if !slices.EqualFunc(first.Order, again.Order, slices.Equal) {
		t.Fatalf("same seed gave different orders: %v vs %v", first.Order, again.Order)
	}
	for i, order := range first.Order {
		sorted := slices.Sorted(slices.Values(order))
		for j, v := range sorted {
			if v != j {
				t.Fatalf("question %d order %v is not a permutation", i, order)
			}
		}
	}
	if len(first.Order[2]) != 0 || len(first.Order[3]) != 0 {
		t.Error("true/false and text questions have no options to shuffle")
	}
	differs := false
	for attempt := 2; attempt < 10 && !differs; attempt++ {
		other := quiz.NewAttempt(q, quiz.Seed("learner-1", "sample", attempt))
		differs = !slices.Equal(first.Order[0], other.Order[0])
	}
	if !differs {
		t.Error("retakes never changed the option order")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("questions: [{}]"))
	f.Add([]byte("apiVersion: k8slab.dev/v1alpha1\nkind: Quiz\ntitle: t\nquestions:\n  - id: a\n    type: text\n    prompt: p\n    accept: ['', x]\n    explanation: e\n"))
	f.Add([]byte("- a\n- b"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, ps := quiz.Parse(data)
		if (q == nil) == (len(ps) == 0) {
			t.Fatalf("exactly one of quiz and problems must be set")
		}
		if q == nil {
			return
		}
		// A quiz that parses must be answerable: every question has a
		// correct answer that Correct accepts.
		for i := range q.Questions {
			question := &q.Questions[i]
			var a quiz.Answer
			switch question.Type {
			case quiz.SingleChoice, quiz.MultipleChoice:
				for j, o := range question.Options {
					if o.Correct {
						a.Choices = append(a.Choices, j)
					}
				}
			case quiz.TrueFalse:
				a.Bool = question.Answer
			case quiz.FreeText:
				a.Text = question.Accept[0]
			}
			if !question.Correct(a) {
				t.Fatalf("question %q cannot be answered correctly", question.ID)
			}
		}
	})
}
