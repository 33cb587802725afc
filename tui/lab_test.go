package tui

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// fakeLabs streams whatever results the test pushes, as the engine's watch
// would, and records starts and resets.
type fakeLabs struct {
	results chan checks.LabResult
	mu      sync.Mutex
	starts  int
	resets  int
	answers []map[string]string
	// active counts watches running; when ending is set, a cancelled
	// watch ends only once it is closed, as an informer's takes a while.
	active atomic.Int32
	ending chan struct{}
}

func newFakeLabs() *fakeLabs { return &fakeLabs{results: make(chan checks.LabResult, 8)} }

func (f *fakeLabs) Watch(ctx context.Context, lab *labfile.Lab, answers map[string]string, onResult func(checks.LabResult)) error {
	f.mu.Lock()
	f.answers = append(f.answers, answers)
	f.mu.Unlock()
	f.active.Add(1)
	changed.notify()
	defer changed.notify()
	defer f.active.Add(-1)
	for {
		select {
		case <-ctx.Done():
			f.end()
			return nil
		case r := <-f.results:
			// select picks at random among ready cases: a watch already
			// cancelled hands the result on to the one that replaced it,
			// as a real one would stop delivering.
			if ctx.Err() != nil {
				f.results <- r
				f.end()
				return nil
			}
			onResult(r)
		}
	}
}

func (f *fakeLabs) end() {
	if f.ending != nil {
		<-f.ending
	}
}

func (f *fakeLabs) Start(context.Context, *labfile.Lab) error {
	f.mu.Lock()
	f.starts++
	f.mu.Unlock()
	changed.notify()
	return nil
}

func (f *fakeLabs) Reset(context.Context, *labfile.Lab) error {
	f.mu.Lock()
	f.resets++
	f.mu.Unlock()
	changed.notify()
	return nil
}

func (f *fakeLabs) Shell(*labfile.Lab) (*exec.Cmd, error) { return exec.Command("true"), nil }

func labResult(statuses ...checks.Status) checks.LabResult {
	ids := []string{"create-web", "scale"}
	titles := []string{"Create deployment web", "Scale to five"}
	msgs := []string{"deployment web needs 3 replicas", "deployment web needs 5 replicas"}
	r := checks.LabResult{Lab: "first-lab", Title: "First lab", Namespace: "lab-first-lab"}
	for i, st := range statuses {
		tr := checks.TaskResult{ID: ids[i], Title: titles[i], Status: st, MaxPoints: 1}
		cr := checks.CheckResult{Name: "c", Status: st}
		switch st {
		case checks.Fail:
			cr.Messages = []string{msgs[i]}
		case checks.Unreachable:
			cr.Messages = []string{"cannot reach the cluster to read deployments"}
		}
		tr.Checks = []checks.CheckResult{cr}
		r.Tasks = append(r.Tasks, tr)
	}
	return r
}

func (f *fixture) startLab(t *testing.T, labs LabService, w, h int, noColor bool) *session {
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, NoColor: noColor})
	tm := f.startApp(t, app, w, h)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter") // lessons, quiz, then the lab
	waitFor(t, tm, "k8slab · Lab: First lab")
	return tm
}

// The lab screen follows the result stream with no key pressed: failing,
// then an unreachable cluster, then passing.
func TestLabScreenFollowsResults(t *testing.T) {
	for _, size := range []struct {
		name    string
		w, h    int
		noColor bool
	}{{"80x24", 80, 24, false}, {"120x40_no_color", 120, 40, true}} {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			labs := newFakeLabs()
			tm := f.startLab(t, labs, size.w, size.h, size.noColor)
			waitFor(t, tm, "checking")

			labs.results <- labResult(checks.Fail, checks.Missing)
			waitFor(t, tm, "deployment web needs 3 replicas")
			labs.results <- labResult(checks.Unreachable, checks.Unreachable)
			waitFor(t, tm, "cannot reach the cluster")
			labs.results <- labResult(checks.Pass, checks.Fail)
			waitFor(t, tm, "1 of 2 tasks done")
			golden.RequireEqual(t, finalScreen(t, tm))

			d := f.store.Snapshot().Labs["first-lab"].Tasks
			if !d["create-web"].PassedAt.Equal(testNow) || !d["scale"].PassedAt.IsZero() {
				t.Errorf("passes recorded = %+v", d)
			}
		})
	}
}

