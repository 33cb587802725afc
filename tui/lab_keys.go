package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui/stream"
)

// handleKey gives a key to whatever owns the keyboard: the answer field
// while it is open, a confirmation while one is asked, else the page's
// keys, then the task list and the pane.
func (s *labScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	s.notice = ""
	switch {
	case s.answer.open:
		return s.answer.Update(msg)
	case s.confirm != confirmNone:
		return s.confirmed(msg)
	}
	for _, b := range s.keyActions() {
		if key.Matches(msg, *b.key) {
			return b.do()
		}
	}
	if cmd := s.tasks.Update(msg); cmd != nil {
		return cmd
	}
	return s.pane().Update(msg)
}

type keyAction struct {
	key *key.Binding
	do  func() tea.Cmd
}

func (s *labScreen) keyActions() []keyAction {
	k := s.c.keys
	return []keyAction{
		{&k.Hint, s.hint},
		{&k.Solution, s.askSolution},
		{&k.Reset, s.askReset},
		{&k.Shell, s.openShell},
		{&k.Answer, s.editAnswer},
		{&k.Map, s.toggleMap},
		{&k.Timeline, s.toggleTimeline},
		{&k.Back, s.back},
	}
}

// confirmed answers the pending question; any key but yes declines.
func (s *labScreen) confirmed(msg tea.KeyPressMsg) tea.Cmd {
	what := s.confirm
	s.confirm = confirmNone
	if !key.Matches(msg, s.c.keys.Yes) {
		return nil
	}
	switch what {
	case confirmReset:
		s.busy = "Resetting the lab"
		// The old watch would report the namespace's deletion as every
		// task failing; grading resumes after the reset.
		s.streams.Stop(stream.Watch)
		s.d.result = nil
		return s.action("reset", s.svc.Reset)
	case confirmSolution:
		// Shown once the progress file says no practice exam is running.
		return s.c.examGate(s.d.lab.ID, s.d.task().ID)
	}
	return nil
}

func (s *labScreen) hint() tea.Cmd {
	t := s.d.task()
	if t == nil {
		return nil
	}
	used := s.d.progress().Tasks[t.ID].HintsUsed
	if used >= len(t.Hints) {
		// Say why nothing appeared, rather than leave h looking broken.
		s.notice = "No more hints for this task."
		if len(t.Solution) > 0 {
			s.notice += " S shows the reference solution."
		}
		return nil
	}
	s.goal.reveal = fmt.Sprintf("Hint %d.", used+1)
	return s.update(func(ts *progress.TaskState) { ts.HintsUsed++ })
}

func (s *labScreen) askSolution() tea.Cmd {
	switch t := s.d.task(); {
	case t == nil:
	case len(t.Solution) > 0:
		s.confirm = confirmSolution
	case t.Question != nil:
		s.notice = "This task is a question, so there are no commands to show. Press h for a hint, a to answer."
	default:
		s.notice = "This task has no reference solution."
	}
	return nil
}

func (s *labScreen) askReset() tea.Cmd {
	if s.svc == nil {
		return nil
	}
	s.confirm = confirmReset
	s.resetPrompt = " Its namespace is deleted and set up again. y/n"
	if len(labenv.ClusterScopedKinds(s.d.lab)) > 0 {
		// Say it: a volume is outside the namespace the learner sees.
		s.resetPrompt = " Its namespace, and what its setup made outside it, are deleted and set up again. y/n"
	}
	return nil
}

func (s *labScreen) openShell() tea.Cmd {
	if s.svc == nil {
		return nil
	}
	return s.shell()
}

func (s *labScreen) editAnswer() tea.Cmd {
	if t := s.d.task(); t != nil && t.Question != nil {
		return s.answer.edit(s.d.answers[t.ID])
	}
	return nil
}

func (s *labScreen) toggleMap() tea.Cmd {
	if s.mapSvc == nil {
		return nil
	}
	s.showMap = !s.showMap
	s.showTimeline = false
	if !s.showMap {
		s.goal.refresh()
		return nil
	}
	if !s.streams.Active(stream.Map) {
		return s.watchMap()
	}
	return nil
}

func (s *labScreen) back() tea.Cmd {
	s.stop()
	return navigate(goHomeMsg{})
}
