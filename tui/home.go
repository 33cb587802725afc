package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/progress/summary"
)

// homeScreen is the course map: modules with their lessons and quiz, what is
// done, and what comes next.
type homeScreen struct {
	c             *common
	width, height int

	rows   []homeRow
	cursor int // index into rows; always a selectable row
	offset int // first visible row
	data   progress.Data
}

type rowKind int

const (
	moduleRow rowKind = iota
	lessonRow
	quizRow
	labRow
)

type homeRow struct {
	kind   rowKind
	module int
	id     string
}

func newHomeScreen(c *common, data progress.Data) *homeScreen {
	h := &homeScreen{c: c, data: data, rows: courseRows(c.course)}
	h.cursor = h.initialCursor()
	return h
}

// courseRows are the course map's rows in course order: each module, then
// its lessons, its quiz and its labs.
func courseRows(c *course.Course) []homeRow {
	var rows []homeRow
	for mi, m := range c.Modules {
		rows = append(rows, homeRow{kind: moduleRow, module: mi, id: m.ID})
		for _, l := range m.Lessons {
			rows = append(rows, homeRow{kind: lessonRow, module: mi, id: l.ID})
		}
		if m.Quiz != nil {
			rows = append(rows, homeRow{kind: quizRow, module: mi, id: m.Quiz.ID})
		}
		for _, lab := range m.Labs {
			rows = append(rows, homeRow{kind: labRow, module: mi, id: lab.ID})
		}
	}
	return rows
}

// nextOf is the course map's "Next", which a finished lab's summary
// repeats so that the two never disagree: the first row not done after
// where the learner was last (d.Last), going round to the start, or -1
// when every row is done. A learner who began at module 7 and just
// finished its lab is sent on to what follows it, not back to the
// course's first lesson (#22).
func nextOf(c *course.Course, d progress.Data, rows []homeRow, lacks []labfile.Feature) int {
	from := 0
	for i, r := range rows {
		if r.kind != moduleRow && d.Last.ID != "" && r.id == d.Last.ID {
			from = i
			break
		}
	}
	for k := range rows {
		i := (from + k) % len(rows)
		if r := rows[i]; r.kind != moduleRow && !rowDone(c, d, r, lacks) && !elsewhere(c, r, lacks) {
			return i
		}
	}
	return -1
}

// rowDone reports whether a lesson was read, a quiz passed, or every task
// of a lab passed that needs nothing in lacks.
func rowDone(c *course.Course, d progress.Data, r homeRow, lacks []labfile.Feature) bool {
	switch r.kind {
	case lessonRow:
		return !d.Lessons[r.id].ReadAt.IsZero()
	case quizRow:
		return d.Quizzes[r.id].Passed
	case labRow:
		lab, _ := c.Lab(r.id)
		tasks := lab.RunnableTasks(lacks)
		return len(tasks) > 0 && labTasksDone(d, lab.ID, tasks) == len(tasks)
	}
	return false
}

// elsewhere reports whether r is a lab none of whose tasks this cluster
// can run: it is never "Next", and the map says what it needs.
func elsewhere(c *course.Course, r homeRow, lacks []labfile.Feature) bool {
	if r.kind != labRow || len(lacks) == 0 {
		return false
	}
	lab, _ := c.Lab(r.id)
	return len(lab.RunnableTasks(lacks)) == 0
}

func labTasksDone(d progress.Data, lab string, tasks []labfile.Task) int {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	return progress.LabTasksDone(d, lab, ids)
}

// rowTitle is how the course map names a row.
func rowTitle(c *course.Course, r homeRow) string {
	switch r.kind {
	case lessonRow:
		l, _ := c.Lesson(r.id)
		return l.Title
	case quizRow:
		q, _ := c.Quiz(r.id)
		return "Quiz: " + q.Title
	case labRow:
		lab, _ := c.Lab(r.id)
		return "Lab: " + lab.Title
	}
	return c.Modules[r.module].Title
}

