package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
)

// common is the context every screen shares: what to show, where progress
// goes, and how to draw it.
type common struct {
	// ctx is the program's context: every call to the cluster made for the
	// TUI derives from it, so quitting stops them all.
	ctx      context.Context
	course   *course.Course
	store    *progress.Store
	renderer *lessons.Renderer
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time
	keys     *KeyMap
	styles   *Styles
	// lacks are the features the learner's cluster does not have (a
	// simulated cluster's, or cluster-wide rights in a workshop): the
	// course's progress leaves out the tasks that need them.
	lacks []labfile.Feature
}

// newCommon is what a program's screens share, with the defaults for
// what tests replace: the real clock, a new renderer, no parent context.
// stop cancels the context every cluster call made for the program
// derives from.
func newCommon(parent context.Context, crs *course.Course, store *progress.Store, r *lessons.Renderer,
	now func() time.Time, after func(time.Duration) <-chan time.Time, noColor bool) (c *common, stop context.CancelFunc) {
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	if r == nil {
		r = lessons.NewRenderer()
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := context.WithCancel(parent)
	return &common{ctx: ctx, course: crs, store: store, renderer: r, now: now, after: after,
		keys: DefaultKeyMap(), styles: NewStyles(true, noColor)}, stop
}

// screen is one full-window view that the root model routes messages to.
type screen interface {
	Update(tea.Msg) tea.Cmd
	// View renders the body; the root adds header, status and help.
	View() string
	SetSize(width, height int)
	// ShortHelp and FullHelp make every screen a help.KeyMap.
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Title is shown in the header.
	Title() string
	// Typing reports whether keys go into a text field, so q must not quit.
	Typing() bool
}

// Navigation messages: screens ask the root to switch screens.
type (
	openLessonMsg struct{ id string }
	openQuizMsg   struct{ id string }
	openLabMsg    struct{ id string }
	goHomeMsg     struct{}
	// The cheat sheet and the glossary open over the current screen, which
	// closing them returns to. A glossary with a lesson lists the terms
	// that lesson introduces.
	openCheatSheetMsg struct{}
	openGlossaryMsg   struct{ lesson *lessons.Lesson }
	closeReferenceMsg struct{}
)

// progressSavedMsg reports the outcome of a write to the progress file.
type progressSavedMsg struct{ err error }

// saveProgress changes progress in memory at once, so every screen sees it,
// and writes it to disk in a command: file I/O never happens inside Update
// or View. Whatever is still unwritten when the program ends is flushed by
// the caller of Run (see App.Flush).
func (c *common) saveProgress(change func(*progress.Data)) tea.Cmd {
	c.store.Apply(change)
	store := c.store
	return func() tea.Msg {
		return progressSavedMsg{err: store.Save()}
	}
}

func navigate(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// scroll moves a viewport for the reading keys every scrolling screen
// shares, and reports whether msg was one of them.
func scroll(vp *viewport.Model, k *KeyMap, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	default:
		return scrollPage(vp, k, msg)
	}
	return true
}

// scrollPage pages a viewport, for a pane whose up and down keys move a
// cursor instead, and reports whether msg was a paging key.
func scrollPage(vp *viewport.Model, k *KeyMap, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.Top):
		vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		vp.GotoBottom()
	default:
		return false
	}
	return true
}

// flatten is a screen's help lines as one short help.
func flatten(lines [][]key.Binding) []key.Binding {
	var out []key.Binding
	for _, l := range lines {
		out = append(out, l...)
	}
	return out
}

// readingView draws a rendered Markdown document under its header line,
// with how far the reader has scrolled at the header's right; what names
// the document in the error a failed rendering shows.
func readingView(st *Styles, header, what string, err error, rendered bool, vp *viewport.Model, width int) string {
	switch {
	case err != nil:
		return header + "\n\n" + st.Error.Render(what+" could not be rendered: "+err.Error())
	case !rendered:
		return header + "\n\n" + st.Muted.Render(" Rendering…")
	}
	pos := fmt.Sprintf("%3.0f%%", vp.ScrollPercent()*100)
	if vp.TotalLineCount() <= vp.Height() {
		pos = "all"
	}
	header += pad(width, lipgloss.Width(header), len(pos)+1) + st.Muted.Render(pos)
	return header + "\n\n" + vp.View()
}
