package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
)

func typed(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(s)[0], Text: s} }

// numbersQuiz asks questions whose options are numbers, where a digit key
// answering by position would be ambiguous.
func numbersQuiz(t *testing.T) *quizScreen {
	t.Helper()
	store, _, err := progress.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &common{store: store, now: func() time.Time { return testNow }, keys: DefaultKeyMap(), styles: NewStyles(true, true), course: &course.Course{}}
	q := &quiz.Quiz{ID: "numbers", Title: "Numbers", PassPercent: 50, Questions: []quiz.Question{
		{ID: "one", Type: quiz.SingleChoice, Prompt: "How many?", Options: []quiz.Option{{Text: "2"}, {Text: "1", Correct: true}, {Text: "3"}}},
		{ID: "many", Type: quiz.MultipleChoice, Prompt: "Which are odd?", Options: []quiz.Option{{Text: "1", Correct: true}, {Text: "2"}, {Text: "3", Correct: true}}},
	}}
	s := newQuizScreen(c)
	s.SetSize(80, 20)
	s.start(q, store.Snapshot())
	return s
}

// Options are picked by the letter shown beside them; a digit, even one
// that is also an option's text, picks nothing.
func TestQuizOptionLettersNotDigits(t *testing.T) {
	s := numbersQuiz(t)
	s.Update(typed("1"))
	if s.phase != asking {
		t.Fatal("the digit 1 answered a question whose options are numbers")
	}
	// Find the letter of the option "1" as displayed.
	view := ansi.Strip(s.View())
	letter := ""
	for _, line := range strings.Split(view, "\n") {
		if f := strings.Fields(strings.TrimLeft(line, " ›")); len(f) == 2 && f[1] == "1" {
			letter = strings.TrimSuffix(f[0], ")")
		}
	}
	if letter == "" {
		t.Fatalf("no lettered option 1 in:\n%s", view)
	}
	s.Update(typed(letter))
	if s.phase != feedback || !s.lastOK {
		t.Fatalf("pressing %q (the letter shown for 1) did not answer 1 correctly:\n%s", letter, s.View())
	}
}

// Enter on a "select all that apply" question with nothing ticked does not
// submit; it says what to do.
func TestQuizMultipleNeedsATick(t *testing.T) {
	s := numbersQuiz(t)
	s.Update(typed("b"))
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if s.current != 1 || s.phase != asking {
		t.Fatalf("not on the second question: %d %v", s.current, s.phase)
	}
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if s.phase != asking || s.attempt.Answers[1] != nil {
		t.Fatal("enter with nothing ticked submitted an answer")
	}
	if v := s.View(); !strings.Contains(v, "Nothing ticked yet") {
		t.Errorf("no advice shown:\n%s", v)
	}
	s.Update(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if s.phase != feedback {
		t.Error("enter after ticking did not submit")
	}
}

// At the end of a module's last lesson, n offers the module's quiz.
func TestNextAtModuleEndOffersQuiz(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "enter") // the module's last lesson
	waitFor(t, tm, "A short lesson")
	waitFor(t, tm, "n/→ take the quiz")
	press(tm, "n")
	waitFor(t, tm, "Question 1 of 3")
	finalScreen(t, tm)
}

// A failed quiz names the lessons behind the questions missed.
func TestFailedQuizNamesLessons(t *testing.T) {
	f := newFixture(t)
	q, _ := f.course.Quiz("intro")
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, answerKey(displayIndex(t, q, 0, 1))) // wrong
	waitFor(t, tm, "Not quite.")
	press(tm, "enter")
	tm.Type("kubectl")
	press(tm, "enter")
	waitFor(t, tm, "Correct.")
	press(tm, "enter")
	waitFor(t, tm, "Question 3 of 3")
	press(tm, answerKey(displayIndex(t, q, 2, 2)), "enter") // wrong: kube-proxy
	waitFor(t, tm, "Not quite.")
	press(tm, "enter")
	waitFor(t, tm, "Not passed yet.")
	screen := finalScreen(t, tm)
	if got := strings.Join(strings.Fields(screen), " "); !strings.Contains(got, "Review “A long lesson”, then retake it.") || strings.Contains(got, "A short lesson") {
		t.Errorf("advice does not name just the lesson behind the missed questions:\n%s", screen)
	}
}

// A wrong answer's feedback shows the whole right answer at 80 columns:
// prose wraps, a typed answer stands verbatim on its own line.
func TestQuizFeedbackShowsTheWholeAnswer(t *testing.T) {
	long := "Pods are replaced with new IPs, while a Service's name and ClusterIP stay the same for as long as the Service exists"
	store, _, err := progress.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &common{store: store, now: func() time.Time { return testNow }, keys: DefaultKeyMap(), styles: NewStyles(true, true), course: &course.Course{}}
	q := &quiz.Quiz{ID: "svc", Title: "Services", PassPercent: 50, Questions: []quiz.Question{
		{ID: "why", Type: quiz.SingleChoice, Prompt: "Why a Service?", Options: []quiz.Option{{Text: "Pods never change"}, {Text: long, Correct: true}}},
		{ID: "cmd", Type: quiz.FreeText, Prompt: "Which command?", Accept: []string{"kubectl get pods --field-selector=status.phase=Running -o wide"}},
	}}
	s := newQuizScreen(c)
	s.SetSize(80, 20)
	s.start(q, store.Snapshot())
	for _, o := range "ab" {
		if s.choices()[o-'a'] == "Pods never change" {
			s.Update(typed(string(o)))
		}
	}
	view := ansi.Strip(s.View())
	if got := strings.Join(strings.Fields(view), " "); !strings.Contains(got, "The answer: "+long) {
		t.Errorf("the right answer is not shown whole:\n%s", view)
	}
	for i, l := range strings.Split(view, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line %d is %d wide: %q", i, ansi.StringWidth(l), l)
		}
	}
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	s.input.SetValue("kubectl get pods")
	s.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if view := ansi.Strip(s.View()); !strings.Contains(view, "\n   kubectl get pods --field-selector=status.phase=Running -o wide") {
		t.Errorf("the typed answer is not shown verbatim on its own line:\n%s", view)
	}
}
