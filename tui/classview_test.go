package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

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

// courseLabs are the built-in course's labs in order: more than fit in
// 80 or 120 columns.
var courseLabs = []string{"explore-cluster", "kubectl-and-yaml", "pods", "declarative", "deployments", "rolling-updates",
	"services", "configuration", "health", "storage", "dynamic-provisioning", "scheduling", "fix-workloads", "fix-traffic", "three-tier"}

// wideClass is a class of the whole course: ada is stuck on deployments,
// bob has made a Service with the wrong port in services (started), cy
// has finished the last lab.
func wideClass() workshop.Table {
	failing := []checks.TaskResult{{ID: "scale", Status: checks.Fail, Checks: []checks.CheckResult{{Name: "replicas",
		Status: checks.Fail, Messages: []string{"deployment web has 3 replicas; the task asks for 5"}}}}}
	tb := workshop.Table{Workshop: "kubecon", At: classT0, Labs: courseLabs}
	for _, l := range []string{"ada", "bob", "cy"} {
		row := workshop.Row{Learner: l}
		for _, lab := range courseLabs {
			c := workshop.Cell{Lab: lab, State: workshop.NotStarted, MaxScore: 2}
			switch {
			case lab == "explore-cluster":
				c = workshop.Cell{Lab: lab, State: workshop.NotGraded}
			case l == "ada" && lab == "deployments":
				c = workshop.Cell{Lab: lab, State: workshop.InProgress, Score: 1, MaxScore: 2, Failing: "scale", FailingSince: classT0.Add(-20 * time.Minute), Tasks: failing}
			case l == "bob" && lab == "services":
				c = workshop.Cell{Lab: lab, State: workshop.Started, MaxScore: 2, Failing: "expose", FailingSince: classT0.Add(-5 * time.Minute)}
			case l == "cy" && lab == "three-tier":
				c = workshop.Cell{Lab: lab, State: workshop.Passed, Score: 2, MaxScore: 2}
			}
			row.Cells = append(row.Cells, c)
			row.Score += c.Score
			row.MaxScore += c.MaxScore
		}
		tb.Rows = append(tb.Rows, row)
	}
	return tb
}

func pressArrow(m *ClassView, code rune, n int) {
	for range n {
		m.Update(tea.KeyPressMsg{Code: code})
	}
}

// headerLabs are the lab columns the table's header shows.
func headerLabs(out string) []string {
	header := strings.Fields(ansi.Strip(strings.Split(out, "\n")[1]))
	var labs []string
	for _, f := range header {
		if f != "learner" && f != "score" && f != "‹" && f != "›" && f != "stuck" && f != "on" {
			labs = append(labs, f)
		}
	}
	return labs
}

// The table shows whole lab columns and marks the side where more are;
// ←/→ bring them in, until every lab has been on screen, at 80 and at 120
// columns. Before, the last labs were cut off and ←/→ did nothing.
func TestClassTableScrollsSideways(t *testing.T) {
	for _, width := range []int{80, 120} {
		m := NewClassView("kubecon", nil, true)
		m.now = func() time.Time { return classT0 }
		m.Update(tea.WindowSizeMsg{Width: width, Height: 24})
		m.Update(ClassTableMsg{Table: wideClass()})
		seen := map[string]bool{}
		for step := 0; step < len(courseLabs); step++ {
			out := m.render()
			for _, line := range strings.Split(out, "\n") {
				if w := ansi.StringWidth(line); w > width {
					t.Errorf("%d columns, step %d: line of %d columns: %q", width, step, w, line)
				}
			}
			labs := headerLabs(out)
			for _, l := range labs {
				seen[strings.TrimSuffix(l, "…")] = true
			}
			header := strings.Split(out, "\n")[1]
			if more := m.col+len(labs) < len(courseLabs); more != strings.Contains(header, "›") {
				t.Errorf("%d columns, step %d: more labs to the right is %v, header %q", width, step, more, header)
			}
			if (m.col > 0) != strings.Contains(header, "‹") {
				t.Errorf("%d columns, step %d: the left mark is wrong, header %q", width, step, header)
			}
			pressArrow(m, tea.KeyRight, 1)
		}
		for _, lab := range courseLabs {
			if !seen[shortLabID(lab)] && !seen[strings.TrimSuffix(shortLabID(lab), "…")] {
				t.Errorf("%d columns: lab %s was never shown (seen %v)", width, lab, seen)
			}
		}
		if !strings.Contains(m.render(), "deployments/scale 20m") {
			t.Errorf("%d columns: scrolled to the end, the stuck column is missing:\n%s", width, m.render())
		}
		pressArrow(m, tea.KeyLeft, len(courseLabs))
		if m.col != 0 || !strings.Contains(headerLabs(m.render())[0], "explore") {
			t.Errorf("%d columns: ← did not bring the first lab back: col %d", width, m.col)
		}
	}
}

