package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
)

var testNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

const testLearner = "0123456789abcdef"

type fixture struct {
	course *course.Course
	store  *progress.Store
	dir    string
}

// newFixture loads the fixed test course and a progress store whose learner
// id is known, so quiz shuffles are the same on every run.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := course.Load(os.DirFS(filepath.Join("testdata", "course")))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seed := `{"version": 1, "learnerId": "` + testLearner + `"}`
	if err := os.WriteFile(filepath.Join(dir, progress.FileName), []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	store, _, err := progress.Open(dir, progress.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{course: c, store: store, dir: dir}
}

// recorder wraps the app and keeps the text of the last frame drawn, so tests
// wait on what the screen shows rather than on the renderer's escape codes,
// which only redraw what changed.
type recorder struct {
	*App
	last *atomic.Value
}

func (r recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := r.App.Update(msg)
	return r, cmd
}

func (r recorder) View() tea.View {
	v := r.App.View()
	r.last.Store(screenText(r.App))
	changed.notify()
	return v
}

type session struct {
	*teatest.TestModel
	last *atomic.Value
	// graded counts the lab results an exam has taken in; nil elsewhere.
	graded *atomic.Int32
}

func (f *fixture) start(t *testing.T, w, h int, noColor bool) *session {
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, NoColor: noColor})
	return f.startApp(t, app, w, h)
}

func (f *fixture) startApp(t *testing.T, app *App, w, h int) *session {
	last := &atomic.Value{}
	last.Store("")
	tm := teatest.NewTestModel(t, recorder{app, last}, teatest.WithInitialTermSize(w, h))
	return &session{TestModel: tm, last: last}
}

func waitFor(t *testing.T, tm *session, text string) {
	t.Helper()
	waitUntil(t, tm, fmt.Sprintf("screen showing %q", text), func(screen string) bool {
		return strings.Contains(screen, text)
	})
}

// waitUntil waits for ok to hold of the screen or of a fake's state. It
// re-checks on every event that may change either (a frame drawn, a fake
// service called), never on a timer; testLimit only bounds a test that
// would otherwise hang.
func waitUntil(t *testing.T, tm *session, what string, ok func(screen string) bool) {
	t.Helper()
	limit := time.NewTimer(testLimit)
	defer limit.Stop()
	for {
		next := changed.next() // before the check, so no change is missed
		if ok(tm.last.Load().(string)) {
			return
		}
		select {
		case <-next:
		case <-limit.C:
			t.Fatalf("waited in vain for %s; last frame:\n%s", what, tm.last.Load())
		}
	}
}

// testLimit bounds how long a test waits for an event before it fails; it
// is no part of what a test asserts, so it is generous for a loaded
// machine.
const testLimit = time.Minute

// changed is a broadcast of "something a test may wait for changed":
// each notify closes the channel waiters hold and makes a new one.
var changed = &signal{ch: make(chan struct{})}

type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

func press(tm *session, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "space":
			msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "delete":
			msg = tea.KeyPressMsg{Code: tea.KeyDelete}
		case "left":
			msg = tea.KeyPressMsg{Code: tea.KeyLeft}
		case "home":
			msg = tea.KeyPressMsg{Code: tea.KeyHome}
		case "end":
			msg = tea.KeyPressMsg{Code: tea.KeyEnd}
		case "ctrl+u", "ctrl+w":
			msg = tea.KeyPressMsg{Code: rune(k[len(k)-1]), Mod: tea.ModCtrl}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		tm.Send(msg)
	}
}

// finalScreen quits and returns the last frame as plain text.
func finalScreen(t *testing.T, tm *session) string {
	t.Helper()
	press(tm, "q")
	return screenText(finalApp(t, tm))
}

func finalApp(t *testing.T, tm *session) *App {
	t.Helper()
	app := tm.FinalModel(t, teatest.WithFinalTimeout(testLimit)).(recorder).App
	if err := app.Flush(); err != nil {
		t.Fatal(err)
	}
	return app
}

func screenText(a *App) string {
	lines := strings.Split(ansi.Strip(a.View().Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func TestHomeScreen(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"120x40", 120, 40}} {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			tm := f.start(t, size.w, size.h, false)
			waitFor(t, tm, "Next:")
			golden.RequireEqual(t, finalScreen(t, tm))
		})
	}
}

func TestLessonOpenScrollAndResume(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "enter")
	waitFor(t, tm, "Section 1")
	press(tm, "j", "j", "j", "j", "j")
	waitFor(t, tm, "Section 2")
	screen := finalScreen(t, tm)
	golden.RequireEqual(t, screen)

	// Quitting saved the position; the lesson is not yet read (its end was
	// never on screen).
	d := f.store.Snapshot()
	if st := d.Lessons["long-lesson"]; st.Offset != 5 || !st.ReadAt.IsZero() {
		t.Errorf("lesson state after quitting = %+v, want offset 5 and unread", st)
	}
	if d.Last != (progress.Position{Screen: "lesson", ID: "long-lesson"}) {
		t.Errorf("last position = %+v", d.Last)
	}

	// Reopening returns to the same place.
	tm = f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "enter")
	waitFor(t, tm, "Section 2")
	if again := finalScreen(t, tm); again != screen {
		t.Errorf("reopened lesson is not where it was left:\n%s", again)
	}
}

func TestLessonEndMarksRead(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, true)
	waitFor(t, tm, "Next:")
	press(tm, "enter")
	waitFor(t, tm, "Section 1")
	press(tm, "G")
	waitFor(t, tm, "kubectl get pods")
	press(tm, "esc")
	waitFor(t, tm, "1 of 6 done")
	golden.RequireEqual(t, finalScreen(t, tm))
	reopened, _, err := progress.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := reopened.Snapshot().Lessons["long-lesson"]; !st.ReadAt.Equal(testNow) {
		t.Errorf("lesson not saved as read after reaching its end: %+v", st)
	}
}

