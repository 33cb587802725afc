package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
)

// cheatSheetScreen shows the course's kubectl cheat sheet over whatever
// screen was open; closing it returns there. It is rendered like a lesson,
// with the same renderer and its cache, so opening it again at a width
// seen before is instant.
type cheatSheetScreen struct {
	c             *common
	width, height int

	viewport viewport.Model
	// over is the title of the screen the cheat sheet covers.
	over string
	// rendered is set while the viewport holds the text for the current
	// width and style; shown is what it was rendered for.
	rendered bool
	shown    renderKey
	err      error
}

type cheatSheetRenderedMsg struct {
	key     renderKey
	content string
	err     error
}

func newCheatSheetScreen(c *common) *cheatSheetScreen {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	return &cheatSheetScreen{c: c, viewport: vp}
}

// open shows the cheat sheet from its top, over the screen titled over.
func (s *cheatSheetScreen) open(over string) tea.Cmd {
	s.over = over
	s.viewport.GotoTop()
	if s.rendered && s.renderKey() == s.shown {
		return nil
	}
	s.rendered = false
	return s.render()
}

func (s *cheatSheetScreen) textWidth() int { return min(s.width, 100) }

func (s *cheatSheetScreen) renderKey() renderKey {
	return renderKey{id: "cheatsheet", width: s.textWidth(), style: s.c.styles.Markdown}
}

func (s *cheatSheetScreen) render() tea.Cmd {
	cs := s.c.course.CheatSheet
	if cs == nil || s.width == 0 {
		return nil
	}
	k, renderer := s.renderKey(), s.c.renderer
	return func() tea.Msg {
		out, err := renderer.Render(cs.Body, k.style, k.width)
		return cheatSheetRenderedMsg{key: k, content: strings.Trim(out, "\n"), err: err}
	}
}

func (s *cheatSheetScreen) SetSize(w, h int) {
	if s.width != w {
		s.rendered = false
	}
	s.width, s.height = w, h
	s.viewport.SetWidth(w)
	s.viewport.SetHeight(max(1, h-2))
}

// restyle re-renders after the colour theme changed.
func (s *cheatSheetScreen) restyle() tea.Cmd {
	s.rendered = false
	return s.render()
}

func (s *cheatSheetScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if !s.rendered {
			return s.render()
		}
	case cheatSheetRenderedMsg:
		if msg.key != s.renderKey() {
			return nil // stale: resized since
		}
		s.err, s.rendered, s.shown = msg.err, true, msg.key
		offset := s.viewport.YOffset()
		s.viewport.SetContent(msg.content)
		s.viewport.SetYOffset(offset)
	case tea.KeyPressMsg:
		k := s.c.keys
		switch {
		case scroll(&s.viewport, k, msg):
		case key.Matches(msg, k.Close):
			return navigate(closeReferenceMsg{})
		}
	}
	return nil
}

func (s *cheatSheetScreen) Title() string {
	if cs := s.c.course.CheatSheet; cs != nil {
		return cs.Title
	}
	return ""
}

func (s *cheatSheetScreen) Typing() bool { return false }

func (s *cheatSheetScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Down, k.PageDown, k.Glossary, k.Close, k.Help}
}

func (s *cheatSheetScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom}, {k.Glossary, k.Close, k.ForceQuit}}
}

func (s *cheatSheetScreen) View() string {
	st := s.c.styles
	cs := s.c.course.CheatSheet
	if cs == nil {
		return ""
	}
	// Where esc goes, since the cheat sheet hides that screen entirely.
	header := st.Muted.Render(" esc/q returns to " + truncate(s.over, s.width-30))
	return readingView(st, header, "The cheat sheet", s.err, s.rendered, &s.viewport, s.width)
}
