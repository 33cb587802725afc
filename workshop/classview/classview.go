// Package classview is the instructor's live table of a workshop:
// learners × labs, sortable by progress or by how long a learner has been
// stuck, with a learner's failing messages a keypress away.
package classview

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/workshop"
)

// TableMsg delivers a new table from the grader.
type TableMsg struct{ Table workshop.Table }

// ErrMsg reports that grading stopped.
type ErrMsg struct{ Err error }

// Sort orders.
const (
	ByLearner = iota
	ByProgress
	ByStuck
	sortCount
)

var sortNames = []string{"learner", "progress", "stuck longest"}

// Model is the live table.
type Model struct {
	name   string
	table  workshop.Table
	rows   []workshop.Row
	sortBy int
	cursor int
	detail bool
	err    error
	width  int
	height int
	now    func() time.Time
	// next asks the grader for the following table (a tea.Cmd that blocks
	// on it); nil in tests.
	next tea.Cmd
}

// New returns the view; next, when set, is run after every table to wait
// for the next one.
func New(name string, next tea.Cmd) *Model {
	return &Model{name: name, now: time.Now, next: next, sortBy: ByProgress}
}

var keys = struct {
	Up, Down, Sort, Detail, Back, Quit key.Binding
}{
	Up:     key.NewBinding(key.WithKeys("up", "k")),
	Down:   key.NewBinding(key.WithKeys("down", "j")),
	Sort:   key.NewBinding(key.WithKeys("s")),
	Detail: key.NewBinding(key.WithKeys("enter")),
	Back:   key.NewBinding(key.WithKeys("esc")),
	Quit:   key.NewBinding(key.WithKeys("q", "ctrl+c")),
}

// Init waits for the first table.
func (m *Model) Init() tea.Cmd { return m.next }

// Update handles tables, errors and keys.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case TableMsg:
		m.table = msg.Table
		m.resort()
		return m, m.next
	case ErrMsg:
		m.err = msg.Err
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, keys.Up):
			m.cursor = max(0, m.cursor-1)
		case key.Matches(msg, keys.Down):
			m.cursor = min(max(0, len(m.rows)-1), m.cursor+1)
		case key.Matches(msg, keys.Sort):
			m.sortBy = (m.sortBy + 1) % sortCount
			m.resort()
		case key.Matches(msg, keys.Detail):
			m.detail = !m.detail
		case key.Matches(msg, keys.Back):
			m.detail = false
		}
	}
	return m, nil
}

// resort orders rows, keeping the cursor on the same learner.
func (m *Model) resort() {
	selected := ""
	if m.cursor < len(m.rows) {
		selected = m.rows[m.cursor].Learner
	}
	m.rows = append(m.rows[:0:0], m.table.Rows...)
	now := m.now()
	sort.SliceStable(m.rows, func(i, j int) bool {
		a, b := m.rows[i], m.rows[j]
		switch m.sortBy {
		case ByProgress:
			if pa, pb := progress(a), progress(b); pa != pb {
				return pa > pb
			}
		case ByStuck:
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

func progress(r workshop.Row) float64 {
	if r.MaxScore == 0 {
		return 0
	}
	return float64(r.Score) / float64(r.MaxScore)
}

// stuck is the learner's longest-failing task, among labs they started.
func stuck(r workshop.Row, now time.Time) (lab, task string, d time.Duration) {
	for _, c := range r.Cells {
		if c.State != workshop.InProgress || c.Failing == "" {
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

var (
	bold   = lipgloss.NewStyle().Bold(true)
	muted  = lipgloss.NewStyle().Faint(true)
	good   = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	bad    = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	active = lipgloss.NewStyle().Reverse(true)
)

// cellText is a lab's state in a few characters.
func cellText(c workshop.Cell) string {
	switch c.State {
	case workshop.Passed:
		return "done"
	case workshop.NotStarted:
		return "-"
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
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "k8slab workshop " + m.name
	return v
}

func (m *Model) render() string {
	width := m.width
	if width == 0 {
		width = 80
	}
	var b strings.Builder
	header := fmt.Sprintf("Workshop %s · %d learners", m.name, len(m.rows))
	if !m.table.At.IsZero() {
		header += " · updated " + m.table.At.Local().Format("15:04:05")
	}
	b.WriteString(bold.Render(header) + "\n")
	if m.err != nil {
		b.WriteString(bad.Render(wrap("Grading stopped: "+m.err.Error(), width)) + "\n")
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
	b.WriteString(muted.Render(wrap(fmt.Sprintf("↑/↓ move · enter details · s sort (now: %s) · q quit", sortNames[m.sortBy]), width)))
	return b.String()
}

func (m *Model) renderTable(width int) string {
	var b strings.Builder
	learnerW := len("learner")
	for _, r := range m.rows {
		learnerW = max(learnerW, len(r.Learner))
	}
	learnerW = min(learnerW, 24)
	cols := []string{pad("learner", learnerW), pad("score", 7)}
	for _, lab := range m.table.Labs {
		cols = append(cols, pad(short(lab), 12))
	}
	cols = append(cols, "stuck on")
	b.WriteString(bold.Render(ansi.Truncate(strings.Join(cols, " "), width, "…")) + "\n")
	visible := len(m.rows)
	if m.height > 0 {
		visible = max(1, m.height-4)
	}
	first := max(0, min(m.cursor-visible+1, len(m.rows)-visible))
	now := m.now()
	for i := first; i < len(m.rows) && i < first+visible; i++ {
		r := m.rows[i]
		line := pad(r.Learner, learnerW) + " " + pad(fmt.Sprintf("%d/%d", r.Score, r.MaxScore), 7)
		for _, c := range r.Cells {
			text := pad(cellText(c), 12)
			switch c.State {
			case workshop.Passed:
				text = good.Render(text)
			case workshop.Broken:
				text = bad.Render(text)
			}
			line += " " + text
		}
		if lab, task, d := stuck(r, now); task != "" {
			line += " " + fmt.Sprintf("%s/%s %s", lab, task, d.Round(time.Minute))
		}
		line = ansi.Truncate(line, width, "…")
		if i == m.cursor {
			line = active.Render(ansi.Strip(line))
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// renderDetail lists what a learner still has to fix, wrapped to the
// screen so nothing is cut off.
func (m *Model) renderDetail(r workshop.Row, width int) string {
	var b strings.Builder
	b.WriteString(bold.Render(fmt.Sprintf("%s · %d of %d points", r.Learner, r.Score, r.MaxScore)) + "\n")
	for _, c := range r.Cells {
		b.WriteString(fmt.Sprintf("\n%s (%s, namespace %s)\n", bold.Render(c.Lab), c.State, c.Namespace))
		for _, t := range c.Tasks {
			mark := good.Render("✓")
			if t.Status != checks.Pass {
				mark = bad.Render("✗")
			}
			b.WriteString(fmt.Sprintf("  %s %s\n", mark, t.ID))
			if t.Status == checks.Pass {
				continue
			}
			for _, ch := range t.Checks {
				for _, msg := range ch.Messages {
					b.WriteString(wrapIndent(msg, width, "      ") + "\n")
				}
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

func pad(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// short shortens a lab id for a column header; details show it in full.
func short(id string) string { return ansi.Truncate(id, 12, "…") }

func wrap(s string, width int) string { return ansi.Wordwrap(s, width, "") }

func wrapIndent(s string, width int, indent string) string {
	lines := strings.Split(ansi.Wordwrap(s, max(10, width-len(indent)), ""), "\n")
	for i := range lines {
		lines[i] = indent + lines[i]
	}
	return strings.Join(lines, "\n")
}
