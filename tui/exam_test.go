package tui

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// examRecorder keeps the text of the exam's last frame, as recorder does
// for the course, and counts the lab results the exam has taken in: the
// screen hides grades, and a test must not end the exam before its
// result has arrived (it raced the clock on a loaded machine).
type examRecorder struct {
	*ExamApp
	last   *atomic.Value
	graded *atomic.Int32
}

func newExamRecorder(app *ExamApp, last *atomic.Value) examRecorder {
	return examRecorder{app, last, &atomic.Int32{}}
}

func (r examRecorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := r.ExamApp.Update(msg)
	if t, ok := msg.(examTagged); ok {
		msg = t.msg
	}
	if _, ok := msg.(labResultMsg); ok {
		r.graded.Add(1)
		changed.notify()
	}
	return r, cmd
}

func (r examRecorder) View() tea.View {
	v := r.ExamApp.View()
	r.last.Store(examText(r.ExamApp))
	changed.notify()
	return v
}

func examText(a *ExamApp) string {
	lines := strings.Split(ansi.Strip(a.View().Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// examClock is the exam's injected clock: now moves only when the test
// says, and a tick fires only when the test sends one.
type examClock struct {
	now  atomic.Value
	tick chan time.Time
}

func (c *examClock) Now() time.Time                       { return c.now.Load().(time.Time) }
func (c *examClock) After(time.Duration) <-chan time.Time { return c.tick }

// advance moves the clock and lets a second pass; a tick still unread
// is enough, as the screen reads the time when it takes one.
func (c *examClock) advance(d time.Duration) {
	c.now.Store(c.Now().Add(d))
	select {
	case c.tick <- c.Now():
	default:
	}
}

// finishExam ends the exam as a learner does (F, y), waits for the result
// page to show result, then quits and waits for the program, so that its
// watches end with it before the package's leak checks run.
func finishExam(t *testing.T, tm *session, result string) {
	t.Helper()
	press(tm, "F", "y")
	waitFor(t, tm, result)
	press(tm, "q")
	if err := tm.FinalModel(t, teatest.WithFinalTimeout(testLimit)).(examRecorder).Flush(); err != nil {
		t.Fatal(err)
	}
}

func startExam(t *testing.T, f *fixture, labs *fakeLabs, allow ExamAllow) (*session, *examClock) {
	t.Helper()
	return startExamWith(t, f, labs, allow, `eval "$(k8slab cluster env)"`)
}

func startExamWith(t *testing.T, f *fixture, labs *fakeLabs, allow ExamAllow, terminalCommand string) (*session, *examClock) {
	t.Helper()
	lab, ok := f.course.Lab("first-lab")
	if !ok {
		t.Fatal("no first-lab")
	}
	plan, err := exam.Pick([]*labfile.Lab{lab}, 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &examClock{tick: make(chan time.Time, 1)}
	clock.now.Store(testNow)
	app := NewExam(ExamOptions{Course: f.course, Store: f.store, Plan: plan, Limit: 30 * time.Minute, Allow: allow, Labs: labs,
		TerminalCommand: terminalCommand, Now: clock.Now, After: clock.After, NoColor: true})
	last := &atomic.Value{}
	last.Store("")
	rec := newExamRecorder(app, last)
	tm := teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(80, 24))
	return &session{TestModel: tm, last: last, graded: rec.graded}, clock
}

// A workshop learner's command names their kubeconfig and is longer than
// the line beside its label: it goes on a line of its own, whole, so that
// it pastes (it was cut inside --kubeconfig at 80 columns).
func TestExamTerminalCommandIsNeverBroken(t *testing.T) {
	f := newFixture(t)
	command := `eval "$(k8slab cluster env --kubeconfig=/home/sam/kc/learner-01.kubeconfig)"`
	tm, _ := startExamWith(t, f, newFakeLabs(), ExamAllow{}, command)
	waitUntil(t, tm, "the command on a line of its own", func(s string) bool {
		return strings.Contains(s, "\n   "+command+"\n")
	})
	for _, line := range strings.Split(tm.last.Load().(string), "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line of %d columns at 80: %q", w, line)
		}
	}
	waitFor(t, tm, "⏱ 30:00 left")
	finishExam(t, tm, "Score")
}

// An exam sets its lab up afresh, starts the clock once it is ready,
// grades in the background without showing it, flags a task, and when
// time runs out shows the grades with what was wrong and the lessons to
// review, and saves them in progress.
func TestExamScreenAndResult(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm, clock := startExam(t, f, labs, ExamAllow{})
	waitFor(t, tm, "⏱ 30:00 left")
	if labs.resets != 1 {
		t.Errorf("the lab was reset %d times; an exam starts it afresh once", labs.resets)
	}
	if d := f.store.Snapshot(); d.Exam == nil || d.Exam.Deadline != testNow.Add(30*time.Minute) {
		t.Errorf("progress does not mark the exam as running until its deadline: %+v", d.Exam)
	}
	waitUntil(t, tm, "a watch", func(string) bool { return labs.active.Load() == 1 })
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitUntil(t, tm, "the result taken in", func(string) bool { return tm.graded.Load() == 1 })
	press(tm, "j", "l")
	waitFor(t, tm, "⚑ 2.")
	clock.advance(61 * time.Second)
	waitUntil(t, tm, "the clock at 28:59 over task 2's goal", func(s string) bool {
		return strings.Contains(s, "⏱ 28:59 left") && strings.Contains(s, "## Scale to five") && strings.Contains(s, "⚑ 2.")
	})
	screen := tm.last.Load().(string)
	for _, hidden := range []string{"✓", "Reference solution", "kubectl scale"} {
		if strings.Contains(screen, hidden) {
			t.Errorf("the exam screen shows %q without --allow:\n%s", hidden, screen)
		}
	}
	golden.RequireEqual(t, screen)

	clock.advance(30 * time.Minute)
	waitFor(t, tm, "Score 1/2")
	result := tm.last.Load().(string)
	for _, want := range []string{"Time is up.", "✓ 1.", "✗ 2.", "deployment web needs 5 replicas", "Lessons to review", "--seed 3"} {
		if !strings.Contains(result, want) {
			t.Errorf("result page lacks %q:\n%s", want, result)
		}
	}
	t.Run("result", func(t *testing.T) { golden.RequireEqual(t, result) })
	press(tm, "q")
	app := tm.FinalModel(t, teatest.WithFinalTimeout(testLimit)).(examRecorder).ExamApp
	if err := app.Flush(); err != nil {
		t.Fatal(err)
	}
	reopened, _, err := progress.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	d := reopened.Snapshot()
	if d.Exam != nil || len(d.Exams) != 1 || d.Exams[0].Score != 1 || d.Exams[0].Ended != exam.EndedTime || len(d.Exams[0].Tasks[1].Wrong) == 0 {
		t.Errorf("saved exam %+v, marker %v", d.Exams, d.Exam)
	}
}

// With live marks allowed a passed task shows ✓; F asks before ending,
// n keeps the exam going, y ends it as finished.
func TestExamLiveMarksAndFinishAsks(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm, _ := startExam(t, f, labs, ExamAllow{Live: true})
	waitFor(t, tm, "⏱ 30:00 left")
	waitUntil(t, tm, "a watch", func(string) bool { return labs.active.Load() == 1 })
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "✓ 1.")
	press(tm, "F")
	waitFor(t, tm, "Finish the exam now?")
	press(tm, "n")
	waitUntil(t, tm, "the question gone", func(s string) bool { return !strings.Contains(s, "Finish the exam now?") })
	finishExam(t, tm, "Score 1/2 · Finished after")
}

