package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/k8slab/k8slab/internal/wordwrap"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/labfile"
)

// goalPane shows the task under the cursor: what is still wrong with it,
// its goal, the hints asked for and, once confirmed, the reference
// solution. The goal is rendered as Markdown in a command.
type goalPane struct {
	d        *labData
	width    int
	goal     string
	viewport viewport.Model
	// reveal is the text of a line just asked for (a hint, the solution):
	// when the goal comes back rendered with it, the pane scrolls to it,
	// since it is added below what the learner was reading.
	reveal string
}

func newGoalPane(d *labData) *goalPane {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	return &goalPane{d: d, viewport: vp}
}

func (g *goalPane) SetSize(w, h int) {
	g.width = w
	g.viewport.SetWidth(w)
	g.viewport.SetHeight(max(1, h))
}

func (g *goalPane) goalWidth() int { return max(20, min(g.width, 100)) }

func (g *goalPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case lessonRenderedMsg:
		if t := g.d.task(); t == nil || !strings.HasPrefix(msg.key.id, g.d.lab.ID+"/"+t.ID+"/") {
			return nil
		}
		g.goal = msg.content
		g.refresh()
		g.scrollToReveal()
	case tea.KeyPressMsg:
		scrollPage(&g.viewport, g.d.c.keys, msg)
	}
	return nil
}

// scrollToReveal brings the line asked for to the top of the pane, once
// it has been rendered.
func (g *goalPane) scrollToReveal() {
	if g.reveal == "" {
		return
	}
	for i, l := range strings.Split(ansi.Strip(g.viewport.GetContent()), "\n") {
		if strings.Contains(l, g.reveal) {
			g.viewport.SetYOffset(max(0, i-1))
			g.reveal = ""
			return
		}
	}
}

// top shows the start of a task: what is not done yet, then its goal.
func (g *goalPane) top() {
	g.reveal = ""
	g.viewport.GotoTop()
}

func (g *goalPane) ShortHelp() []key.Binding {
	return []key.Binding{g.d.c.keys.PageDown}
}

func (g *goalPane) FullHelp() [][]key.Binding {
	k := g.d.c.keys
	return [][]key.Binding{{k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Hint, k.Solution}}
}

func (g *goalPane) View() string { return g.viewport.View() }

// refresh puts the task's state above its goal.
func (g *goalPane) refresh() {
	content := g.goal
	if d := g.detail(); d != "" {
		content = d + "\n" + g.goal
	}
	g.viewport.SetContent(content)
}

// render renders the current task's goal, hints shown so far and, when
// revealed, the solution, as Markdown in a command.
func (g *goalPane) render() tea.Cmd {
	t := g.d.task()
	if t == nil || g.width == 0 {
		return nil
	}
	c := g.d.c
	st := g.d.progress().Tasks[t.ID]
	var md strings.Builder
	md.WriteString("## " + t.Title + "\n\n" + strings.TrimSpace(t.Goal) + "\n")
	md.WriteString(g.d.taskNotes(t))
	for i := 0; i < st.HintsUsed && i < len(t.Hints); i++ {
		fmt.Fprintf(&md, "\n**Hint %d.** %s\n", i+1, strings.TrimSpace(t.Hints[i]))
	}
	if st.SolutionSeen {
		md.WriteString(solutionMarkdown(t))
	}
	port := g.d.nodePort()
	k := renderKey{id: g.d.lab.ID + "/" + t.ID + fmt.Sprintf("/%d/%v/%d", st.HintsUsed, st.SolutionSeen, port), width: g.goalWidth(), style: c.styles.Markdown}
	renderer, text := c.renderer, md.String()
	if port != 0 {
		text = labfile.ExpandNodePort(text, port)
	} else {
		text = strings.ReplaceAll(text, labfile.NodePortPlaceholder, "(your nodePort, shown once the lab is graded)")
	}
	return func() tea.Msg {
		out, err := renderer.Render(text, k.style, k.width)
		return lessonRenderedMsg{key: k, content: strings.Trim(out, "\n"), err: err}
	}
}

