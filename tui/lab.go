package tui

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui/stream"
)

// LabService is what the lab screen needs from the cluster; tests give it a
// scripted fake.
type LabService interface {
	// Watch grades lab now and after every relevant change until ctx ends.
	Watch(ctx context.Context, lab *labfile.Lab, answers map[string]string, onResult func(checks.LabResult)) error
	// Start creates the lab namespace and applies the setup; Reset makes it
	// afresh.
	Start(ctx context.Context, lab *labfile.Lab) error
	Reset(ctx context.Context, lab *labfile.Lab) error
	// Namespace is where lab runs.
	Namespace(lab *labfile.Lab) string
	// Shell is the learner's shell, set up for the lab's cluster and
	// namespace. It may resolve the cluster and write files, so the screen
	// calls it in a command.
	Shell(lab *labfile.Lab) (*exec.Cmd, error)
}

type labConfirm int

const (
	confirmNone labConfirm = iota
	confirmReset
	confirmSolution
)

// labScreen is the lab page: the task list, the line under it (prompts,
// notices, errors), and below them the task's goal or the cluster map. The
// components draw; the page routes messages and keys to them and runs the
// streams that grade the lab and feed the map, through a stream
// controller that keeps their identities.
type labScreen struct {
	c             *common
	svc           LabService
	mapSvc        MapService
	width, height int

	d       *labData
	tasks   *taskList
	goal    *goalPane
	cmap    *mapPane
	answer  *labAnswer
	streams *stream.Controller
	showMap bool

	timeline     *timelinePane
	showTimeline bool

	confirm labConfirm
	// resetPrompt is what the reset confirmation says will happen, worked
	// out when it is asked for rather than on every frame.
	resetPrompt string
	busy        string
	err         error
	// started is set once the lab namespace is set up.
	started bool

	// Set by the root from the cluster state: whether 'c' can create a
	// cluster; noCluster when the status check found no lab cluster at
	// all, as opposed to one that does not answer; clusterUp when it
	// answers.
	canCreateCluster     bool
	noCluster, clusterUp bool
	// actionErr is a reset that failed on a cluster that answers; it stays
	// on screen until the next action, since retrying would not help.
	actionErr error

	// notice answers a key that could do nothing, until the next key.
	notice string
	// done is the completion summary, made once when every task passes.
	done string
	// terminalCommand makes the command shown for the learner's own
	// terminal (see Options.TerminalCommand).
	terminalCommand func(*labfile.Lab) string
	// where tells the learner the lab's namespace and how to use it from
	// their own terminal; made when the lab opens.
	namespace, command string
}

func newLabScreen(c *common, svc LabService, mapSvc MapService) *labScreen {
	d := &labData{c: c, answers: map[string]string{}}
	s := &labScreen{
		c: c, svc: svc, mapSvc: mapSvc, d: d,
		tasks:   &taskList{d: d},
		goal:    newGoalPane(d),
		cmap:    newMapPane(c),
		answer:  newLabAnswer(c.keys),
		streams: stream.New(c.ctx, stream.ClockFunc(c.after), minBackoff, maxBackoff),
	}
	s.timeline = newTimelinePane(c)
	return s
}

func (s *labScreen) open(lab *labfile.Lab) tea.Cmd {
	s.stop()
	s.d.lab, s.d.result, s.d.cursor, s.confirm, s.err, s.busy = lab, nil, 0, confirmNone, nil, ""
	s.started, s.done, s.actionErr = false, "", nil
	s.streams.ResetBackoff()
	s.d.answers = map[string]string{}
	s.answer.close()
	for id, t := range s.d.progress().Tasks {
		if t.Answer != "" {
			s.d.answers[id] = t.Answer
		}
	}
	now := s.c.now()
	save := s.c.saveProgress(func(d *progress.Data) { d.StartLab(lab.ID, now) })
	s.namespace, s.command = "", ""
	if s.svc != nil {
		s.namespace = s.svc.Namespace(lab)
	}
	if s.terminalCommand != nil {
		s.command = s.terminalCommand(lab)
	}
	if s.svc == nil {
		s.err = errNoConnection
		return tea.Batch(save, s.goal.render())
	}
	return tea.Batch(save, s.start(), s.goal.render())
}

// stop ends every stream of the lab, as when the learner leaves it.
func (s *labScreen) stop() {
	s.streams.StopAll()
	s.showMap = false
	s.cmap.show(nil)
	s.showTimeline = false
	s.timeline.show(nil, false)
}

func (s *labScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.tasks.SetSize(w, h)
	s.answer.SetSize(w, h)
	s.layout()
}

// layout gives the pane what the lines above it leave, which vary with
// wrapped messages.
func (s *labScreen) layout() {
	ph := s.height
	if s.d.lab != nil {
		ph = max(1, s.height-lipgloss.Height(s.top()))
	}
	s.goal.SetSize(s.width, ph)
	s.cmap.SetSize(s.width, ph)
	s.timeline.SetSize(s.width, ph)
}

