package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/workshop"
)

var classT0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func class() workshop.Table {
	failing := []checks.TaskResult{{ID: "scale", Status: checks.Fail, Checks: []checks.CheckResult{{Name: "replicas",
		Status: checks.Fail, Messages: []string{"deployment web has 3 replicas; the task asks for 5, so scale it with kubectl scale and watch the rollout finish"}}}}}
	return workshop.Table{Workshop: "kubecon", At: classT0, Labs: []string{"explore-cluster", "deployments", "rolling-updates"}, Rows: []workshop.Row{
		{Learner: "ada", Score: 1, MaxScore: 4, Cells: []workshop.Cell{{Lab: "explore-cluster", State: workshop.NotGraded},
			{Lab: "deployments", State: workshop.InProgress, Score: 1, MaxScore: 2, Failing: "scale", FailingSince: classT0.Add(-20 * time.Minute), Tasks: failing},
			{Lab: "rolling-updates", State: workshop.NotStarted, MaxScore: 2}}},
		{Learner: "bob", Score: 4, MaxScore: 4, Cells: []workshop.Cell{{Lab: "explore-cluster", State: workshop.NotGraded},
			{Lab: "deployments", State: workshop.Passed, Score: 2, MaxScore: 2}, {Lab: "rolling-updates", State: workshop.Passed, Score: 2, MaxScore: 2}}},
		{Learner: "cy", Score: 1, MaxScore: 4, Cells: []workshop.Cell{{Lab: "explore-cluster", State: workshop.NotGraded},
			{Lab: "deployments", State: workshop.InProgress, Score: 1, MaxScore: 2, Failing: "scale", FailingSince: classT0.Add(-2 * time.Minute), Tasks: failing},
			{Lab: "rolling-updates", State: workshop.NotStarted, MaxScore: 2}}},
	}}
}

func pressClass(m *ClassView, k string) {
	var msg tea.KeyPressMsg
	switch k {
	case "enter":
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "down":
		msg = tea.KeyPressMsg{Code: tea.KeyDown}
	default:
		msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
	}
	m.Update(msg)
}

func learners(m *ClassView) string {
	var names []string
	for _, r := range m.rows {
		names = append(names, r.Learner)
	}
	return strings.Join(names, ",")
}

func TestSortsByProgressThenStuck(t *testing.T) {
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(ClassTableMsg{Table: class()})
	if got := learners(m); got != "bob,ada,cy" {
		t.Errorf("by progress: %s", got)
	}
	pressClass(m, "s")
	if got := learners(m); got != "ada,cy,bob" {
		t.Errorf("by stuck: %s", got)
	}
	if !strings.Contains(m.render(), "deployments/scale 20m") {
		t.Errorf("the stuck column does not show how long:\n%s", m.render())
	}
}

func TestDetailShowsFailingMessagesWithinTheScreen(t *testing.T) {
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 40})
	m.Update(ClassTableMsg{Table: class()})
	pressClass(m, "down") // ada, after bob
	pressClass(m, "enter")
	out := m.render()
	if !strings.Contains(out, "ada · 1 of 4 points") {
		t.Errorf("detail is not ada's:\n%s", out)
	}
	if !strings.Contains(ansi.Strip(out), "watch the rollout finish") {
		t.Errorf("the failing message is cut:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line of %d columns: %q", w, line)
		}
	}
}

func TestTableFitsEightyColumns(t *testing.T) {
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(ClassTableMsg{Table: class()})
	for _, line := range strings.Split(m.render(), "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line of %d columns: %q", w, line)
		}
	}
}