func TestClassTableGolden(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"120x24", 120, 24}, {"80x24-scrolled", 80, 24}} {
		t.Run(size.name, func(t *testing.T) {
			m := NewClassView("kubecon", nil, true)
			m.now = func() time.Time { return classT0 }
			m.Update(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			m.Update(ClassTableMsg{Table: wideClass()})
			if strings.HasSuffix(size.name, "scrolled") {
				pressArrow(m, tea.KeyRight, 4)
			}
			golden.RequireEqual(t, trimLines(ansi.Strip(m.render())))
		})
	}
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// A learner who started a lab (objects in its namespace, no task done)
// shows "started", not "-".
func TestClassTableShowsStarted(t *testing.T) {
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 24})
	m.Update(ClassTableMsg{Table: wideClass()})
	for _, line := range strings.Split(ansi.Strip(m.render()), "\n") {
		if strings.HasPrefix(line, "bob") && !strings.Contains(line, "started") {
			t.Errorf("bob's row does not say started: %q", line)
		}
	}
}

// Credentials the cluster rejects (after 'workshop delete') fail every
// task the same way: the detail says so once, not under every task.
func TestClassDetailSaysRejectedCredentialsOnce(t *testing.T) {
	const rejected = "the cluster rejected the credentials while reading pods"
	tb := wideClass()
	for i := range tb.Rows[0].Cells {
		c := &tb.Rows[0].Cells[i]
		c.State = workshop.Broken
		for _, id := range []string{"one", "two", "three"} {
			c.Tasks = append(c.Tasks, checks.TaskResult{ID: id, Status: checks.Forbidden,
				Checks: []checks.CheckResult{{Name: "pods", Status: checks.Forbidden, Messages: []string{rejected}}}})
		}
	}
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.sortBy = byLearner
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 200})
	m.Update(ClassTableMsg{Table: tb})
	pressClass(m, "enter")
	out := m.render()
	if !strings.Contains(out, "ada ·") {
		t.Fatalf("detail is not ada's:\n%s", out)
	}
	if n := strings.Count(out, rejected); n != 1 {
		t.Errorf("the rejected credentials are said %d times:\n%s", n, out)
	}
}

// examClass is wideClass with the class sitting an exam: ada under way,
// bob done early, cy out of time.
func examClass() workshop.Table {
	tb := wideClass()
	start := classT0.Add(-19 * time.Minute)
	exams := []workshop.ExamProgress{
		{Passed: 2, Tasks: 5, Start: start, Deadline: start.Add(time.Hour)},
		{Passed: 5, Tasks: 5, Start: start, Deadline: start.Add(time.Hour), Finished: true},
		{Passed: 1, Tasks: 5, Start: start.Add(-time.Hour), Deadline: start, Finished: true},
	}
	for i := range tb.Rows {
		tb.Rows[i].Exam = &exams[i]
	}
	return tb
}

// The class table shows each learner's exam as tasks passed of tasks
// asked and the time left, in a column that stays when the labs scroll;
// a learner's detail says the same, and no task of the exam.
func TestClassTableShowsExamProgress(t *testing.T) {
	m := NewClassView("kubecon", nil, true)
	m.now = func() time.Time { return classT0 }
	m.sortBy = byLearner
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(ClassTableMsg{Table: examClass()})
	out := trimLines(ansi.Strip(m.render()))
	for _, want := range []string{"exam (left)", "ada     1/28    2/5 41m", "bob     0/28    5/5 over", "cy      2/28    1/5 over"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line of %d columns: %q", w, line)
		}
	}
	golden.RequireEqual(t, out)

	pressArrow(m, tea.KeyRight, 4)
	if !strings.Contains(ansi.Strip(m.render()), "2/5 41m") {
		t.Errorf("the exam column scrolled away with the labs:\n%s", ansi.Strip(m.render()))
	}
	pressClass(m, "enter")
	detail := ansi.Strip(m.render())
	if !strings.Contains(detail, "Exam: 2 of 5 tasks passed, 41m left (until 10:41)") {
		t.Errorf("ada's detail does not say how far her exam is:\n%s", detail)
	}
	// Her practice lab's messages say how to do the task the exam
	// asks too: hidden while it runs, shown once it is over.
	if strings.Contains(detail, "the task asks for 5") || !strings.Contains(detail, "✗ scale") {
		t.Errorf("ada's detail during the exam:\n%s", detail)
	}
	m.now = func() time.Time { return classT0.Add(time.Hour) }
	if detail := ansi.Strip(m.render()); !strings.Contains(detail, "the task asks for 5") {
		t.Errorf("after the exam, ada's detail hides what her practice lacks:\n%s", detail)
	}
}
