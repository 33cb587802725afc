package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/internal/textsafe"
	"github.com/k8slab/k8slab/workshop"
)

// ClassTableMsg delivers a new table from the workshop grader.
type ClassTableMsg struct{ Table workshop.Table }

// ClassErrMsg reports that grading stopped.
type ClassErrMsg struct{ Err error }

// Sort orders of the class table.
const (
	byLearner = iota
	byProgress
	byStuck
	sortCount
)

var sortNames = []string{"learner", "progress", "stuck longest"}

// ClassView is the instructor's live table of a workshop: learners × labs,
// sortable by progress or by how long a learner has been stuck, with a
// learner's failing messages a keypress away. It runs as a program of its
// own (k8slab workshop watch) with the course screens' keys and styles.
type ClassView struct {
	keys    *KeyMap
	styles  *Styles
	help    help.Model
	noColor bool
	name    string
	table   workshop.Table
	rows    []workshop.Row
	sortBy  int
	cursor  int
	// col is the first lab column shown: a class of many labs scrolls
	// sideways rather than cutting its last columns off.
	col    int
	detail bool
	err    error
	width  int
	height int
	now    func() time.Time
	// next asks the grader for the following table (a tea.Cmd that blocks
	// on it); nil in tests.
	next tea.Cmd
}

// NewClassView returns the view; next, when set, is run after every table
// to wait for the next one. noColor is set when NO_COLOR asks for none.
func NewClassView(name string, next tea.Cmd, noColor bool) *ClassView {
	st := NewStyles(true, noColor)
	h := help.New()
	h.Styles = st.Help
	return &ClassView{keys: DefaultKeyMap(), styles: st, help: h, noColor: noColor, name: name, now: time.Now, next: next, sortBy: byProgress}
}

// Init asks for the terminal's background and waits for the first table.
func (m *ClassView) Init() tea.Cmd { return tea.Batch(tea.RequestBackgroundColor, m.next) }

// Update handles tables, errors and keys.
func (m *ClassView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
	case tea.BackgroundColorMsg:
		m.styles = NewStyles(msg.IsDark(), m.noColor)
		m.help.Styles = m.styles.Help
	case ClassTableMsg:
		m.table = msg.Table
		m.resort()
		return m, m.next
	case ClassErrMsg:
		m.err = msg.Err
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *ClassView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Up):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(msg, k.Down):
		m.cursor = min(max(0, len(m.rows)-1), m.cursor+1)
	case key.Matches(msg, k.Sort):
		m.sortBy = (m.sortBy + 1) % sortCount
		m.resort()
	case key.Matches(msg, k.Left) && !m.detail:
		m.col = max(0, m.col-1)
	case key.Matches(msg, k.Right) && !m.detail:
		// The last step leaves one lab column and the stuck column.
		m.col = min(max(0, len(m.table.Labs)-1), m.col+1)
	case key.Matches(msg, k.Open):
		m.detail = !m.detail
	case key.Matches(msg, k.Back):
		m.detail = false
	}
	return nil
}

// ShortHelp and FullHelp make the table a help.KeyMap, so its help bar
// comes from the bindings.
func (m *ClassView) ShortHelp() []key.Binding {
	k := m.keys
	if m.detail {
		return []key.Binding{k.Back, k.Quit}
	}
	if m.col > 0 || m.labColumns(m.width) < len(m.table.Labs)-m.col {
		return []key.Binding{k.Up, k.Down, k.Left, k.Open, k.Sort, k.Quit}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Sort, k.Quit}
}

func (m *ClassView) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// resort orders rows, keeping the cursor on the same learner.
func (m *ClassView) resort() {
	selected := ""
	if m.cursor < len(m.rows) {
		selected = m.rows[m.cursor].Learner
	}
	m.rows = append(m.rows[:0:0], m.table.Rows...)
	now := m.now()
	sort.SliceStable(m.rows, func(i, j int) bool {
		a, b := m.rows[i], m.rows[j]
		switch m.sortBy {
		case byProgress:
			if pa, pb := classProgress(a), classProgress(b); pa != pb {
				return pa > pb
			}
		case byStuck:
			if sa, sb := stuckFor(a, now), stuckFor(b, now); sa != sb {
				return sa > sb
			}
		}
		return a.Learner < b.Learner
	})
	m.cursor = 0
	for i, r := range m.rows {
		if r.Learner == selected {
			m.cursor = i
		}
	}
}

func classProgress(r workshop.Row) float64 {
	if r.MaxScore == 0 {
		return 0
	}
	return float64(r.Score) / float64(r.MaxScore)
}

