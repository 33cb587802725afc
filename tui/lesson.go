package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
)

// lessonScreen shows one lesson, rendered from Markdown, in a scrollable
// viewport that remembers where the learner stopped.
type lessonScreen struct {
	c             *common
	width, height int

	lesson   *lessons.Lesson
	viewport viewport.Model
	// rendered is false until the text for the current width and style
	// arrives; meanwhile the screen says it is rendering.
	rendered bool
	// wantOffset is restored once the content arrives.
	wantOffset int
	markedRead bool
	err        error
}

type renderKey struct {
	id    string
	width int
	style lessons.Style
}

type lessonRenderedMsg struct {
	key     renderKey
	content string
	err     error
}

func newLessonScreen(c *common) *lessonScreen {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{} // keys are handled here, from the shared keymap
	return &lessonScreen{c: c, viewport: vp}
}

// open shows lesson l at the scroll offset saved in progress.
func (s *lessonScreen) open(l *lessons.Lesson, data progress.Data) tea.Cmd {
	s.lesson = l
	s.rendered = false
	s.err = nil
	s.markedRead = !data.Lessons[l.ID].ReadAt.IsZero()
	s.wantOffset = data.Lessons[l.ID].Offset
	s.viewport.SetContent("")
	s.viewport.SetYOffset(0)
	return s.render()
}

// textWidth keeps lines at a readable length on wide terminals.
func (s *lessonScreen) textWidth() int { return min(s.width, 100) }

func (s *lessonScreen) render() tea.Cmd {
	if s.lesson == nil || s.width == 0 {
		return nil
	}
	k := renderKey{id: s.lesson.ID, width: s.textWidth(), style: s.c.styles.Markdown}
	renderer, body := s.c.renderer, s.lesson.Body+s.termsFooter()
	return func() tea.Msg {
		out, err := renderer.Render(body, k.style, k.width)
		return lessonRenderedMsg{key: k, content: strings.Trim(out, "\n"), err: err}
	}
}

func (s *lessonScreen) SetSize(w, h int) {
	if s.rendered && s.width != w {
		// Keep the reader's place proportionally across a re-wrap.
		s.wantOffset = int(s.viewport.ScrollPercent() * float64(max(0, s.viewport.TotalLineCount()-s.viewport.Height())))
		s.rendered = false
	}
	s.width, s.height = w, h
	s.viewport.SetWidth(w)
	s.viewport.SetHeight(max(1, h-2))
}

// restyle re-renders after the colour theme changed.
func (s *lessonScreen) restyle() tea.Cmd {
	if s.lesson == nil {
		return nil
	}
	s.wantOffset = s.viewport.YOffset()
	s.rendered = false
	return s.render()
}

func (s *lessonScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if !s.rendered {
			return s.render()
		}
	case lessonRenderedMsg:
		if s.lesson == nil || msg.key != (renderKey{s.lesson.ID, s.textWidth(), s.c.styles.Markdown}) {
			return nil // stale: the learner moved on or resized
		}
		if s.rendered {
			// A second rendering of the same text (a window size that
			// arrived before the first was done asks for one) would put
			// the reader back where the lesson opened.
			return nil
		}
		s.err = msg.err
		s.rendered = true
		s.viewport.SetContent(msg.content)
		s.viewport.SetYOffset(s.wantOffset)
		return s.markReadIfAtEnd()
	case tea.KeyPressMsg:
		k := s.c.keys
		switch {
		case scroll(&s.viewport, k, msg):
		case key.Matches(msg, k.NextLesson):
			if q := s.quizNext(); q != "" {
				return tea.Batch(s.leave(true), navigate(openQuizMsg{q}))
			}
			if next := s.c.course.Next(s.lesson); next != nil {
				return tea.Batch(s.leave(true), navigate(openLessonMsg{next.ID}))
			}
		case key.Matches(msg, k.PrevLesson):
			if prev := s.c.course.Previous(s.lesson); prev != nil {
				return tea.Batch(s.leave(false), navigate(openLessonMsg{prev.ID}))
			}
		case key.Matches(msg, k.Back):
			return tea.Batch(s.leave(false), navigate(goHomeMsg{}))
		case key.Matches(msg, s.termsKey()):
			return navigate(openGlossaryMsg{s.lesson})
		}
		return s.markReadIfAtEnd()
	}
	return nil
}