// solutionMarkdown shows the reference solution as shell code blocks, which
// the lesson renderer shows line for line: a heredoc keeps its YAML as
// written, and a long command is broken at spaces with " \" so that
// copying it gives the same command.
func solutionMarkdown(t *labfile.Task) string {
	var b strings.Builder
	b.WriteString("\n**Reference solution** (marked as seen in your progress):\n")
	for _, step := range t.Solution {
		code := strings.TrimRight(step.Run, "\n")
		if step.Run == "" {
			code = "kubectl apply -f - <<'EOF'\n" + strings.TrimSpace(step.Apply) + "\nEOF"
		}
		fence := "```"
		for strings.Contains(code, fence) {
			fence += "`"
		}
		b.WriteString("\n" + fence + "sh\n" + code + "\n" + fence + "\n")
	}
	return b.String()
}

// detail explains the state of the task under the cursor above its goal:
// every failing message, wrapped, with what it means for the learner.
func (g *goalPane) detail() string {
	t := g.d.task()
	if t == nil {
		return ""
	}
	st := g.d.c.styles
	r := g.d.taskResult(g.d.cursor)
	width := g.goalWidth() - 4
	para := func(style lipgloss.Style, text string) string {
		return lipgloss.NewStyle().PaddingLeft(2).Render(style.Render(lipgloss.Wrap(text, width, "")))
	}
	var head string
	switch classify(r, g.d.passedBefore(t.ID)) {
	case stateChecking, stateDone:
		return ""
	case stateSettling:
		head = para(st.Next, "Settling: the cluster is still carrying out your change. Nothing to do but wait a moment; this updates by itself.")
	case stateKept:
		head = para(st.Done, "Done earlier. A later change means it no longer holds, which is expected when a later task changes the same objects:")
	case stateBroken:
		head = para(st.Wrong, "The cluster could not be read, so this task cannot be graded right now:")
	default:
		head = para(st.Bold, "Not done yet:")
	}
	var b strings.Builder
	b.WriteString(head + "\n")
	for _, m := range failureMessages(r) {
		b.WriteString("  • " + strings.Join(wrapMessage(m, width-2), "\n    ") + "\n")
	}
	return b.String()
}

// wrapMessage wraps a message from the checks at spaces only, since its
// commands and names are copied as they are ("kubectl apply
// --server-side", "web-69c6f74b8b-2pmpm"); only a word wider than the
// pane is cut.
func wrapMessage(m string, width int) []string {
	var out []string
	for _, para := range strings.Split(m, "\n") {
		for _, line := range wordwrap.Lines(para, width) {
			out = append(out, strings.Split(ansi.Hardwrap(line, width, true), "\n")...)
		}
	}
	return out
}

// taskNotes says, under a task's goal, what this cluster or this learner
// cannot do of it: a simulated cluster's missing features, a workshop
// learner's missing rights.
func (d *labData) taskNotes(t *labfile.Task) string {
	var md strings.Builder
	if missing := d.missing(t.Features); missing != "" {
		md.WriteString("\n**Note:** this task needs " + missing + ", which a simulated cluster cannot show; do it on a kind cluster.\n")
	}
	switch {
	case !d.workshop:
	case slices.Contains(t.Features, labfile.ClusterWide):
		md.WriteString("\n**In this workshop:** this task changes the whole cluster, which your account may not do. Your instructor shows it; follow along, and it is not graded for you.\n")
	case slices.Contains(t.Features, labfile.NodePortFromHost):
		md.WriteString("\n**In this workshop:** this task reaches a NodePort from the machine that runs the cluster, which is not yours. Your instructor shows it; follow along, and it is not graded for you.\n")
	}
	return md.String()
}

// missing names the features in fs that a simulated cluster lacks; for a
// workshop learner, only those the workshop's note does not cover.
func (d *labData) missing(fs []labfile.Feature) string {
	if d.provider != "sim" {
		return ""
	}
	var out []string
	for _, f := range fs {
		switch f {
		case labfile.Containers:
			out = append(out, "running containers (logs, exec)")
		case labfile.Storage:
			out = append(out, "bound volumes")
		case labfile.NodePortFromHost:
			if !d.workshop {
				out = append(out, "a NodePort from your machine")
			}
		}
	}
	return strings.Join(out, ", ")
}