// stuck is the learner's longest-failing task, among labs they started.
func stuck(r workshop.Row, now time.Time) (lab, task string, d time.Duration) {
	for _, c := range r.Cells {
		if (c.State != workshop.InProgress && c.State != workshop.Started) || c.Failing == "" {
			continue
		}
		if since := now.Sub(c.FailingSince); since > d {
			lab, task, d = c.Lab, c.Failing, since
		}
	}
	return lab, task, d
}

func stuckFor(r workshop.Row, now time.Time) time.Duration {
	_, _, d := stuck(r, now)
	return d
}

// cellText is a lab's state in a few characters.
func cellText(c workshop.Cell) string {
	switch c.State {
	case workshop.Passed:
		return "done"
	case workshop.NotStarted:
		return "-"
	case workshop.Started:
		return "started"
	case workshop.NotGraded:
		return "n/a"
	case workshop.Broken:
		return "error"
	case workshop.InProgress:
		return fmt.Sprintf("%d/%d", c.Score, c.MaxScore)
	}
	return "?"
}

// View draws the table, or a learner's failing messages.
func (m *ClassView) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "k8slab workshop " + m.name
	return v
}

func (m *ClassView) render() string {
	st := m.styles
	width := m.width
	if width == 0 {
		width = 80
	}
	var b strings.Builder
	header := fmt.Sprintf("Workshop %s · %d learners · sorted by %s", m.name, len(m.rows), sortNames[m.sortBy])
	if !m.table.At.IsZero() {
		header += " · updated " + m.table.At.Local().Format("15:04:05")
	}
	b.WriteString(st.Bold.Render(header) + "\n")
	if m.err != nil {
		b.WriteString(st.Wrong.Render(ansi.Wordwrap("Grading stopped: "+textsafe.Inert(m.err.Error()), width, "")) + "\n")
	}
	if m.table.At.IsZero() && m.err == nil {
		b.WriteString("Listing the class's objects...\n")
		return b.String()
	}
	if m.detail && m.cursor < len(m.rows) {
		b.WriteString(m.renderDetail(m.rows[m.cursor], width))
	} else {
		b.WriteString(m.renderTable(width))
	}
	b.WriteString(" " + m.help.View(m))
	return b.String()
}

// Widths of the table's columns.
const (
	scoreW = 7
	labW   = 12
	examW  = 11
)

// hasExam reports whether the class has an exam set: the table then has
// an exam column after the score, which never scrolls away.
func (m *ClassView) hasExam() bool {
	for _, r := range m.rows {
		if r.Exam != nil {
			return true
		}
	}
	return false
}

// examWidth is the exam column's width with its separator; 0 for none.
func (m *ClassView) examWidth() int {
	if m.hasExam() {
		return examW + 1
	}
	return 0
}

// classExamText is a learner's exam in a few characters: tasks passed of
// tasks asked, then the time left ("3/5 41m") or "over". Never a task: the table may
// be on the wall while the class sits the exam.
func classExamText(e *workshop.ExamProgress, now time.Time) string {
	if e == nil {
		return "-"
	}
	count := fmt.Sprintf("%d/%d", e.Passed, e.Tasks)
	if e.Finished || !now.Before(e.Deadline) {
		return count + " over"
	}
	return count + " " + shortDuration(e.Left(now))
}

// learnerWidth is the learner column's width: the longest name, within
// bounds.
func (m *ClassView) learnerWidth() int {
	w := len("learner")
	for _, r := range m.rows {
		w = max(w, ansi.StringWidth(r.Learner))
	}
	return min(w, 24)
}

// labColumns is how many whole lab columns fit in width from m.col on: a
// row is the learner, the score, a scroll mark, the labs and a scroll
// mark. At least one is shown, however narrow the screen.
func (m *ClassView) labColumns(width int) int {
	if width == 0 {
		width = 80
	}
	fixed := m.learnerWidth() + 1 + scoreW + m.examWidth() + 1 + 1 + 2
	return max(1, min(len(m.table.Labs)-m.col, (width-fixed)/(labW+1)))
}

