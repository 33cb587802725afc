package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterview"
)

// rollout is a result where create-web fails only because its rollout is
// under way, as rolloutComplete words it, and scale fails for real with
// two long messages.
func rolloutResult(createMsg string, settling bool) checks.LabResult {
	r := labResult(checks.Fail, checks.Fail)
	r.Tasks[0].Checks = []checks.CheckResult{{Name: "rolled out", Status: checks.Fail, Messages: []string{createMsg}, Settling: settling}}
	r.Tasks[0].Settling = settling
	r.Tasks[1].Checks = []checks.CheckResult{
		{Name: "five replicas", Status: checks.Fail, Messages: []string{"deployment web asks for 3 replicas, but this task wants 5: scale it with kubectl scale deployment/web --replicas=5 and watch the new pods start"}},
		{Name: "label", Status: checks.Fail, Messages: []string{"deployment web has no label tier=frontend on its pod template; add it so that the service in the next task selects its pods"}},
	}
	return r
}

// A task whose only failure is a rollout in progress says "settling", not
// ✗; a task done earlier that a later change undid keeps its ✓ with a
// note; every failing message shows in full, wrapped, in the detail pane.
func TestLabSettlingVersusNotDone(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"140x40", 140, 40}} {
		t.Run(size.name, func(t *testing.T) { testSettling(t, size.w, size.h) })
	}
}

func testSettling(t *testing.T, w, h int) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, w, h, false)
	waitFor(t, tm, "checking")

	labs.results <- rolloutResult("deployment web: Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...; the rollout is still in progress", true)
	waitFor(t, tm, "◌ Create deployment web  settling…")
	screen := tm.last.Load().(string)
	if strings.Contains(screen, "✗ Create deployment web") {
		t.Errorf("a settling task shows ✗:\n%s", screen)
	}
	waitFor(t, tm, "Settling: the cluster is still carrying out your change")

	// On the failing task every message shows, wrapped within 80 columns.
	press(tm, "j")
	waitFor(t, tm, "Not done yet:")
	waitFor(t, tm, "tier=frontend")
	waitFor(t, tm, "watch the new pods start")
	waitFor(t, tm, "## Scale to five")
	golden.RequireEqual(t, []byte(tm.last.Load().(string)))

	// Done, then undone by a later change: the ✓ stays, with a note.
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitFor(t, tm, "1 of 2 tasks done")
	// Settling after a pass still counts as done.
	labs.results <- rolloutResult("deployment web: 3 of 5 updated replicas are available; the rollout is still in progress", true)
	waitFor(t, tm, "◌ Create deployment web  settling…")
	waitFor(t, tm, "1 of 2 tasks done")
	labs.results <- rolloutResult("deployment web needs 3 replicas", false)
	press(tm, "k")
	waitFor(t, tm, "✓ Create deployment web  done · changed since")
	waitFor(t, tm, "Done earlier. A later change")
	waitFor(t, tm, "1 of 2 tasks done")
	screen = finalScreen(t, tm)
	for i, line := range strings.Split(screen, "\n") {
		if lw := ansi.StringWidth(line); lw > w {
			t.Errorf("line %d is %d cells wide: %q", i, lw, line)
		}
	}
}

// At 80 columns the lab's help shows every key, on three lines.
func TestLabHelpAt80Columns(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }, Labs: labs, Map: &fakeMap{views: make(chan clusterview.View)}})
	tm := f.startApp(t, app, 80, 24)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "enter")
	waitFor(t, tm, "graded live")
	for _, want := range []string{"h hint", "S solution", "t shell", "m map", "R reset lab", "esc back", "? more keys", "K kubectl cheat sheet", "/ glossary"} {
		waitFor(t, tm, want)
	}
	finalScreen(t, tm)
}

// The reference solution is broken at spaces with shell continuations,
// never inside a token, even in a narrow window.
func TestLabSolutionWrapsAtSpaces(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 48, 24, false)
	waitFor(t, tm, "graded live")
	press(tm, "S", "y")
	waitFor(t, tm, "Reference solution")
	screen := finalScreen(t, tm)
	var cmd []string
	in := false
	for _, line := range strings.Split(screen, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "kubectl create") {
			in = true
		}
		if in {
			cmd = append(cmd, strings.TrimSuffix(l, " \\"))
			if !strings.HasSuffix(l, "\\") {
				break
			}
		}
	}
	const want = "kubectl create deployment web --image=nginx:1.27 --replicas=3"
	if got := strings.Join(cmd, " "); got != want || len(cmd) < 2 {
		t.Errorf("solution lines %q join to %q; want %q over several lines", cmd, got, want)
	}
}

// S on a question task says why there is nothing to show.
func TestLabSolutionOnQuestionSaysWhy(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := openQuestionLab2(t, f, labs)
	waitFor(t, tm, "press a to answer")
	press(tm, "S")
	waitFor(t, tm, "This task is a question, so there are no commands to show.")
	finalScreen(t, tm)
}

// A missing object that two checks report in two word orders is listed
// once; different objects each keep their line.
func TestFailureMessagesSaidOnce(t *testing.T) {
	r := &checks.TaskResult{Status: checks.Missing, Checks: []checks.CheckResult{
		{Name: "a", Status: checks.Missing, Messages: []string{"deployment db in namespace lab-x not found", "service db in namespace lab-x not found"}},
		{Name: "b", Status: checks.Missing, Messages: []string{"deployment db not found in namespace lab-x", "service backend not found in namespace lab-x"}},
	}}
	got := failureMessages(r)
	want := []string{"deployment db in namespace lab-x not found", "service db in namespace lab-x not found", "service backend not found in namespace lab-x"}
	if !slices.Equal(got, want) {
		t.Errorf("messages = %q, want %q", got, want)
	}
}
