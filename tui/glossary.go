package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/lessons"
)

// glossaryScreen lists the course's terms over whatever screen was open.
// Typing searches them: the search box has the keyboard, so the list moves
// with keys that type nothing (arrows, page keys). Each term shows its
// definition and the lesson that introduces it, which enter opens.
type glossaryScreen struct {
	c             *common
	width, height int

	search textinput.Model
	// scope, when set, limits the list to the terms that lesson introduces.
	scope *lessons.Lesson
	// blocked says why enter cannot open a lesson now ("" when it can).
	blocked string
	notice  string

	matches []*course.Term
	cursor  int
	// The list drawn for the current matches, cursor, width and styles:
	// lines, and where each match starts and ends in them. View only shows
	// a slice of it from offset.
	lines        []string
	starts, ends []int
	offset       int
}

func newGlossaryScreen(c *common) *glossaryScreen {
	ti := textinput.New()
	ti.Prompt = "Search › "
	ti.Placeholder = "type to search the terms"
	ti.CharLimit = 40
	return &glossaryScreen{c: c, search: ti}
}

// open shows the glossary with an empty search, limited to the terms of
// scope when it is set.
func (s *glossaryScreen) open(scope *lessons.Lesson, blocked string) tea.Cmd {
	s.scope, s.blocked, s.notice = scope, blocked, ""
	s.search.Reset()
	s.refilter()
	return s.search.Focus()
}

// listTop is the lines above the list: the title line, the search box and
// a line for notices.
const listTop = 3

func (s *glossaryScreen) listHeight() int { return max(1, s.height-listTop) }

func (s *glossaryScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.search.SetWidth(max(10, min(w, 60)-len(s.search.Prompt)-2))
	s.layout()
}

// restyle redraws after the colour theme changed.
func (s *glossaryScreen) restyle() { s.layout() }

// pool is the terms the search looks through.
func (s *glossaryScreen) pool() []*course.Term {
	if s.scope != nil {
		return s.c.course.TermsIntroducedIn(s.scope)
	}
	return s.c.course.Glossary
}

// refilter ranks the pool against the search: terms that start with it,
// then terms that contain it, then terms whose definition does.
func (s *glossaryScreen) refilter() {
	q := strings.ToLower(strings.TrimSpace(s.search.Value()))
	var ranked [3][]*course.Term
	for _, t := range s.pool() {
		term := strings.ToLower(t.Term)
		switch {
		case strings.HasPrefix(term, q):
			ranked[0] = append(ranked[0], t)
		case strings.Contains(term, q):
			ranked[1] = append(ranked[1], t)
		case strings.Contains(strings.ToLower(t.Definition), q):
			ranked[2] = append(ranked[2], t)
		}
	}
	s.matches = slices.Concat(ranked[:]...)
	s.cursor, s.offset = 0, 0
	s.layout()
}

// textWidth keeps definitions at a readable length on wide terminals.
func (s *glossaryScreen) textWidth() int { return max(20, min(s.width, 100)-4) }

// layout draws every match once per change, wrapping each definition and
// lesson line to the window so nothing is cut off.
func (s *glossaryScreen) layout() {
	st := s.c.styles
	s.lines, s.starts, s.ends = s.lines[:0], s.starts[:0], s.ends[:0]
	// indent wraps text below the term; hang indents the lines after the
	// first by two more, under the text after "↳ ".
	indent := func(text string, style lipgloss.Style, hang int) {
		wrapped := lipgloss.NewStyle().Width(s.textWidth()).Render(text)
		if hang > 0 {
			first, rest, _ := strings.Cut(wrapped, "\n")
			wrapped = first
			if rest != "" {
				rest = lipgloss.NewStyle().Width(s.textWidth() - hang).Render(strings.Join(strings.Fields(rest), " "))
				wrapped += "\n" + lipgloss.NewStyle().PaddingLeft(hang).Render(rest)
			}
		}
		for _, l := range strings.Split(wrapped, "\n") {
			s.lines = append(s.lines, "   "+style.Render(strings.TrimRight(l, " ")))
		}
	}
	for i, t := range s.matches {
		if i > 0 {
			s.lines = append(s.lines, "")
		}
		s.starts = append(s.starts, len(s.lines))
		if i == s.cursor {
			s.lines = append(s.lines, " "+st.Selected.Render("› "+t.Term))
		} else {
			s.lines = append(s.lines, "   "+st.Bold.Render(t.Term))
		}
		indent(t.Definition, lipgloss.NewStyle(), 0)
		if t.See != nil {
			indent("↳ "+t.See.Title+" ("+s.c.course.ModuleOf(t.See).Title+")", st.Muted, 2)
		}
		s.ends = append(s.ends, len(s.lines))
	}
	s.scrollToCursor()
}

// scrollToCursor shows the whole of the entry under the cursor, or its
// start when it is taller than the window.
func (s *glossaryScreen) scrollToCursor() {
	if len(s.matches) == 0 {
		s.offset = 0
		return
	}
	h := s.listHeight()
	start, end := s.starts[s.cursor], s.ends[s.cursor]
	if end > s.offset+h {
		s.offset = end - h
	}
	if start < s.offset {
		s.offset = start
	}
	s.offset = max(0, min(s.offset, len(s.lines)-h))
}