func TestLabHintsAndSolution(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "Create a deployment named")
	press(tm, "h")
	waitFor(t, tm, "Use kubectl create deployment.")
	if strings.Contains(tm.last.Load().(string), "Hint 2") {
		t.Error("the second hint showed before it was asked for")
	}
	press(tm, "h")
	waitFor(t, tm, "Hint 2")
	press(tm, "S")
	waitFor(t, tm, "Show the reference solution?")
	press(tm, "n")
	waitFor(t, tm, "graded live")
	if f.store.Snapshot().Labs["first-lab"].Tasks["create-web"].SolutionSeen {
		t.Fatal("declining marked the solution as seen")
	}
	press(tm, "S", "y")
	waitFor(t, tm, "Reference solution")
	finalScreen(t, tm)
	st := f.store.Snapshot().Labs["first-lab"].Tasks["create-web"]
	if st.HintsUsed != 2 || !st.SolutionSeen {
		t.Errorf("progress = %+v, want 2 hints and the solution seen", st)
	}
}

func TestLabResetAsksFirst(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	press(tm, "R")
	waitFor(t, tm, "Reset the lab?")
	press(tm, "n")
	waitFor(t, tm, "graded live")
	press(tm, "R", "y")
	waitUntil(t, tm, "the reset", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return labs.resets == 1
	})
	finalScreen(t, tm)
	labs.mu.Lock()
	defer labs.mu.Unlock()
	if labs.resets != 1 || labs.starts != 1 {
		t.Errorf("starts %d, resets %d; want 1 and 1 (one declined)", labs.starts, labs.resets)
	}
}

// failingStart fails to start the lab until a cluster exists.
type failingStart struct {
	*fakeLabs
	cluster *fakeCluster
}

func (f *failingStart) Start(ctx context.Context, lab *labfile.Lab) error {
	f.cluster.mu.Lock()
	up := f.cluster.up
	f.cluster.mu.Unlock()
	f.fakeLabs.Start(ctx, lab)
	if !up {
		return errors.New("loading kubeconfig: no configuration has been provided")
	}
	return nil
}

// Without a cluster the lab screen says so and offers to create one; once
// it is up the lab starts by itself.
func TestLabWithoutClusterOffersToCreateOne(t *testing.T) {
	f := newFixture(t)
	cluster := &fakeCluster{release: make(chan struct{})}
	labs := &failingStart{fakeLabs: newFakeLabs(), cluster: cluster}
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, Cluster: cluster})
	tm := f.startApp(t, app, 100, 30)
	waitFor(t, tm, "press c to create one")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "No lab cluster is running. Press c to create one")
	waitFor(t, tm, "Create deployment web  not graded: no cluster")
	press(tm, "c")
	waitFor(t, tm, "Starting the control plane…")
	close(cluster.release)
	waitFor(t, tm, "0 of 2 tasks done · graded live")
	finalScreen(t, tm)
	labs.mu.Lock()
	defer labs.mu.Unlock()
	if labs.starts != 2 {
		t.Errorf("lab started %d times, want a failed start and one after the cluster came up", labs.starts)
	}
}

// A question task takes a typed answer, and grading restarts with it; q
// typed into the answer does not quit.
func TestLabQuestionAnswer(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "j", "j", "enter")
	waitFor(t, tm, "k8slab · Lab: Question lab")
	waitFor(t, tm, "press a to answer")
	press(tm, "a")
	waitFor(t, tm, "answer ›")
	tm.Type("q3")
	press(tm, "enter")
	waitUntil(t, tm, "grading with the answer", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return len(labs.answers) >= 2
	})
	finalScreen(t, tm)
	labs.mu.Lock()
	defer labs.mu.Unlock()
	if len(labs.answers) != 2 || labs.answers[1]["count-nodes"] != "q3" {
		t.Errorf("watches started with answers %v; want a restart with count-nodes=q3", labs.answers)
	}
}

// Finishing every task celebrates modestly and points to what comes next.
func TestLabCompletionSummary(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	app := New(Options{Course: f.course, Store: f.store, Now: clock, Labs: labs})
	tm := f.startApp(t, app, 100, 30)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	press(tm, "h")
	waitFor(t, tm, "Hint 1")
	press(tm, "j", "S", "y")
	waitFor(t, tm, "Reference solution")
	now.Add(int64(2 * time.Minute))
	labs.results <- labResult(checks.Pass, checks.Pass)
	// "Next" is the course map's: the first item not done after this
	// lab, not the unread first lesson the learner skipped (#22).
	waitFor(t, tm, "Lab complete in 2m0s with 1 hint and 1 solution viewed. Well done! Next: More")
	if screen := tm.last.Load().(string); strings.Contains(screen, "last lab") {
		t.Errorf("the summary calls this the last lab while the question lab is unfinished:\n%s", screen)
	}
	// The course map says the same.
	press(tm, "esc")
	waitFor(t, tm, "Next: More")
	finalScreen(t, tm)

	// Reopened later, the lab tells the same story: the time comes from
	// progress, not from when the screen opened.
	now.Add(int64(time.Hour))
	labs = newFakeLabs()
	app = New(Options{Course: f.course, Store: f.store, Now: clock, Labs: labs, Start: progress.Position{Screen: "lab", ID: "first-lab"}})
	tm = f.startApp(t, app, 100, 30)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Pass, checks.Pass)
	waitFor(t, tm, "Lab complete in 2m0s with 1 hint and 1 solution viewed.")
	finalScreen(t, tm)

	// With every other lab done, it says this was the last.
	f.store.Apply(func(d *progress.Data) {
		d.UpdateTask("question-lab", "count-nodes", func(ts *progress.TaskState) { ts.PassedAt = testNow })
	})
	labs = newFakeLabs()
	app = New(Options{Course: f.course, Store: f.store, Now: clock, Labs: labs, Start: progress.Position{Screen: "lab", ID: "first-lab"}})
	tm = f.startApp(t, app, 100, 30)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Pass, checks.Pass)
	waitFor(t, tm, "That was the last lab of the")
	finalScreen(t, tm)
}