// markReadIfAtEnd counts a lesson as read once its end has been on screen.
func (s *lessonScreen) markReadIfAtEnd() tea.Cmd {
	if s.markedRead || !s.rendered || !s.viewport.AtBottom() {
		return nil
	}
	s.markedRead = true
	id, offset, at := s.lesson.ID, s.viewport.YOffset(), s.c.now()
	return s.c.saveProgress(func(d *progress.Data) { d.MarkLessonRead(id, offset, at) })
}

// leave saves the scroll position; moving on with "next" counts as read.
func (s *lessonScreen) leave(read bool) tea.Cmd {
	if s.lesson == nil {
		return nil
	}
	id, offset, at := s.lesson.ID, s.viewport.YOffset(), s.c.now()
	wasRead := s.markedRead || read
	return s.c.saveProgress(func(d *progress.Data) {
		if wasRead {
			d.MarkLessonRead(id, offset, at)
			return
		}
		st := d.Lessons[id]
		st.Offset = offset
		if d.Lessons == nil {
			d.Lessons = map[string]progress.LessonState{}
		}
		d.Lessons[id] = st
	})
}

func (s *lessonScreen) Title() string {
	if s.lesson == nil {
		return ""
	}
	m := s.c.course.ModuleOf(s.lesson)
	n := slices.Index(m.Lessons, s.lesson) + 1
	return fmt.Sprintf("%s › %d/%d %s", m.Title, n, len(m.Lessons), s.lesson.Title)
}

func (s *lessonScreen) Typing() bool { return false }

var markdownSpecial = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`)

// markdownEscape makes text appear as written in rendered Markdown.
func markdownEscape(text string) string { return markdownSpecial.Replace(text) }

// quizNext is the quiz that 'next' offers: at the end of a module's last
// lesson, its quiz, unless already passed.
func (s *lessonScreen) quizNext() string {
	if s.lesson == nil {
		return ""
	}
	m := s.c.course.ModuleOf(s.lesson)
	if m.Quiz == nil || len(m.Lessons) == 0 || m.Lessons[len(m.Lessons)-1] != s.lesson {
		return ""
	}
	if s.c.store.Snapshot().Quizzes[m.Quiz.ID].Passed {
		return ""
	}
	return m.Quiz.ID
}

// nextKey is 'next lesson', or 'take the quiz' where that is what it does.
func (s *lessonScreen) nextKey() key.Binding {
	k := s.c.keys.NextLesson
	if s.quizNext() != "" {
		return key.NewBinding(key.WithKeys(k.Keys()...), key.WithHelp(k.Help().Key, "take the quiz"))
	}
	return k
}

// termsFooter ends a lesson with the glossary terms it introduces, so
// that where a term first appears links to its definition.
func (s *lessonScreen) termsFooter() string {
	terms := s.c.course.TermsIntroducedIn(s.lesson)
	if len(terms) == 0 {
		return ""
	}
	names := make([]string, len(terms))
	for i, t := range terms {
		names[i] = markdownEscape(t.Term)
	}
	return fmt.Sprintf("\n\n---\n\n**Terms introduced here:** %s. Press **%s** to look them up.\n",
		strings.Join(names, ", "), markdownEscape(s.c.keys.LessonTerms.Help().Key))
}

// termsKey is enabled for a lesson that introduces glossary terms.
func (s *lessonScreen) termsKey() key.Binding {
	k := s.c.keys.LessonTerms
	k.SetEnabled(s.lesson != nil && len(s.c.course.TermsIntroducedIn(s.lesson)) > 0)
	return k
}

func (s *lessonScreen) ShortHelp() []key.Binding {
	return flatten(s.ShortHelpLines())
}

func (s *lessonScreen) ShortHelpLines() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Down, k.PageDown, s.nextKey(), k.Back, k.Help}, {s.termsKey(), k.CheatSheet, k.Glossary}}
}

func (s *lessonScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom}, {s.nextKey(), k.PrevLesson, k.Back}, {s.termsKey(), k.CheatSheet, k.Glossary}, {k.Quit, k.Help}}
}

func (s *lessonScreen) View() string {
	st := s.c.styles
	if s.lesson == nil {
		return ""
	}
	header := st.Bold.Render(" "+s.lesson.Title) + st.Muted.Render(fmt.Sprintf("  · %d min read", s.lesson.Minutes))
	return readingView(st, header, "This lesson", s.err, s.rendered, &s.viewport, s.width)
}