func (s *labScreen) Typing() bool { return s.answer.open }

func (s *labScreen) Title() string {
	if s.d.lab == nil {
		return ""
	}
	return "Lab: " + s.d.lab.Title
}

func (s *labScreen) Update(msg tea.Msg) tea.Cmd {
	cmd := s.handle(msg)
	if s.d.lab != nil {
		// Keep paging in step with the pane's height as View draws it.
		s.layout()
	}
	return cmd
}

func (s *labScreen) handle(msg tea.Msg) tea.Cmd {
	if cmd, ok := s.handleStream(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return s.goal.render()
	case lessonRenderedMsg:
		return s.goal.Update(msg)
	case taskMovedMsg:
		s.goal.refresh()
		s.goal.top()
		return s.goal.render()
	case answerSubmittedMsg:
		return s.submit(msg.text)
	case examGateMsg:
		if t := s.d.task(); t != nil && s.d.lab.ID == msg.lab && t.ID == msg.task {
			return s.solutionGate(msg)
		}
	case tea.KeyPressMsg:
		return s.handleKey(msg)
	case tea.PasteMsg:
		if s.answer.open {
			return s.answer.Update(msg)
		}
	}
	return nil
}

// submit keeps an answer and grades with it: the watch restarts with it.
func (s *labScreen) submit(answer string) tea.Cmd {
	t := s.d.task()
	if t == nil {
		return nil
	}
	s.d.answers[t.ID] = answer
	save := s.update(func(ts *progress.TaskState) { ts.Answer = answer })
	s.streams.Stop(stream.Watch)
	if s.svc != nil {
		return tea.Batch(save, s.watch())
	}
	return save
}

// update changes the current task's progress and re-renders its goal.
func (s *labScreen) update(change func(*progress.TaskState)) tea.Cmd {
	lab, task := s.d.lab.ID, s.d.task().ID
	save := s.c.saveProgress(func(d *progress.Data) { d.UpdateTask(lab, task, change) })
	return tea.Batch(save, s.goal.render())
}

// pane is the component below the task list.
func (s *labScreen) pane() component {
	if s.showTimeline {
		return s.timeline
	}
	if s.showMap {
		return s.cmap
	}
	return s.goal
}

func (s *labScreen) ShortHelp() []key.Binding {
	return flatten(s.ShortHelpLines())
}

// ShortHelpLines puts the lab's keys on two lines, so that at 80 columns
// none is dropped.
func (s *labScreen) ShortHelpLines() [][]key.Binding {
	k := s.c.keys
	if s.confirm != confirmNone {
		return [][]key.Binding{{k.Yes, k.No}}
	}
	if s.answer.open {
		return [][]key.Binding{s.answer.ShortHelp()}
	}
	work := append(s.tasks.ShortHelp(), k.Hint, k.Solution)
	if t := s.d.task(); t != nil && t.Question != nil {
		work = append(work, k.Answer)
	}
	work = append(work, k.Shell, k.Map, k.Timeline)
	return [][]key.Binding{work, {k.Reset, k.ClusterUp, k.PageDown, k.Back, k.Help}, {k.CheatSheet, k.Glossary}}
}

func (s *labScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down}, {k.PageUp, k.PageDown}, {k.Top, k.Bottom}, {k.Hint, k.Solution}, {k.Shell, k.Map, k.Timeline, k.Reset}, {k.CheatSheet, k.Glossary}, {k.Back, k.Quit, k.Help}}
}

// Legend says what the task list's marks mean.
func (s *labScreen) Legend() []string {
	return []string{"✓ done", "✗ not done yet", "· not started (what it checks is missing)", "◌ settling: the cluster is still carrying out a change", "… checking", "! cannot read the cluster"}
}

func (s *labScreen) View() string {
	if s.d.lab == nil {
		return ""
	}
	top := s.top()
	// The lines above the pane vary (wrapped messages), so the pane gets
	// what is left; View draws a copy sized for it, free of side effects.
	h := max(1, s.height-lipgloss.Height(top))
	vp := s.goal.viewport
	switch {
	case s.showTimeline:
		vp = s.timeline.viewport
	case s.showMap:
		vp = s.cmap.viewport
	}
	vp.SetHeight(h)
	return top + "\n" + s.moreBelow(vp)
}

// moreBelow draws the pane, its last line saying so when more of it lies
// below: at 80x24 a map's services and legend, or a long goal's end,
// would otherwise be out of sight with no sign that the pane scrolls.
func (s *labScreen) moreBelow(vp viewport.Model) string {
	out := vp.View()
	if vp.Height() < 3 || vp.AtBottom() || vp.TotalLineCount() <= vp.Height() {
		return out
	}
	lines := strings.Split(out, "\n")
	lines[len(lines)-1] = s.c.styles.Muted.Render(fmt.Sprintf(" ↓ %d more lines below · pgdn/space, G for the end", vp.TotalLineCount()-vp.YOffset()-vp.Height()+1))
	return strings.Join(lines, "\n")
}
