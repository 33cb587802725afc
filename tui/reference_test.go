package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/course"
)

var sizes = []struct {
	name string
	w, h int
}{{"80x24", 80, 24}, {"120x40", 120, 40}}

// checkFits fails on a line wider than the window or cut with "…".
func checkFits(t *testing.T, screen string, width int) {
	t.Helper()
	for i, line := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Errorf("line %d is %d cells wide: %q", i, w, line)
		}
		if strings.HasSuffix(line, "…") {
			t.Errorf("line %d is cut: %q", i, line)
		}
	}
}

// The cheat sheet opens with K, scrolls, and q takes the learner back to
// the screen they were on instead of quitting.
func TestCheatSheet(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			tm := f.start(t, size.w, size.h, false)
			waitFor(t, tm, "Next:")
			home := tm.last.Load().(string)
			press(tm, "K")
			waitFor(t, tm, "kubectl get pods -l app=web")
			checkFits(t, tm.last.Load().(string), size.w)
			press(tm, "G")
			waitFor(t, tm, "kubectl exec -it POD -- sh")
			press(tm, "q")
			waitUntil(t, tm, "the home screen again", func(s string) bool { return s == home })
			press(tm, "K")
			waitFor(t, tm, "kubectl get pods -l app=web")
			golden.RequireEqual(t, finalScreen2(t, tm))
		})
	}
}

// finalScreen2 quits from a screen where q does not quit.
func finalScreen2(t *testing.T, tm *session) string {
	t.Helper()
	screen := tm.last.Load().(string)
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	finalApp(t, tm)
	return screen
}

// K opens the cheat sheet from every screen that is not taking typed text,
// and esc returns to that screen as it was; in a text box K is a letter.
func TestCheatSheetFromEveryScreen(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitFor(t, tm, "checking")
	labs.results <- labResult(checks.Fail, checks.Missing)
	waitFor(t, tm, "deployment web needs 3 replicas")

	// Over the lab, which keeps grading underneath.
	press(tm, "K")
	waitFor(t, tm, "k8slab · kubectl cheat sheet")
	labs.results <- labResult(checks.Pass, checks.Fail)
	waitUntil(t, tm, "the lab recording the pass underneath", func(string) bool {
		return !f.store.Snapshot().Labs["first-lab"].Tasks["create-web"].PassedAt.IsZero()
	})
	if !strings.Contains(tm.last.Load().(string), "k8slab · kubectl cheat sheet") {
		t.Fatal("the cheat sheet closed by itself")
	}
	press(tm, "esc")
	waitFor(t, tm, "1 of 2 tasks done")

	// Over a lesson, keeping its place.
	press(tm, "esc")
	waitFor(t, tm, "Next:")
	press(tm, "g", "enter")
	waitFor(t, tm, "Section 1")
	press(tm, "j", "j", "j", "j", "j")
	waitFor(t, tm, "14%") // all five lines scrolled
	lesson := tm.last.Load().(string)
	press(tm, "K")
	waitFor(t, tm, "k8slab · kubectl cheat sheet")
	press(tm, "K") // the same key closes it
	waitUntil(t, tm, "the lesson where it was", func(s string) bool { return s == lesson })

	// Over a quiz question with options, and not in a typed answer.
	press(tm, "esc")
	waitFor(t, tm, "Next:")
	press(tm, "g", "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, "K")
	waitFor(t, tm, "k8slab · kubectl cheat sheet")
	press(tm, "backspace")
	waitFor(t, tm, "Question 1 of 3")
	q, _ := f.course.Quiz("intro")
	press(tm, answerKey(displayIndex(t, q, 0, 0)), "enter")
	waitFor(t, tm, "Question 2 of 3")
	tm.Type("Kub")
	waitFor(t, tm, "› Kub")
	if strings.Contains(tm.last.Load().(string), "cheat sheet") {
		t.Error("K opened the cheat sheet while typing an answer")
	}
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	finalApp(t, tm)
}

// The glossary searches as the learner types, shows each term's
// definition and lesson, and enter opens that lesson.
func TestGlossarySearchAndOpenLesson(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			tm := f.start(t, size.w, size.h, false)
			waitFor(t, tm, "Next:")
			press(tm, "/")
			waitFor(t, tm, "6 terms")
			checkFits(t, tm.last.Load().(string), size.w)
			// Letters, q and K included, are search text here.
			tm.Type("rep")
			waitFor(t, tm, "2 of 6 terms")
			screen := tm.last.Load().(string)
			// The term that starts with the text comes first, then the one
			// whose definition mentions it.
			if i, j := strings.Index(screen, "› ReplicaSet"), strings.Index(screen, "Deployment\n"); i < 0 || j < i {
				t.Errorf("want ReplicaSet selected, then Deployment:\n%s", screen)
			}
			checkFits(t, screen, size.w)
			golden.RequireEqual(t, screen)
			press(tm, "enter")
			waitFor(t, tm, "k8slab · Next steps › 1/1 More")
			waitFor(t, tm, "More text.")
			// Back from the lesson goes to the course map, on the lesson.
			press(tm, "esc")
			waitFor(t, tm, "› ✓ More") // read: it fits on one screen
			finalScreen(t, tm)
		})
	}
}

func TestGlossaryKeys(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "/")
	waitFor(t, tm, "6 terms")
	tm.Type("qK")
	waitFor(t, tm, "0 of 6 terms")
	waitFor(t, tm, "No term matches “qK”")
	press(tm, "esc") // clears the search first
	waitFor(t, tm, "6 terms")
	press(tm, "down", "down")
	waitFor(t, tm, "› kubectl")
	press(tm, "up")
	waitFor(t, tm, "› Deployment")
	press(tm, "up")
	waitFor(t, tm, "› container")
	press(tm, "enter") // no lesson introduces it
	waitFor(t, tm, "No lesson introduces \"container\"")
	press(tm, "tab")
	waitFor(t, tm, "k8slab · kubectl cheat sheet")
	press(tm, "/")
	waitFor(t, tm, "6 terms")
	press(tm, "esc") // both close back to home
	waitFor(t, tm, "Next:")
	finalScreen(t, tm)
}