func TestLessonRewrapsOnResize(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 120, 30, false)
	waitFor(t, tm, "Next:")
	press(tm, "enter")
	waitFor(t, tm, "Section 1")
	tm.Send(tea.WindowSizeMsg{Width: 50, Height: 20})
	waitUntil(t, tm, "the lesson re-wrapped to 50 columns", func(screen string) bool {
		// The keys continue on the next line, none cut with "…".
		return strings.Contains(screen, "\n n/→ next lesson • esc back") && strings.Contains(screen, "smallest")
	})
	screen := finalScreen(t, tm)
	for i, line := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(line); w > 50 {
			t.Errorf("line %d is %d cells wide after resizing to 50: %q", i, w, line)
		}
	}
	golden.RequireEqual(t, screen)
}

// displayIndex finds where the shuffle put an authored option for the test
// learner's first attempt.
func displayIndex(t *testing.T, q *quiz.Quiz, question, option int) int {
	a := quiz.NewAttempt(q, quiz.Seed(testLearner, q.ID, 1))
	for i, o := range a.Order[question] {
		if o == option {
			return i
		}
	}
	t.Fatalf("option %d not shown", option)
	return -1
}

func TestQuizRightThenWrong(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		name := "color"
		if noColor {
			name = "no_color"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			q, _ := f.course.Quiz("intro")
			tm := f.start(t, 80, 24, noColor)
			waitFor(t, tm, "Next:")
			press(tm, "j", "j", "enter") // the quiz row is third in module 1
			waitFor(t, tm, "Question 1 of 3")

			// Right: pick "A node" by its displayed number.
			right := displayIndex(t, q, 0, 0)
			press(tm, answerKey(right))
			waitFor(t, tm, "Correct.")
			press(tm, "enter")
			waitFor(t, tm, "Question 2 of 3")

			// Wrong: a plausible but wrong free-text answer.
			tm.Type("kubeadm")
			press(tm, "enter")
			waitFor(t, tm, "Not quite.")
			golden.RequireEqual(t, finalScreen(t, tm))
		})
	}
}

func TestQuizScoreIsSaved(t *testing.T) {
	f := newFixture(t)
	q, _ := f.course.Quiz("intro")
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, answerKey(displayIndex(t, q, 0, 1))) // wrong: "A pod"
	waitFor(t, tm, "Not quite.")
	press(tm, "enter")
	waitFor(t, tm, "Question 2 of 3")
	tm.Type(" KubeCtl ")
	press(tm, "enter")
	waitFor(t, tm, "Correct.")
	press(tm, "enter")
	waitFor(t, tm, "Question 3 of 3")
	// Tick etcd and kube-scheduler, then answer.
	press(tm, answerKey(displayIndex(t, q, 2, 0)), answerKey(displayIndex(t, q, 2, 1)), "enter")
	waitFor(t, tm, "Correct.")
	press(tm, "enter")
	waitFor(t, tm, "You answered")
	golden.RequireEqual(t, finalScreen(t, tm))

	st := f.store.Snapshot().Quizzes["intro"]
	if len(st.Attempts) != 1 || st.BestPercent != 66 || !st.Passed {
		t.Errorf("saved quiz state = %+v, want one attempt at 66%% passed", st)
	}
}

func TestQuizLeaveNeedsConfirmation(t *testing.T) {
	f := newFixture(t)
	q, _ := f.course.Quiz("intro")
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, answerKey(displayIndex(t, q, 0, 0)), "enter")
	waitFor(t, tm, "Question 2 of 3")
	press(tm, "esc")
	waitFor(t, tm, "Leave the quiz?")
	press(tm, "esc")
	waitFor(t, tm, "Next:")
	if st := f.store.Snapshot().Quizzes["intro"]; len(st.Attempts) != 0 {
		t.Errorf("an abandoned attempt was recorded: %+v", st)
	}
	finalScreen(t, tm)
}

// q types into a free-text answer instead of quitting.
func TestTypingQDoesNotQuit(t *testing.T) {
	f := newFixture(t)
	q, _ := f.course.Quiz("intro")
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, answerKey(displayIndex(t, q, 0, 0)), "enter")
	waitFor(t, tm, "Question 2 of 3")
	tm.Type("qq")
	waitFor(t, tm, "qq")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	m := finalApp(t, tm)
	if got := m.quiz.input.Value(); got != "qq" {
		t.Errorf("input = %q, want the typed q's", got)
	}
}

// One key means one thing on every screen: a key bound on two screens
// has the same help text on both.
func TestKeysMeanOneThing(t *testing.T) {
	k := DefaultKeyMap()
	screens := map[string][]key.Binding{
		"lesson": {k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.NextLesson, k.PrevLesson, k.LessonTerms, k.CheatSheet, k.Glossary, k.Back, k.Quit, k.Help},
		"lab":    {k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Hint, k.Solution, k.Reset, k.Shell, k.Map, k.Answer, k.ClusterUp, k.CheatSheet, k.Glossary, k.Back, k.Quit, k.Help},
		"home":   {k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Open, k.ClusterUp, k.CheatSheet, k.Glossary, k.Quit, k.Help},
	}
	meaning := map[string]string{}
	for screen, bs := range screens {
		for _, b := range bs {
			for _, key := range b.Keys() {
				was, ok := meaning[key]
				if ok && was != b.Help().Desc {
					t.Errorf("%s means %q on the %s screen and %q elsewhere", key, b.Help().Desc, screen, was)
				}
				meaning[key] = b.Help().Desc
			}
		}
	}
}
