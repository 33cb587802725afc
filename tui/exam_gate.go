package tui

import (
	"fmt"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/progress"
)

// examGateMsg says whether a practice exam is running, read from the
// progress file when the learner asked for lab/task's solution.
type examGateMsg struct {
	lab, task string
	exam      *progress.ExamMarker
	err       error
}

// examGate reads the progress file again, in a command: an exam started in
// another terminal after this TUI opened is only on disk.
func (c *common) examGate(lab, task string) tea.Cmd {
	dir, now := filepath.Dir(c.store.Path()), c.now()
	return func() tea.Msg {
		st, _, err := progress.Open(dir)
		if err != nil {
			return examGateMsg{lab: lab, task: task, err: err}
		}
		d := st.Snapshot()
		return examGateMsg{lab: lab, task: task, exam: d.RunningExam(now)}
	}
}

// solutionGate shows the solution asked for, unless a practice exam runs.
func (s *labScreen) solutionGate(msg examGateMsg) tea.Cmd {
	switch {
	case msg.exam != nil:
		s.notice = fmt.Sprintf("A practice exam is running (seed %d, until %s): solutions stay hidden until it ends. It is practice, not proctoring.",
			msg.exam.Seed, msg.exam.Deadline.Local().Format("15:04"))
	case msg.err != nil:
		s.notice = "Could not read your progress to see whether an exam is running: " + msg.err.Error()
	default:
		s.goal.reveal = "Reference solution"
		return s.update(func(t *progress.TaskState) { t.SolutionSeen = true })
	}
	return nil
}