// initialCursor puts the learner back where they were, or on what is next.
func (h *homeScreen) initialCursor() int {
	if last := h.data.Last; last.ID != "" {
		for i, r := range h.rows {
			if r.id == last.ID && r.kind != moduleRow {
				return i
			}
		}
	}
	if i := h.nextRow(); i >= 0 {
		return i
	}
	return h.step(-1, 1)
}

// nextRow is the next item not done yet (see nextOf).
func (h *homeScreen) nextRow() int { return nextOf(h.c.course, h.data, h.rows, h.c.lacks) }

func (h *homeScreen) done(r homeRow) bool { return rowDone(h.c.course, h.data, r, h.c.lacks) }

// labTasksText is a lab row's right column: tasks done of those this
// cluster can run, or what the lab needs when it can run none.
func (h *homeScreen) labTasksText(id string) string {
	lab, _ := h.c.course.Lab(id)
	tasks := lab.RunnableTasks(h.c.lacks)
	if len(tasks) == 0 {
		return "needs kind"
	}
	return fmt.Sprintf("%d/%d tasks", labTasksDone(h.data, lab.ID, tasks), len(tasks))
}

// step moves from row i by d to the next selectable row, staying put at the
// ends.
func (h *homeScreen) step(i, d int) int {
	for j := i + d; j >= 0 && j < len(h.rows); j += d {
		if h.rows[j].kind != moduleRow {
			return j
		}
	}
	if i < 0 {
		return 0
	}
	return i
}

// focus moves the cursor to the lesson or quiz with the given id, so coming
// back from a screen lands on what was just open.
func (h *homeScreen) focus(kind rowKind, id string) {
	for i, r := range h.rows {
		if r.kind == kind && r.id == id {
			h.cursor = i
			h.scrollToCursor()
			return
		}
	}
}

func (h *homeScreen) SetSize(w, ht int) {
	h.width, h.height = w, ht
	h.scrollToCursor()
}

func (h *homeScreen) scrollToCursor() {
	visible := h.visibleRows()
	if h.cursor < h.offset {
		h.offset = h.cursor
	}
	if h.cursor >= h.offset+visible {
		h.offset = h.cursor - visible + 1
	}
	// A module's first item at the top shows its module heading above it,
	// when both fit: scrolling up onto it, or after the window grows.
	if h.offset > 0 && h.cursor == h.offset && visible > 1 && h.rows[h.offset-1].kind == moduleRow {
		h.offset--
	}
	h.offset = max(0, min(h.offset, len(h.rows)-visible))
}

// visibleRows is how many rows fit below the course summary.
func (h *homeScreen) visibleRows() int { return max(1, h.height-summaryHeight) }

const summaryHeight = 3

func (h *homeScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case progressChangedMsg:
		h.data = msg.data
	case tea.KeyPressMsg:
		k := h.c.keys
		switch {
		case key.Matches(msg, k.Up):
			h.cursor = h.step(h.cursor, -1)
		case key.Matches(msg, k.Down):
			h.cursor = h.step(h.cursor, 1)
		case key.Matches(msg, k.Top):
			h.cursor = h.step(-1, 1)
		case key.Matches(msg, k.Bottom):
			h.cursor = h.step(len(h.rows), -1)
		case key.Matches(msg, k.PageDown):
			for range h.visibleRows() {
				h.cursor = h.step(h.cursor, 1)
			}
		case key.Matches(msg, k.PageUp):
			for range h.visibleRows() {
				h.cursor = h.step(h.cursor, -1)
			}
		case key.Matches(msg, k.Open):
			if h.cursor < len(h.rows) {
				switch r := h.rows[h.cursor]; r.kind {
				case lessonRow:
					return navigate(openLessonMsg{r.id})
				case quizRow:
					return navigate(openQuizMsg{r.id})
				case labRow:
					return navigate(openLabMsg{r.id})
				}
			}
		}
		h.scrollToCursor()
	}
	return nil
}

func (h *homeScreen) Title() string { return h.c.course.Title }
func (h *homeScreen) Typing() bool  { return false }

func (h *homeScreen) ShortHelp() []key.Binding {
	return flatten(h.ShortHelpLines())
}

func (h *homeScreen) ShortHelpLines() [][]key.Binding {
	k := h.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.Open, k.ClusterUp, k.Quit, k.Help}, {k.CheatSheet, k.Glossary}}
}