// A task that needs a feature the simulated cluster lacks says so there,
// and only there.
func TestTaskFeatureNoteOnlyOnSim(t *testing.T) {
	need := []labfile.Feature{labfile.NodePortFromHost, labfile.Containers}
	sim := &labData{provider: "sim"}
	if got := sim.missing(need); !strings.Contains(got, "NodePort") || !strings.Contains(got, "containers") {
		t.Errorf("sim note = %q, want both features named", got)
	}
	if got := sim.missing(nil); got != "" {
		t.Errorf("a task without features got a note: %q", got)
	}
	if got := (&labData{provider: "kind"}).missing(need); got != "" {
		t.Errorf("kind got a note: %q", got)
	}
}

// A workshop learner, who may not change cluster-wide objects, is told so
// under such a task's goal; nobody else is.
func TestClusterWideTaskNoteOnlyInWorkshops(t *testing.T) {
	task := &labfile.Task{ID: "label-worker", Features: []labfile.Feature{labfile.ClusterWide}}
	if got := (&labData{provider: "kind", workshop: true}).taskNotes(task); !strings.Contains(got, "In this workshop") {
		t.Errorf("workshop note = %q", got)
	}
	for _, s := range []*labData{{provider: "kind"}, {provider: "sim"}} {
		if got := s.taskNotes(task); got != "" {
			t.Errorf("outside a workshop (%s) the task got a note: %q", s.provider, got)
		}
	}
	if got := (&labData{provider: "kind", workshop: true}).taskNotes(&labfile.Task{ID: "t"}); got != "" {
		t.Errorf("an ordinary task got a workshop note: %q", got)
	}
}

// A workshop learner is not on the machine that runs the cluster: a task
// reaching a NodePort from it says so, on kind and on the simulator alike,
// once (not also the simulator's "do it on a kind cluster").
func TestNodePortTaskNoteInWorkshops(t *testing.T) {
	task := &labfile.Task{ID: "reach-nodeport", Features: []labfile.Feature{labfile.NodePortFromHost}}
	for _, provider := range []string{"kind", "sim"} {
		got := (&labData{provider: provider, workshop: true}).taskNotes(task)
		if !strings.Contains(got, "In this workshop:** this task reaches a NodePort") || strings.Contains(got, "kind cluster") {
			t.Errorf("workshop on %s: note = %q", provider, got)
		}
	}
	if got := (&labData{provider: "kind"}).taskNotes(task); got != "" {
		t.Errorf("outside a workshop, on kind, the task got a note: %q", got)
	}
}

// The reset prompt says so when the setup made something outside the
// namespace (a volume), which the learner might not think of as the lab's.
func TestLabResetPromptNamesWhatIsOutsideTheNamespace(t *testing.T) {
	for _, tc := range []struct {
		setup, want string
	}{
		{"", "Its namespace is deleted and set up again."},
		{"apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: ${LAB_NAMESPACE}-data\n",
			"what its setup made outside it"},
	} {
		f := newFixture(t)
		lab, ok := f.course.Lab("first-lab")
		if !ok {
			t.Fatal("no first-lab in the test course")
		}
		lab.Setup = tc.setup
		tm := f.startLab(t, newFakeLabs(), 80, 24, false)
		waitFor(t, tm, "graded live")
		press(tm, "R")
		waitFor(t, tm, tc.want)
		press(tm, "n")
		finalScreen(t, tm)
	}
}

// A reset is a fresh start: a finished lab is no longer complete, and its
// tasks fail as new ones, not as "done · changed since".
func TestLabResetIsAFreshStart(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Pass, checks.Pass)
	waitFor(t, tm, "Lab complete")
	press(tm, "R", "y")
	waitUntil(t, tm, "the reset", func(string) bool {
		labs.mu.Lock()
		defer labs.mu.Unlock()
		return labs.resets == 1
	})
	labs.results <- labResult(checks.Fail, checks.Missing)
	waitFor(t, tm, "deployment web needs 3 replicas")
	screen := finalScreen(t, tm)
	for _, stale := range []string{"changed since", "Done earlier", "Lab complete"} {
		if strings.Contains(screen, stale) {
			t.Errorf("after a reset the screen still says %q", stale)
		}
	}
	golden.RequireEqual(t, screen)
	if st := f.store.Snapshot().Labs["first-lab"].Tasks["create-web"]; !st.PassedAt.IsZero() {
		t.Errorf("progress keeps the pass from before the reset: %+v", st)
	}
}