// Over a quiz under way, the glossary does not open lessons, which would
// end the attempt.
func TestGlossaryOverQuizKeepsIt(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "enter")
	waitFor(t, tm, "Question 1 of 3")
	press(tm, "/")
	waitFor(t, tm, "6 terms")
	tm.Type("pod")
	waitFor(t, tm, "› pod")
	press(tm, "enter")
	waitFor(t, tm, "A quiz is under way")
	press(tm, "esc", "esc")
	waitFor(t, tm, "Question 1 of 3")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	finalApp(t, tm)
}

// A lesson ends with the glossary terms it introduces, wrapped to the
// window, and t opens the glossary at them.
func TestLessonTermsLine(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			tm := f.start(t, size.w, size.h, false)
			waitFor(t, tm, "Next:")
			press(tm, "enter")
			waitFor(t, tm, "Section 1")
			waitFor(t, tm, "T terms")
			press(tm, "G")
			waitFor(t, tm, "look them up.")
			screen := tm.last.Load().(string)
			if got := strings.Join(strings.Fields(screen), " "); !strings.Contains(got, "Terms introduced here: Deployment, kubectl, pod. Press T to look them up.") {
				t.Errorf("the terms line is not shown whole:\n%s", screen)
			}
			checkFits(t, screen, size.w)
			golden.RequireEqual(t, screen)

			press(tm, "T")
			waitFor(t, tm, "Terms introduced in “A long lesson”")
			waitFor(t, tm, "3 terms")
			screen = tm.last.Load().(string)
			if strings.Contains(screen, "\n   ReplicaSet\n") || strings.Contains(screen, "\n   node\n") {
				t.Errorf("a term of another lesson is listed:\n%s", screen)
			}
			press(tm, "backspace") // all terms
			waitFor(t, tm, "6 terms")
			waitFor(t, tm, "container")
			// Opening the lesson that is already underneath just returns
			// to it, where it was.
			tm.Type("kubectl")
			waitFor(t, tm, "› kubectl")
			press(tm, "enter")
			waitFor(t, tm, "look them up.")
			finalScreen(t, tm)
		})
	}
	// A lesson that introduces no term has no line and no t.
	f := newFixture(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "enter")
	waitFor(t, tm, "Short and sweet.")
	screen := tm.last.Load().(string)
	if strings.Contains(screen, "Terms introduced") || strings.Contains(screen, "T terms") {
		t.Errorf("a lesson with no terms offers them:\n%s", screen)
	}
	finalScreen(t, tm)
}

// Every term of the built-in glossary, with its definition and lesson,
// is shown whole at 80 columns: each word present and no line too wide.
func TestBuiltInGlossaryFits80Columns(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	c := &common{course: builtIn, keys: DefaultKeyMap(), styles: NewStyles(true, false)}
	s := newGlossaryScreen(c)
	s.SetSize(80, 20)
	s.open(nil, "")
	text := ansi.Strip(strings.Join(s.lines, "\n"))
	for i, line := range strings.Split(text, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, line)
		}
	}
	// Words are compared with their spacing normalised, and a line broken
	// after a hyphen ("control-" / "plane") joined again.
	norm := func(s string) string { return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "- ", "-") }
	flat := norm(text)
	for _, term := range builtIn.Glossary {
		want := term.Term + " " + term.Definition
		if term.See != nil {
			want += " ↳ " + term.See.Title + " (" + builtIn.ModuleOf(term.See).Title + ")"
		}
		if !strings.Contains(flat, norm(want)) {
			t.Errorf("%q is not shown whole", term.Term)
		}
	}
	// A wrapped lesson line hangs under the lesson's title.
	if !strings.Contains(text, "   ↳ Autoscaling with the HorizontalPodAutoscaler (Health, resources and\n     autoscaling)") {
		t.Errorf("the long lesson line does not hang:\n%s", text)
	}
}

// Opening a lesson from the glossary over a lab leaves the lab as its own
// esc would: its watch stops.
func TestGlossaryOverLabOpensLessonAndStopsLab(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, false)
	waitUntil(t, tm, "the lab's watch", func(string) bool { return labs.active.Load() == 1 })
	press(tm, "/")
	waitFor(t, tm, "6 terms")
	tm.Type("node")
	waitFor(t, tm, "› node")
	press(tm, "enter")
	waitFor(t, tm, "k8slab · Next steps › 1/1 More")
	waitUntil(t, tm, "the watch stopped", func(string) bool { return labs.active.Load() == 0 })
	finalScreen(t, tm)
}

// A course with neither a glossary nor a cheat sheet (both optional)
// offers neither key, and the keys do nothing.
func TestNoReferenceNoKeys(t *testing.T) {
	f := newFixture(t)
	f.course.Glossary, f.course.CheatSheet = nil, nil
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "K", "/", "enter")
	waitFor(t, tm, "Section 1")
	press(tm, "G")
	waitFor(t, tm, "kubectl get pods -o wide")
	screen := tm.last.Load().(string)
	for _, unwanted := range []string{"cheat sheet", "glossary", "T terms", "Terms introduced"} {
		if strings.Contains(screen, unwanted) {
			t.Errorf("the screen offers %q:\n%s", unwanted, screen)
		}
	}
	finalScreen(t, tm)
}
