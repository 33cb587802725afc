package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
)

// labData is what the lab page's components share: the lab, its latest
// result and the task under the cursor. The page owns it; components read
// it and the task list moves the cursor.
type labData struct {
	c       *common
	lab     *labfile.Lab
	result  *checks.LabResult
	cursor  int
	answers map[string]string
	// provider runs the current cluster ("sim" lacks some features);
	// workshop: the learner is fenced into their own namespaces.
	provider string
	workshop bool
}

// nodePort is the nodePort the lab asks for in the learner's namespace:
// the grading's, which read it from the namespace; before the first
// grading, 30080 outside a workshop and not yet known inside one.
func (d *labData) nodePort() int {
	switch {
	case d.result != nil && d.result.NodePort != 0:
		return d.result.NodePort
	case d.workshop:
		return 0
	}
	return labfile.DefaultNodePort
}

func (d *labData) task() *labfile.Task {
	if d.lab == nil || d.cursor >= len(d.lab.Tasks) {
		return nil
	}
	return &d.lab.Tasks[d.cursor]
}

func (d *labData) taskResult(i int) *checks.TaskResult {
	if d.result == nil {
		return nil
	}
	for j := range d.result.Tasks {
		if d.result.Tasks[j].ID == d.lab.Tasks[i].ID {
			return &d.result.Tasks[j]
		}
	}
	return nil
}

// progress is the lab's saved state.
func (d *labData) progress() progress.LabState {
	return d.c.store.Snapshot().Labs[d.lab.ID]
}

// passedBefore reports whether progress records the task as passed.
func (d *labData) passedBefore(task string) bool {
	return !d.progress().Tasks[task].PassedAt.IsZero()
}

// state is the task's state as the list draws it.
func (d *labData) state(i int) taskState {
	return classify(d.taskResult(i), d.passedBefore(d.lab.Tasks[i].ID))
}

// counts reports whether task i counts as done.
func (d *labData) counts(i int) bool {
	switch d.state(i) {
	case stateDone, stateKept:
		return true
	case stateSettling:
		return d.passedBefore(d.lab.Tasks[i].ID)
	}
	return false
}

// complete is true when every task is done, now or earlier, and the cluster
// answered the last grading.
func (d *labData) complete() bool {
	if d.lab == nil || d.result == nil {
		return false
	}
	for i := range d.lab.Tasks {
		if !d.counts(i) {
			return false
		}
	}
	return true
}

// taskMovedMsg tells the page that the cursor moved to another task.
type taskMovedMsg struct{}

// taskList draws the lab's tasks with their live state and moves the
// cursor.
type taskList struct {
	d     *labData
	width int
	// notGraded, when set, says why tasks without a result are not graded.
	notGraded string
}

func (l *taskList) SetSize(w, _ int) { l.width = w }

func (l *taskList) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || l.d.lab == nil {
		return nil
	}
	keys := l.d.c.keys
	switch {
	case key.Matches(k, keys.Up) && l.d.cursor > 0:
		l.d.cursor--
	case key.Matches(k, keys.Down) && l.d.cursor < len(l.d.lab.Tasks)-1:
		l.d.cursor++
	default:
		return nil
	}
	return navigate(taskMovedMsg{})
}

func (l *taskList) ShortHelp() []key.Binding  { return []key.Binding{l.d.c.keys.Up, l.d.c.keys.Down} }
func (l *taskList) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }

// done counts the tasks done, now or earlier.
func (l *taskList) done() int {
	n := 0
	for i := range l.d.lab.Tasks {
		if l.d.counts(i) {
			n++
		}
	}
	return n
}

func (l *taskList) View() string {
	st := l.d.c.styles
	var b strings.Builder
	for i, t := range l.d.lab.Tasks {
		r := l.d.taskResult(i)
		state := l.d.state(i)
		mark, style, note := taskLook(st, state, r)
		if state == stateChecking && l.notGraded != "" {
			note = "not graded: " + l.notGraded
		}
		cursor := "  "
		title := t.Title
		if i == l.d.cursor {
			cursor = st.Selected.Render("›") + " "
			title = st.Selected.Render(title)
		}
		line := fmt.Sprintf(" %s%s %s", cursor, style.Render(mark), title)
		if note != "" {
			// The detail pane below shows the whole of every message.
			line += "  " + st.Muted.Render(truncate(note, max(10, l.width-lipgloss.Width(t.Title)-8)))
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// taskLook is how the task list draws each state: a mark and a colour,
// each state with its own mark so that colour is never the only cue.
func taskLook(st *Styles, state taskState, r *checks.TaskResult) (mark string, style lipgloss.Style, note string) {
	switch state {
	case stateDone:
		return "✓", st.Done, "done"
	case stateKept:
		return "✓", st.Done, "done · changed since"
	case stateSettling:
		return "◌", st.Next, "settling… " + firstMessage(r)
	case stateBroken:
		return "!", st.Wrong, firstMessage(r)
	case stateNotDone:
		if r.Status == checks.Missing {
			return "·", st.Muted, firstMessage(r)
		}
		return "✗", st.Muted, firstMessage(r)
	}
	return "…", st.Muted, "checking"
}

func firstMessage(r *checks.TaskResult) string {
	for _, c := range r.Checks {
		if c.Status != checks.Pass && len(c.Messages) > 0 {
			return c.Messages[0]
		}
	}
	return string(r.Status)
}