// During an exam, the lab screen of the course refuses the solution.
func TestLabSolutionRefusedDuringExam(t *testing.T) {
	f := newFixture(t)
	if err := f.store.Update(func(d *progress.Data) {
		d.StartExam(progress.ExamMarker{Seed: 9, StartedAt: testNow, Deadline: time.Now().Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	tm := f.startLab(t, newFakeLabs(), 80, 24, true)
	press(tm, "S")
	waitFor(t, tm, "y yes")
	press(tm, "y")
	waitFor(t, tm, "practice exam is running (seed 9")
	if s := tm.last.Load().(string); strings.Contains(s, "Reference solution") {
		t.Errorf("solution shown during an exam:\n%s", s)
	}
	finalScreen(t, tm)
}

// What was still wrong wraps at 80 columns with its lines hanging under
// the text, not under the bullet, so each item reads as one.
func TestExamResultWrapsUnderTheText(t *testing.T) {
	c := &common{keys: DefaultKeyMap(), styles: NewStyles(true, true)}
	r := newExamResult(c, exam.Result{ExamSummary: progress.ExamSummary{Seed: 3, Score: 0, MaxScore: 1, Ended: exam.EndedTime}, Tasks: []exam.Mark{{
		Lab: "deployments", Title: "Watch a pod being replaced", MaxPoints: 1, Status: checks.Fail,
		Wrong: []string{"no pod of deployment web has been replaced yet: delete one with kubectl delete pod web-69c6f74b8b-4bh7l and watch a new one appear"},
	}}})
	r.SetSize(80, 24)
	lines := strings.Split(ansi.Strip(r.draw()), "\n")
	var item []string
	for _, l := range lines {
		if strings.HasPrefix(l, "     • ") || len(item) > 0 && strings.HasPrefix(l, "       ") {
			item = append(item, l)
		}
	}
	if len(item) < 2 || !strings.HasPrefix(item[1], "       ") || strings.HasPrefix(item[1], "        ") {
		t.Errorf("the item does not hang under its text:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
	}
}

// The exam's help, short and full (?), shows every enabled key whole at
// 80 columns and on a narrow terminal, packed as the other screens pack
// theirs: bubbles drops what does not fit, and a cut line ends in "…".
func TestExamHelpKeepsEveryKey(t *testing.T) {
	f := newFixture(t)
	// Everything allowed: the most keys there are.
	tm, _ := startExam(t, f, newFakeLabs(), ExamAllow{Hints: true, Map: true, Live: true})
	waitFor(t, tm, "⏱ 30:00 left")
	press(tm, "?")
	for _, width := range []int{80, 60} {
		tm.Send(tea.WindowSizeMsg{Width: width, Height: 24})
		var screen string
		waitUntil(t, tm, fmt.Sprintf("the full help at %d columns", width), func(s string) bool {
			screen = s
			return strings.Contains(s, "q quit") && ansi.StringWidth(strings.Split(s, "\n")[0]) <= width
		})
		lines := strings.Split(screen, "\n")
		for _, l := range lines[max(0, len(lines)-6):] {
			if strings.HasSuffix(strings.TrimSpace(l), "…") || ansi.StringWidth(l) > width {
				t.Errorf("a line is cut at %d columns: %q", width, l)
			}
		}
		helpText := strings.Join(lines[max(0, len(lines)-6):], "\n")
		for _, want := range []string{"l flag: come back later", "t shell", "h hint", "pgup", "F finish exam", "q quit", "? more keys"} {
			if !strings.Contains(helpText, want) {
				t.Errorf("the exam's full help at %d columns lacks %q:\n%s", width, want, screen)
			}
		}
	}
	finishExam(t, tm, "Score")
}

// A workshop's exam screen names the learner's own exam namespace and,
// once graded, their own nodePort. Before, it said exam-LAB (a namespace
// the learner cannot reach) and 30080 (another learner's port, or none).
func TestWorkshopExamScreenNamesTheLearnersNamespaceAndNodePort(t *testing.T) {
	f := newFixture(t)
	first, ok := f.course.Lab("first-lab")
	if !ok {
		t.Fatal("no first-lab")
	}
	lab := &labfile.Lab{ID: first.ID, Title: first.Title, Module: first.Module, Tasks: slices.Clone(first.Tasks)}
	lab.Tasks[0].Goal += "\n\nExpose it on nodePort " + labfile.NodePortPlaceholder + "."
	plan, err := exam.Pick([]*labfile.Lab{lab}, 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan.Workshop = "w"
	labs := newFakeLabs()
	clock := &examClock{tick: make(chan time.Time, 1)}
	clock.now.Store(testNow)
	app := NewExam(ExamOptions{Course: f.course, Store: f.store, Plan: plan, Limit: 30 * time.Minute, Labs: labs, Start: testNow,
		Namespace: func(l *labfile.Lab) string { return "w-learner-01-exam-" + l.ID },
		Now:       clock.Now, After: clock.After, NoColor: true})
	last := &atomic.Value{}
	last.Store("")
	rec := newExamRecorder(app, last)
	tm := &session{TestModel: teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(80, 24)), last: last, graded: rec.graded}
	waitUntil(t, tm, "the learner's namespace, no nodePort yet", func(s string) bool {
		return strings.Contains(s, "w-learner-01-exam-first-lab") && strings.Contains(s, "your nodePort")
	})
	if s := tm.last.Load().(string); strings.Contains(s, "30080") || strings.Contains(s, "`exam-first-lab`") {
		t.Errorf("a workshop's exam shows the course's namespace or nodePort:\n%s", s)
	}
	waitUntil(t, tm, "a watch", func(string) bool { return labs.active.Load() == 1 })
	res := labResult(checks.Fail, checks.Fail)
	res.NodePort = 30105
	labs.results <- res
	waitFor(t, tm, "nodePort 30105")
	// Ended as a learner ends it, so that its watch ends with it: left
	// running, it failed the package's later leak checks
	// (TestLabStreamsHaveIdentity, TestLabTimeline).
	finishExam(t, tm, "Score")
}