func (s *glossaryScreen) move(d int) {
	if len(s.matches) == 0 {
		return
	}
	s.cursor = max(0, min(len(s.matches)-1, s.cursor+d))
	s.layout()
}

// page moves by as many entries as fill a window.
func (s *glossaryScreen) page(d int) {
	if len(s.matches) == 0 {
		return
	}
	i, lines := s.cursor, 0
	for i+d >= 0 && i+d < len(s.matches) {
		lines += s.ends[i+d] - s.starts[i+d] + 1
		if lines > s.listHeight() {
			break
		}
		i += d
	}
	if i == s.cursor {
		i += d // an entry taller than the window: still move
	}
	s.move(i - s.cursor)
}

func (s *glossaryScreen) current() *course.Term {
	if s.cursor < len(s.matches) {
		return s.matches[s.cursor]
	}
	return nil
}

func (s *glossaryScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		return s.edit(msg)
	case tea.KeyPressMsg:
		return s.handleKey(msg)
	}
	return nil
}

func (s *glossaryScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	s.notice = ""
	switch {
	case key.Matches(msg, k.ListUp):
		s.move(-1)
	case key.Matches(msg, k.ListDown):
		s.move(1)
	case key.Matches(msg, k.ListPageUp):
		s.page(-1)
	case key.Matches(msg, k.ListPageDown):
		s.page(1)
	case key.Matches(msg, k.OpenTerm):
		t := s.current()
		switch {
		case t == nil:
		case t.See == nil:
			s.notice = fmt.Sprintf("No lesson introduces %q; it is here for reference.", t.Term)
		case s.blocked != "":
			s.notice = s.blocked
		default:
			return navigate(openLessonMsg{t.See.ID})
		}
	case key.Matches(msg, k.ToCheatSheet):
		if s.c.course.CheatSheet != nil {
			return navigate(openCheatSheetMsg{})
		}
	case key.Matches(msg, k.ClearSearch) && s.search.Value() != "":
		s.search.Reset()
		s.refilter()
	case key.Matches(msg, k.CloseGlossary):
		return navigate(closeReferenceMsg{})
	case key.Matches(msg, k.AllTerms) && s.search.Value() == "" && s.scope != nil:
		s.scope = nil
		s.refilter()
	default:
		return s.edit(msg)
	}
	return nil
}

// edit passes a key or paste to the search box, and searches again when
// the text changed.
func (s *glossaryScreen) edit(msg tea.Msg) tea.Cmd {
	before := s.search.Value()
	var cmd tea.Cmd
	s.search, cmd = s.search.Update(msg)
	if s.search.Value() != before {
		s.refilter()
	}
	return cmd
}

func (s *glossaryScreen) Title() string {
	if s.scope != nil {
		return "Glossary › " + s.scope.Title
	}
	return "Glossary"
}

// Typing is always true: the search box has the keyboard.
func (s *glossaryScreen) Typing() bool { return true }

func (s *glossaryScreen) ShortHelp() []key.Binding {
	return flatten(s.ShortHelpLines())
}

// ShortHelpLines shows only the keys that do something now.
func (s *glossaryScreen) ShortHelpLines() [][]key.Binding {
	k := s.c.keys
	move := []key.Binding{k.ListUp, k.ListDown, k.ListPageDown}
	if t := s.current(); t != nil && t.See != nil && s.blocked == "" {
		move = append(move, k.OpenTerm)
	}
	var leave []key.Binding
	if s.c.course.CheatSheet != nil {
		leave = append(leave, k.ToCheatSheet)
	}
	switch {
	case s.search.Value() != "":
		leave = append(leave, k.ClearSearch)
	case s.scope != nil:
		leave = append(leave, k.AllTerms, k.CloseGlossary)
	default:
		leave = append(leave, k.CloseGlossary)
	}
	return [][]key.Binding{move, append(leave, k.ForceQuit)}
}

func (s *glossaryScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.ListUp, k.ListDown, k.ListPageUp, k.ListPageDown}, {k.OpenTerm, k.ToCheatSheet}, {k.ClearSearch, k.AllTerms, k.CloseGlossary, k.ForceQuit}}
}

func (s *glossaryScreen) View() string {
	st := s.c.styles
	var title string
	if s.scope != nil {
		title = fmt.Sprintf("Terms introduced in “%s”", s.scope.Title)
	} else {
		title = "All terms"
	}
	count := fmt.Sprintf("%d terms", len(s.pool()))
	if s.search.Value() != "" {
		count = fmt.Sprintf("%d of %d terms", len(s.matches), len(s.pool()))
	}
	title = truncate(title, s.width-len(count)-3)
	top := st.Bold.Render(" "+title) + pad(s.width, 1+lipgloss.Width(title), len(count)+1) + st.Muted.Render(count)
	search := " " + s.search.View()

	var body string
	switch {
	case len(s.matches) == 0 && s.search.Value() != "":
		body = st.Muted.Width(s.width).Render(fmt.Sprintf("   No term matches “%s”. esc clears the search.", s.search.Value()))
	default:
		end := min(len(s.lines), s.offset+s.listHeight())
		body = strings.Join(s.lines[s.offset:end], "\n")
	}
	notice := ""
	if s.notice != "" {
		notice = st.Next.Render(" " + s.notice)
	}
	return top + "\n" + search + "\n" + notice + "\n" + body
}
