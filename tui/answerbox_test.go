package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/progress"
)

// Backspace in a quiz's free-text answer deletes a character; it never
// offers to leave the quiz. The other line-editing keys work too.
func TestQuizAnswerBackspaceEdits(t *testing.T) {
	f := newFixture(t)
	q, _ := f.course.Quiz("intro")
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, answerKey(displayIndex(t, q, 0, 0)), "enter")
	waitFor(t, tm, "Question 2 of 3")
	tm.Type("kubectlx")
	waitFor(t, tm, "kubectlx")
	press(tm, "backspace", "backspace")
	waitFor(t, tm, "› kubect")
	// Home, Delete, then End and retype: "ubect" → "kubectl".
	press(tm, "home", "delete", "end")
	tm.Type("l")
	press(tm, "home")
	tm.Type("k")
	waitFor(t, tm, "› kubectl")
	if strings.Contains(tm.last.Load().(string), "Leave the quiz?") {
		t.Fatal("Backspace asked to leave the quiz")
	}
	// Ctrl-W deletes the last word, Ctrl-U everything before the cursor.
	press(tm, "end")
	tm.Type(" get")
	waitFor(t, tm, "› kubectl get")
	press(tm, "ctrl+w")
	press(tm, "ctrl+u")
	tm.Send(tea.PasteMsg{Content: "kubectl"})
	waitFor(t, tm, "› kubectl")
	press(tm, "enter")
	waitFor(t, tm, "Correct.")
	press(tm, "q")
	m := finalApp(t, tm)
	if got := m.quiz.attempt.Answers[1].Text; got != "kubectl" {
		t.Errorf("answer submitted = %q, want kubectl", got)
	}
}

// openQuestionLab opens the test course's question lab in an app with a
// cluster service that offers 'c' (no cluster yet).
func openQuestionLab(t *testing.T, f *fixture, labs LabService, cluster ClusterService) *session {
	t.Helper()
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, Cluster: cluster})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "j", "j", "enter")
	waitFor(t, tm, "k8slab · Lab: Question lab")
	waitFor(t, tm, "press a to answer")
	return tm
}

// Letters typed into a lab's answer box are text, even when the same key
// means "create cluster" elsewhere; a bracketed paste inserts its text.
func TestLabAnswerBoxOwnsKeys(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	cluster := &fakeCluster{release: make(chan struct{})}
	tm := openQuestionLab(t, f, labs, cluster)
	waitFor(t, tm, "press c to create one")
	press(tm, "a")
	waitFor(t, tm, "answer ›")
	tm.Type("walk-")
	tm.Send(tea.PasteMsg{Content: "control-plane"})
	waitFor(t, tm, "answer › walk-control-plane")
	press(tm, "enter")
	waitUntil(t, tm, "the answer graded", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2
	})
	press(tm, "q")
	m := finalApp(t, tm)
	if m.cluster.busy || m.cluster.cancel != nil {
		t.Error("typing c in the answer box started creating a cluster")
	}
	labs.mu.Lock()
	defer labs.mu.Unlock()
	if got := labs.answers[1]["count-nodes"]; got != "walk-control-plane" {
		t.Errorf("graded answer = %q, want walk-control-plane", got)
	}
}

// answerKey is the key that picks the option shown at display index i.
func answerKey(i int) string { return string(rune('a' + i)) }

// An answer is kept in progress: reopening the lab shows it, and editing
// starts with it selected, so typing replaces it instead of appending.
func TestLabAnswersKeptAcrossReopening(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := openQuestionLab2(t, f, labs)
	waitFor(t, tm, "press a to answer")
	press(tm, "a")
	tm.Type("0")
	press(tm, "enter")
	waitFor(t, tm, "Your answer: 0")
	finalScreen(t, tm)
	if got := f.store.Snapshot().Labs["question-lab"].Tasks["count-nodes"].Answer; got != "0" {
		t.Fatalf("answer in progress = %q, want 0", got)
	}

	// A new session, as after quitting k8slab.
	store, _, err := progress.Open(f.dir, progress.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	labs = newFakeLabs()
	tm = openQuestionLab2(t, f, labs)
	waitFor(t, tm, "Your answer: 0 · press a to change it")
	press(tm, "a")
	waitFor(t, tm, "answer › 0")
	tm.Type("3")
	waitFor(t, tm, "answer › 3")
	press(tm, "enter")
	waitFor(t, tm, "Your answer: 3")
	// The new answer is graded by a watch started in a command: quitting
	// before it ran would end the program first, so wait for it.
	waitUntil(t, tm, "grading with the new answer", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) == 2
	})
	screen := finalScreen(t, tm)
	if strings.Contains(screen, "03") {
		t.Errorf("typing appended to the old answer:\n%s", screen)
	}
	labs.mu.Lock()
	defer labs.mu.Unlock()
	if len(labs.answers) != 2 || labs.answers[0]["count-nodes"] != "0" || labs.answers[1]["count-nodes"] != "3" {
		t.Errorf("graded with %v; want the kept answer 0, then 3", labs.answers)
	}
}

func openQuestionLab2(t *testing.T, f *fixture, labs LabService) *session {
	t.Helper()
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "j", "j", "enter")
	waitFor(t, tm, "k8slab · Lab: Question lab")
	return tm
}