func (m *ClassView) renderTable(width int) string {
	st := m.styles
	var b strings.Builder
	m.col = min(m.col, max(0, len(m.table.Labs)-1))
	learnerW := m.learnerWidth()
	n := m.labColumns(width)
	labs := m.table.Labs[m.col : m.col+n]
	more := m.col+n < len(m.table.Labs)
	// The marks say that columns are hidden on that side; ←/→ show them.
	left, right := " ", " "
	if m.col > 0 {
		left = "‹"
	}
	if more {
		right = "›"
	}
	used := learnerW + 1 + scoreW + m.examWidth() + 1 + 1 + n*(labW+1) + 2
	// The stuck column takes what is left once every remaining lab is
	// shown, so that it never pushes a lab column off the screen.
	stuckW := 0
	if !more && width-used >= 10 {
		stuckW = width - used - 1
	}
	cols := padCell("learner", learnerW) + " " + padCell("score", scoreW)
	exam := m.hasExam()
	if exam {
		cols += " " + padCell("exam (left)", examW)
	}
	cols += " " + left
	for _, lab := range labs {
		cols += " " + padCell(shortLabID(lab), labW)
	}
	cols += " " + right
	if stuckW > 0 {
		cols += " " + padCell("stuck on", stuckW)
	}
	b.WriteString(st.Bold.Render(strings.TrimRight(cols, " ")) + "\n")
	visible := len(m.rows)
	if m.height > 0 {
		visible = max(1, m.height-4)
	}
	first := max(0, min(m.cursor-visible+1, len(m.rows)-visible))
	now := m.now()
	for i := first; i < len(m.rows) && i < first+visible; i++ {
		r := m.rows[i]
		line := padCell(r.Learner, learnerW) + " " + padCell(fmt.Sprintf("%d/%d", r.Score, r.MaxScore), scoreW)
		if exam {
			line += " " + padCell(classExamText(r.Exam, now), examW)
		}
		line += "  "
		for _, c := range r.Cells[m.col : m.col+n] {
			text := padCell(cellText(c), labW)
			switch c.State {
			case workshop.Passed:
				text = st.Done.Render(text)
			case workshop.Broken:
				text = st.Wrong.Render(text)
			}
			line += " " + text
		}
		if lab, task, d := stuck(r, now); task != "" && stuckW > 0 {
			line += "   " + padCell(fmt.Sprintf("%s/%s %s", lab, task, shortDuration(d)), stuckW)
		}
		line = strings.TrimRight(line, " ")
		if i == m.cursor {
			line = st.Selected.Render(ansi.Strip(line))
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// renderDetail lists what a learner still has to fix, wrapped to the
// screen so nothing is cut off.
func (m *ClassView) renderDetail(r workshop.Row, width int) string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render(fmt.Sprintf("%s · %d of %d points", r.Learner, r.Score, r.MaxScore)) + "\n")
	if e := r.Exam; e != nil {
		// Counts and the clock only: which tasks are left would tell
		// whoever reads the screen over the instructor's shoulder.
		text := fmt.Sprintf("Exam: %d of %d tasks passed, ", e.Passed, e.Tasks)
		if e.Finished || !m.now().Before(e.Deadline) {
			text += "over"
		} else {
			text += shortDuration(e.Left(m.now())) + " left (until " + e.Deadline.Local().Format("15:04") + ")"
		}
		b.WriteString(text + "\n")
	}
	// While the exam runs, what a practice task still lacks is not
	// shown: the exam asks the same tasks, and those messages say how to
	// do them. What kept k8slab from grading still is.
	examRuns := r.Exam != nil && !r.Exam.Finished && m.now().Before(r.Exam.Deadline)
	if examRuns {
		b.WriteString(wrapIndent("What each lab's tasks still lack is hidden until the exam is over: it would answer the exam's tasks.", width, "") + "\n")
	}
	// What kept k8slab from grading (credentials the cluster rejects, a
	// namespace gone) is the same for every task it touches: said once.
	said := map[string]bool{}
	for _, c := range r.Cells {
		b.WriteString(fmt.Sprintf("\n%s (%s, namespace %s)\n", st.Bold.Render(c.Lab), c.State, c.Namespace))
		for _, t := range c.Tasks {
			mark := st.Done.Render("✓")
			switch {
			case t.Status.Broken():
				mark = st.Wrong.Render("!")
			case t.Status != checks.Pass:
				mark = st.Wrong.Render("✗")
			}
			b.WriteString(fmt.Sprintf("  %s %s\n", mark, t.ID))
			if t.Status == checks.Pass {
				continue
			}
			for _, ch := range t.Checks {
				if examRuns && !ch.Status.Broken() {
					continue
				}
				for _, msg := range ch.Messages {
					if ch.Status.Broken() {
						if said[msg] {
							continue
						}
						said[msg] = true
					}
					b.WriteString(wrapIndent(msg, width, "      ") + "\n")
				}
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

// shortDuration is how long a learner has been stuck, to the minute
// ("20m", "1h05m"): the column is narrow.
func shortDuration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

func padCell(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// short shortens a lab id for a column header; details show it in full.
func shortLabID(id string) string { return ansi.Truncate(id, 12, "…") }

func wrapIndent(s string, width int, indent string) string {
	lines := strings.Split(ansi.Wordwrap(s, max(10, width-len(indent)), ""), "\n")
	for i := range lines {
		lines[i] = indent + lines[i]
	}
	return strings.Join(lines, "\n")
}
