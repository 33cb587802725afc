package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/lessons"
)

// harness runs one component as a program of its own, so that each part
// of the lab page is drawn and golden-tested alone at 80×24.
type harness struct{ c component }

// harnessDone ends the program once every message before it is handled.
type harnessDone struct{}

func (h *harness) Init() tea.Cmd { return nil }

func (h *harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.c.SetSize(msg.Width, msg.Height)
		return h, nil
	case harnessDone:
		return h, tea.Quit
	}
	return h, h.c.Update(msg)
}

func (h *harness) View() tea.View { return tea.NewView(h.c.View()) }

// drawComponent sends msgs to c in an 80×24 program and returns its last
// frame as plain text.
func drawComponent(t *testing.T, c component, msgs ...tea.Msg) string {
	t.Helper()
	tm := teatest.NewTestModel(t, &harness{c: c}, teatest.WithInitialTermSize(80, 24))
	for _, m := range msgs {
		tm.Send(m)
	}
	tm.Send(harnessDone{})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(testLimit)).(*harness)
	lines := strings.Split(ansi.Strip(final.c.View()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// labPageData is the first test lab with a failing and a missing task.
func labPageData(t *testing.T) *labData {
	f := newFixture(t)
	c := &common{ctx: context.Background(), course: f.course, store: f.store, renderer: lessons.NewRenderer(),
		now: func() time.Time { return testNow }, keys: DefaultKeyMap(), styles: NewStyles(true, true)}
	lab, ok := f.course.Lab("first-lab")
	if !ok {
		t.Fatal("no first-lab in the test course")
	}
	res := labResult(checks.Fail, checks.Missing)
	return &labData{c: c, lab: lab, result: &res, answers: map[string]string{}}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

func TestLabComponents(t *testing.T) {
	t.Run("tasks", func(t *testing.T) {
		d := labPageData(t)
		out := drawComponent(t, &taskList{d: d}, keyPress("down"))
		if d.cursor != 1 {
			t.Errorf("cursor = %d after down, want 1", d.cursor)
		}
		golden.RequireEqual(t, out)
	})
	t.Run("goal", func(t *testing.T) {
		d := labPageData(t)
		g := newGoalPane(d)
		g.SetSize(80, 24)
		rendered := g.render()()
		golden.RequireEqual(t, drawComponent(t, g, rendered))
	})
	t.Run("map", func(t *testing.T) {
		m := newMapPane(labPageData(t).c)
		v := view(3, 2, 1, 1)
		m.show(&v)
		golden.RequireEqual(t, drawComponent(t, m))
	})
	t.Run("timeline", func(t *testing.T) {
		p := newTimelinePane(labPageData(t).c)
		p.show(scaleTimeline(), true)
		// Newest first, each step wrapped to the right of its offset:
		// nothing is cut at 80 columns.
		out := drawComponent(t, p)
		for _, l := range strings.Split(out, "\n") {
			if ansi.StringWidth(l) > 80 {
				t.Errorf("line wider than 80 columns: %q", l)
			}
		}
		golden.RequireEqual(t, out)
	})
	t.Run("answer", func(t *testing.T) {
		a := newLabAnswer(DefaultKeyMap())
		a.edit("42")
		// A first key replaces the selected answer; enter hands it on.
		out := drawComponent(t, a, keyPress("7"), keyPress("3"))
		if !strings.Contains(out, "answer › 73") || strings.Contains(out, "42") {
			t.Errorf("answer box = %q, want 73 replacing 42", out)
		}
		golden.RequireEqual(t, out)
		if msg := a.Update(keyPress("enter"))(); msg != (answerSubmittedMsg{"73"}) || a.open {
			t.Errorf("enter gave %v (open %v), want the answer 73 submitted", msg, a.open)
		}
	})
}