// longGoals gives the first lab's tasks goals longer than a screen.
func longGoals(f *fixture) {
	lab, _ := f.course.Lab("first-lab")
	var goal strings.Builder
	for i := range 30 {
		fmt.Fprintf(&goal, "Line %d of a long goal.\n\n", i+1)
	}
	lab.Tasks[0].Goal = goal.String()
	lab.Tasks[1].Goal = goal.String()
}

// A hint asked for comes into sight even below a long goal, and asking
// for one more than there are says so.
func TestLabRevealedHintInSight(t *testing.T) {
	f := newFixture(t)
	longGoals(f)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Fail, checks.Fail)
	waitFor(t, tm, "Not done yet")
	press(tm, "h")
	waitFor(t, tm, "Hint 1.")
	press(tm, "h")
	waitFor(t, tm, "Hint 2.")
	press(tm, "h")
	waitFor(t, tm, "No more hints for this task. S shows the reference solution.")
	golden.RequireEqual(t, finalScreen(t, tm))
}

// The solution comes into sight too; moving to another task starts at its
// top, where "Not done yet" is; g and G go to the top and bottom.
func TestLabPaneScrollPerTask(t *testing.T) {
	f := newFixture(t)
	longGoals(f)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Fail, checks.Fail)
	waitFor(t, tm, "Not done yet")
	press(tm, "S", "y")
	waitFor(t, tm, "Reference solution")
	press(tm, "j")
	waitUntil(t, tm, "the second task's top", func(s string) bool {
		return strings.Contains(s, "• deployment web needs 5 replicas") && strings.Contains(s, "## Scale to five")
	})
	press(tm, "G")
	waitFor(t, tm, "Line 30 of a long goal.")
	press(tm, "g")
	waitFor(t, tm, "• deployment web needs 5 replicas")
	// More lies below, and the pane says so.
	waitFor(t, tm, "more lines below · pgdn/space, G for the end")
	finalScreen(t, tm)
}

func (f *fakeLabs) Namespace(lab *labfile.Lab) string { return "lab-" + lab.ID }

// The lab screen names the lab's namespace and the one command that
// points kubectl in the learner's own terminal at it, verbatim: on the
// namespace's line when it fits, else on a line of its own.
func TestLabShowsNamespaceAndTerminalCommand(t *testing.T) {
	for _, tc := range []struct {
		name, flags string
		w, h        int
	}{{"80x24", "", 80, 24}, {"80x24_long_command", " --content=/home/learner/my-course", 80, 24}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			labs := newFakeLabs()
			command := func(lab *labfile.Lab) string {
				return `eval "$(k8slab` + tc.flags + ` cluster env --lab ` + lab.ID + `)"`
			}
			app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, TerminalCommand: command})
			tm := f.startApp(t, app, tc.w, tc.h)
			waitFor(t, tm, "Next:")
			press(tm, "j", "j", "j", "enter")
			want := `eval "$(k8slab` + tc.flags + ` cluster env --lab first-lab)"`
			// A command too long for the line is continued with " \",
			// which the shell joins again.
			waitUntil(t, tm, "the command", func(s string) bool {
				return strings.Contains(regexp.MustCompile(` \\\n +`).ReplaceAllString(s, " "), want)
			})
			waitFor(t, tm, "Namespace lab-first-lab")
			waitFor(t, tm, "graded live")
			golden.RequireEqual(t, finalScreen(t, tm))
		})
	}
}

// The full help (?) at 80x24 shows every key, esc and q included, and
// what the task marks mean.
func TestLabFullHelpAt80x24(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "graded live")
	labs.results <- labResult(checks.Fail, checks.Missing)
	waitFor(t, tm, "deployment web needs 3 replicas")
	press(tm, "?")
	waitFor(t, tm, "✓ done")
	screen := tm.last.Load().(string)
	for _, want := range []string{"esc back", "q quit", "g/home top", "G/end bottom", "t shell", "R reset lab", "✗ not done yet", "· not started", "◌ settling", "… checking"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the full help lacks %q:\n%s", want, screen)
		}
	}
	for i, line := range strings.Split(screen, "\n") {
		if strings.HasSuffix(line, "…") {
			t.Errorf("line %d is cut: %q", i, line)
		}
	}
	golden.RequireEqual(t, finalScreen(t, tm))
}