func (h *homeScreen) FullHelp() [][]key.Binding {
	k := h.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom, k.Open}, {k.ClusterUp, k.CheatSheet, k.Glossary}, {k.Quit, k.Help}}
}

func (h *homeScreen) View() string {
	s := h.c.styles
	var b strings.Builder

	// The same totals as 'k8slab progress'.
	sum := summary.Of(h.c.course, h.data, h.c.lacks...)
	doneItems, allItems := sum.Done(), sum.Total()
	pct := percent(doneItems, allItems)
	fmt.Fprintf(&b, " %s %s\n", bar(s, pct, min(30, max(10, h.width-40))),
		s.Muted.Render(fmt.Sprintf("%d%% · %d of %d done", pct, doneItems, allItems)))
	if next := h.nextRow(); next >= 0 {
		fmt.Fprintf(&b, " %s %s\n\n", s.Next.Render("Next:"), h.itemTitle(h.rows[next]))
	} else {
		fmt.Fprintf(&b, " %s\n\n", s.Done.Render("Course complete. Well done!"))
	}

	next := h.nextRow()
	end := min(len(h.rows), h.offset+h.visibleRows())
	for i := h.offset; i < end; i++ {
		b.WriteString(h.rowView(i, next))
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (h *homeScreen) itemTitle(r homeRow) string { return rowTitle(h.c.course, r) }

func (h *homeScreen) rowView(i, next int) string {
	s := h.c.styles
	r := h.rows[i]
	width := max(20, h.width)
	if r.kind == moduleRow {
		m := h.c.course.Modules[r.module]
		ms := summary.Of(h.c.course, h.data, h.c.lacks...).Modules[r.module]
		done, all := ms.Done(), ms.Total()
		title := fmt.Sprintf(" %2d  %s", r.module+1, m.Title)
		right := fmt.Sprintf("%3d%%", percent(done, all))
		return s.ModuleTitle.Render(title) + pad(width, lipgloss.Width(title), len(right)+1) + s.Muted.Render(right) + " "
	}

	mark, markStyle := "·", s.Muted
	if h.done(r) {
		mark, markStyle = "✓", s.Done
	} else if i == next {
		mark, markStyle = "▸", s.Next
	}
	var right string
	switch r.kind {
	case lessonRow:
		l, _ := h.c.course.Lesson(r.id)
		right = fmt.Sprintf("%d min", l.Minutes)
	case quizRow:
		if st, ok := h.data.Quizzes[r.id]; ok && len(st.Attempts) > 0 {
			right = fmt.Sprintf("best %d%%", st.BestPercent)
		} else {
			right = "quiz"
		}
	case labRow:
		right = h.labTasksText(r.id)
	}
	title := truncate(h.itemTitle(r), width-len(right)-10)
	line := "     " + markStyle.Render(mark) + " "
	titleStyle := lipgloss.NewStyle()
	if i == h.cursor {
		line = "   " + s.Selected.Render("›") + " " + markStyle.Render(mark) + " "
		titleStyle = s.Selected
	}
	return line + titleStyle.Render(title) + pad(width, 7+lipgloss.Width(title), len(right)+1) + s.Muted.Render(right) + " "
}

// progressChangedMsg carries the progress as saved, for screens that show it.
type progressChangedMsg struct{ data progress.Data }

func percent(done, all int) int {
	if all == 0 {
		return 0
	}
	return done * 100 / all
}

func bar(s *Styles, pct, width int) string {
	full := pct * width / 100
	return s.BarFull.Render(strings.Repeat("━", full)) + s.BarEmpty.Render(strings.Repeat("─", width-full))
}

// pad returns the spaces between a left part of used cells and a right part
// of rightWidth cells in a line of width cells.
func pad(width, used, rightWidth int) string {
	return strings.Repeat(" ", max(1, width-used-rightWidth))
}

func truncate(s string, n int) string {
	if n < 4 || lipgloss.Width(s) <= n {
		return s
	}
	r := []rune(s)
	for lipgloss.Width(string(r)) > n-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
