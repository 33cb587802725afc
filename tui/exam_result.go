package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/exam"
)

// examResult is the page after an exam: the score, each task with what
// was still wrong, and the lessons to review. It is drawn once per size.
type examResult struct {
	c        *common
	res      exam.Result
	width    int
	viewport viewport.Model
}

func newExamResult(c *common, res exam.Result) *examResult {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	return &examResult{c: c, res: res, viewport: vp}
}

func (r *examResult) SetSize(w, h int) {
	r.viewport.SetWidth(w)
	r.viewport.SetHeight(max(1, h))
	if w != r.width {
		r.width = w
		r.viewport.SetContent(r.draw())
	}
}

// draw lays the result out for the width; every message wraps, so
// nothing is cut at 80 columns.
func (r *examResult) draw() string {
	st := r.c.styles
	res := r.res
	width := max(20, r.width-2)
	wrap := func(indent int, text string) string {
		lines := wrapMessage(text, width-indent)
		return strings.Repeat(" ", indent) + strings.Join(lines, "\n"+strings.Repeat(" ", indent))
	}
	var b strings.Builder
	why := "Time is up."
	if res.Ended == exam.EndedFinished {
		why = fmt.Sprintf("Finished after %s.", res.EndedAt.Sub(res.StartedAt).Round(time.Second))
	}
	b.WriteString(" " + st.Bold.Render(fmt.Sprintf("Score %d/%d", res.Score, res.MaxScore)) + st.Muted.Render(" · "+why) + "\n\n")
	for i, m := range res.Tasks {
		mark, style := "✓", st.Done
		if !m.Passed() {
			mark, style = "✗", st.Wrong
		}
		pts := fmt.Sprintf("%d/%d", m.Points, m.MaxPoints)
		head := fmt.Sprintf(" %s %d. %s", style.Render(mark), i+1, m.Title)
		head = truncate(head, r.width-len(pts)-len(m.Lab)-5)
		right := st.Muted.Render(m.Lab+" · ") + pts
		b.WriteString(head + pad(r.width-1, lipgloss.Width(head), lipgloss.Width(right)) + right + "\n")
		for _, w := range m.Wrong {
			// Wrapped lines hang under the text, not the bullet.
			lines := strings.Split(wrap(7, w), "\n")
			lines[0] = "     • " + strings.TrimLeft(lines[0], " ")
			b.WriteString(st.Muted.Render(strings.Join(lines, "\n")) + "\n")
		}
	}
	if len(res.Review) > 0 {
		b.WriteString("\n " + st.Bold.Render("Lessons to review") + "\n")
		for _, l := range res.Review {
			b.WriteString(wrap(3, l.Title+st.Muted.Render(" (k8slab lessons show "+l.ID+")")) + "\n")
		}
	}
	b.WriteString("\n" + st.Muted.Render(wrap(1, "Saved in your progress. Export it with 'k8slab exam --last --format junit' (or json, gradescope); "+res.Again()+".")))
	return b.String()
}

func (r *examResult) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		scroll(&r.viewport, r.c.keys, k)
	}
	return nil
}

func (r *examResult) View() string { return r.viewport.View() }

func (r *examResult) Title() string {
	return fmt.Sprintf("Practice exam · seed %d · result", r.res.Seed)
}

func (r *examResult) Typing() bool { return false }

func (r *examResult) ShortHelp() []key.Binding {
	k := r.c.keys
	return []key.Binding{k.Down, k.PageDown, k.Quit}
}

func (r *examResult) ShortHelpLines() [][]key.Binding { return [][]key.Binding{r.ShortHelp()} }

func (r *examResult) FullHelp() [][]key.Binding {
	k := r.c.keys
	return [][]key.Binding{{k.Up, k.Down}, {k.PageUp, k.PageDown}, {k.Quit}}
}
