package tui

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
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
	// Shell is the learner's shell, set up for the lab's cluster and
	// namespace.
	Shell(lab *labfile.Lab) (*exec.Cmd, error)
}

// streamID identifies one watch, map stream or action of the lab screen.
// Every message a stream sends carries its id, and the screen drops
// messages whose stream is no longer the current one: an old watch's
// "ended" arriving after a new watch's "started" must not touch the new
// watch's state.
type streamID uint64

type (
	labResultMsg struct {
		id  streamID
		lab string
		res checks.LabResult
	}
	labWatchStartedMsg struct {
		id      streamID
		results <-chan tea.Msg
		cancel  context.CancelFunc
	}
	labWatchEndedMsg struct {
		id  streamID
		err error
	}
	labActionDoneMsg struct {
		id   streamID
		what string
		err  error
	}
	shellExitedMsg struct{ err error }
)

// labRetryMsg asks to try again to start or grade the lab.
type labRetryMsg struct{ id streamID }

// Retries after an unreachable cluster wait from minBackoff, doubling up
// to maxBackoff: soon enough to notice a cluster that is back, seldom
// enough not to load one that is struggling.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// labActionTimeout bounds starting or resetting a lab; a reset waits for
// the old namespace to be deleted.
const labActionTimeout = 3 * time.Minute

type labConfirm int

const (
	confirmNone labConfirm = iota
	confirmReset
	confirmSolution
)

// labScreen shows a lab's tasks with their live state, the current task's
// goal, hints on request, and the reference solution after confirmation.
type labScreen struct {
	c             *common
	svc           LabService
	width, height int

	lab     *labfile.Lab
	result  *checks.LabResult
	cursor  int
	confirm labConfirm
	// resetPrompt is what the reset confirmation says will happen, worked
	// out when it is asked for rather than on every frame.
	resetPrompt string
	busy        string
	err         error
	// lastID numbers streams and actions; watchID, mapID and actionID are
	// the current ones (0: none).
	lastID, watchID, mapID, actionID streamID
	// started is set once the lab namespace is set up.
	started bool
	// watch streams results from the engine.
	results <-chan tea.Msg
	cancel  context.CancelFunc
	// goal is the rendered goal of the task under the cursor.
	goal     string
	viewport viewport.Model

	// The cluster map replaces the goal while it is shown.
	mapSvc      MapService
	showMap     bool
	mapView     *ClusterView
	mapRendered string
	mapUpdates  <-chan tea.Msg
	mapCancel   context.CancelFunc

	// Set by the root from the cluster state: whether 'c' can create a
	// cluster, and which provider runs the current one.
	canCreateCluster bool
	provider         string
	// workshop: the learner is fenced into their own namespaces.
	workshop bool
	// noCluster is set when the status check found no lab cluster at all,
	// as opposed to one that does not answer; clusterUp when it answers.
	noCluster, clusterUp bool
	// actionErr is a reset that failed on a cluster that answers; it stays
	// on screen until the next action, since retrying would not help.
	actionErr error

	// retryID is the pending retry after the cluster could not be reached
	// (0: none); backoff is the wait before the next one.
	retryID streamID
	backoff time.Duration

	// Answers to question tasks, typed here and graded against the live
	// cluster; answering is set while the input has focus.
	answers   map[string]string
	answering bool
	input     answerBox
	// notice answers a key that could do nothing, until the next key.
	notice string
	// done is the completion summary, made once when every task passes.
	done string
}

type (
	clusterMapMsg struct {
		id   streamID
		view ClusterView
	}
	mapWatchStartedMsg struct {
		id      streamID
		updates <-chan tea.Msg
		cancel  context.CancelFunc
	}
	mapWatchEndedMsg struct {
		id  streamID
		err error
	}
)

func newLabScreen(c *common, svc LabService, mapSvc MapService) *labScreen {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	return &labScreen{c: c, svc: svc, viewport: vp, mapSvc: mapSvc, input: newAnswerBox("answer › ", "", 100), answers: map[string]string{}}
}

// newID makes the id of a new stream or action.
func (s *labScreen) newID() streamID {
	s.lastID++
	return s.lastID
}

// stream runs run in a goroutine under a context derived from the
// program's, and hands its messages over a channel. Every send, the last
// one too, gives up when the context ends, so a stream nobody listens to
// any more never blocks its goroutine.
func (s *labScreen) stream(run func(ctx context.Context, send func(tea.Msg)) tea.Msg, started func(<-chan tea.Msg, context.CancelFunc) tea.Msg) tea.Cmd {
	parent := s.c.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(parent)
		ch := make(chan tea.Msg, 8)
		send := func(m tea.Msg) {
			select {
			case ch <- m:
			case <-ctx.Done():
			}
		}
		go func() {
			defer close(ch)
			send(run(ctx, send))
		}()
		return started(ch, cancel)
	}
}

// watchMap starts the map's stream of views for the lab namespace.
func (s *labScreen) watchMap() tea.Cmd {
	svc, lab, id := s.mapSvc, s.lab, s.newID()
	s.mapID = id
	return s.stream(func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		err := svc.WatchMap(ctx, lab, func(v ClusterView) { send(clusterMapMsg{id: id, view: v}) })
		return mapWatchEndedMsg{id: id, err: err}
	}, func(ch <-chan tea.Msg, cancel context.CancelFunc) tea.Msg {
		return mapWatchStartedMsg{id: id, updates: ch, cancel: cancel}
	})
}

func (s *labScreen) stopMap() {
	s.mapID = 0
	if s.mapCancel != nil {
		s.mapCancel()
		s.mapCancel, s.mapUpdates = nil, nil
	}
}

// redrawMap renders the map once per change of view or size; View only
// shows the result.
func (s *labScreen) redrawMap() {
	if s.mapView == nil {
		s.mapRendered = s.c.styles.Muted.Render(" Reading the cluster…")
	} else {
		s.mapRendered = renderClusterMap(*s.mapView, s.c.styles, s.width)
	}
	if s.showMap {
		s.viewport.SetContent(s.mapRendered)
	}
}

func (s *labScreen) open(lab *labfile.Lab) tea.Cmd {
	s.stop()
	s.lab, s.result, s.cursor, s.confirm, s.err, s.busy = lab, nil, 0, confirmNone, nil, ""
	s.started, s.backoff, s.done, s.actionErr = false, 0, "", nil
	s.answers, s.answering = map[string]string{}, false
	for id, t := range s.c.store.Snapshot().Labs[lab.ID].Tasks {
		if t.Answer != "" {
			s.answers[id] = t.Answer
		}
	}
	now := s.c.now()
	save := s.c.saveProgress(func(d *progress.Data) { d.StartLab(lab.ID, now) })
	if s.svc == nil {
		s.err = fmt.Errorf("no cluster connection")
		return tea.Batch(save, s.renderGoal())
	}
	s.busy = "Preparing the lab namespace"
	return tea.Batch(save, s.action("start", s.svc.Start), s.renderGoal())
}

// watch starts the result stream; results arrive without any key press.
func (s *labScreen) watch() tea.Cmd {
	lab, svc, id := s.lab, s.svc, s.newID()
	s.watchID = id
	answers := make(map[string]string, len(s.answers))
	for k, v := range s.answers {
		answers[k] = v
	}
	return s.stream(func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		err := svc.Watch(ctx, lab, answers, func(r checks.LabResult) { send(labResultMsg{id: id, lab: lab.ID, res: r}) })
		return labWatchEndedMsg{id: id, err: err}
	}, func(ch <-chan tea.Msg, cancel context.CancelFunc) tea.Msg {
		return labWatchStartedMsg{id: id, results: ch, cancel: cancel}
	})
}

// stopWatch ends the result stream, if any; its remaining messages are
// dropped as stale.
func (s *labScreen) stopWatch() {
	s.watchID = 0
	if s.cancel != nil {
		s.cancel()
		s.cancel, s.results = nil, nil
	}
}

// action runs a lab action (start, reset) under the program's context with
// a time limit.
func (s *labScreen) action(what string, do func(context.Context, *labfile.Lab) error) tea.Cmd {
	lab, parent, id := s.lab, s.c.ctx, s.newID()
	s.actionID, s.actionErr = id, nil
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, labActionTimeout)
		defer cancel()
		return labActionDoneMsg{id: id, what: what, err: do(ctx, lab)}
	}
}

// retryLater schedules another attempt to start or grade the lab, with
// back-off, so that the screen recovers when the cluster answers again
// without the learner pressing anything.
func (s *labScreen) retryLater() tea.Cmd {
	s.backoff = min(maxBackoff, max(minBackoff, 2*s.backoff))
	id := s.newID()
	s.retryID = id
	return tea.Tick(s.backoff, func(time.Time) tea.Msg { return labRetryMsg{id: id} })
}

// retry starts the lab if it never started, or grades it again.
func (s *labScreen) retry() tea.Cmd {
	s.retryID = 0
	if s.lab == nil || s.svc == nil || s.actionID != 0 {
		return nil
	}
	if !s.started {
		s.busy = "Preparing the lab namespace"
		return s.action("start", s.svc.Start)
	}
	s.stopWatch()
	return s.watch()
}

// clusterChanged is called by the root when the status check finds the
// cluster unreachable or back. An informer watch keeps serving its cache
// while the API server is away, so the screen stops trusting it: results
// are dropped (no task shows as passed on stale data) and grading
// restarts as soon as the cluster answers.
func (s *labScreen) clusterChanged(reachable bool) tea.Cmd {
	if s.lab == nil || s.svc == nil {
		return nil
	}
	if !reachable {
		s.stopWatch()
		s.result, s.done = nil, ""
		s.err = errUnreachable
		// No timed retries meanwhile: the status check says when the
		// cluster is back.
		s.retryID = 0
		s.refreshPane()
		return nil
	}
	if s.retryID != 0 || (s.watchID == 0 && s.actionID == 0) {
		s.backoff = 0
		return s.retry()
	}
	return nil
}

var errUnreachable = errors.New("cannot reach the lab cluster")

func (s *labScreen) stop() {
	s.retryID = 0
	s.stopWatch()
	s.actionID = 0
	s.stopMap()
	s.showMap, s.mapView = false, nil
}

func (s *labScreen) task() *labfile.Task {
	if s.lab == nil || s.cursor >= len(s.lab.Tasks) {
		return nil
	}
	return &s.lab.Tasks[s.cursor]
}

func (s *labScreen) taskResult(i int) *checks.TaskResult {
	if s.result == nil {
		return nil
	}
	for j := range s.result.Tasks {
		if s.result.Tasks[j].ID == s.lab.Tasks[i].ID {
			return &s.result.Tasks[j]
		}
	}
	return nil
}

func (s *labScreen) hintsUsed(data progress.Data) int {
	return data.Labs[s.lab.ID].Tasks[s.task().ID].HintsUsed
}

func (s *labScreen) goalWidth() int { return max(20, min(s.width, 100)) }

// renderGoal renders the current task's goal, hints shown so far and, when
// revealed, the solution, as Markdown in a command.
func (s *labScreen) renderGoal() tea.Cmd {
	t := s.task()
	if t == nil || s.width == 0 {
		return nil
	}
	st := s.c.store.Snapshot().Labs[s.lab.ID].Tasks[t.ID]
	var md strings.Builder
	md.WriteString("## " + t.Title + "\n\n" + strings.TrimSpace(t.Goal) + "\n")
	md.WriteString(s.taskNotes(t))
	for i := 0; i < st.HintsUsed && i < len(t.Hints); i++ {
		fmt.Fprintf(&md, "\n**Hint %d.** %s\n", i+1, strings.TrimSpace(t.Hints[i]))
	}
	if st.SolutionSeen {
		md.WriteString(solutionMarkdown(t))
	}
	k := renderKey{id: s.lab.ID + "/" + t.ID + fmt.Sprintf("/%d/%v", st.HintsUsed, st.SolutionSeen), width: s.goalWidth(), style: s.c.styles.Markdown}
	renderer, text := s.c.renderer, md.String()
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
func (s *labScreen) detail() string {
	t := s.task()
	if t == nil {
		return ""
	}
	st := s.c.styles
	r := s.taskResult(s.cursor)
	state := classify(r, s.passedBefore(t.ID))
	width := s.goalWidth() - 4
	para := func(style lipgloss.Style, text string) string {
		return lipgloss.NewStyle().PaddingLeft(2).Render(style.Render(lipgloss.Wrap(text, width, "")))
	}
	var head string
	switch state {
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
		lines := strings.Split(lipgloss.Wrap(m, width-2, ""), "\n")
		b.WriteString("  • " + strings.Join(lines, "\n    ") + "\n")
	}
	return b.String()
}

// passedBefore reports whether progress records the task as passed.
func (s *labScreen) passedBefore(task string) bool {
	return !s.c.store.Snapshot().Labs[s.lab.ID].Tasks[task].PassedAt.IsZero()
}

// refreshPane puts the task's state and goal, or the map, in the viewport.
func (s *labScreen) refreshPane() {
	if s.showMap {
		s.viewport.SetContent(s.mapRendered)
		return
	}
	content := s.goal
	if d := s.detail(); d != "" {
		content = d + "\n" + s.goal
	}
	s.viewport.SetContent(content)
}

func (s *labScreen) SetSize(w, h int) {
	resized := s.width != w
	s.width, s.height = w, h
	s.viewport.SetWidth(w)
	if s.lab != nil {
		s.viewport.SetHeight(max(1, h-lipgloss.Height(s.top())))
	}
	if resized && s.showMap {
		s.redrawMap()
	}
}

func (s *labScreen) Typing() bool { return s.answering }

func (s *labScreen) Title() string {
	if s.lab == nil {
		return ""
	}
	return "Lab: " + s.lab.Title
}

func (s *labScreen) Update(msg tea.Msg) tea.Cmd {
	cmd := s.handle(msg)
	if s.lab != nil {
		// Keep paging in step with the pane's height as View draws it.
		s.viewport.SetHeight(max(1, s.height-lipgloss.Height(s.top())))
	}
	return cmd
}

func (s *labScreen) handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return s.renderGoal()
	case lessonRenderedMsg:
		if t := s.task(); t == nil || !strings.HasPrefix(msg.key.id, s.lab.ID+"/"+t.ID+"/") {
			return nil
		}
		s.goal = msg.content
		s.refreshPane()
		return nil
	case mapWatchStartedMsg:
		if msg.id != s.mapID {
			msg.cancel() // the map was closed before its stream started
			return nil
		}
		s.mapUpdates, s.mapCancel = msg.updates, msg.cancel
		return listen(s.mapUpdates)
	case clusterMapMsg:
		if msg.id != s.mapID {
			return nil
		}
		s.mapView = &msg.view
		s.redrawMap()
		return listen(s.mapUpdates)
	case mapWatchEndedMsg:
		if msg.id != s.mapID {
			return nil
		}
		s.mapID, s.mapUpdates, s.mapCancel = 0, nil, nil
		if msg.err != nil {
			s.err = msg.err
		}
		return nil
	case labActionDoneMsg:
		if msg.id != s.actionID {
			return nil
		}
		s.actionID = 0
		s.busy = ""
		if msg.err != nil {
			switch {
			case s.noCluster || s.c.ctx.Err() != nil:
				// No cluster: the root starts the lab once one is made.
				s.err = msg.err
				return nil
			case s.clusterUp && s.started:
				// A reset that failed on a cluster that answers (e.g. a
				// namespace stuck terminating): say so, and show the
				// lab's state as it is.
				s.actionErr = msg.err
				return s.watch()
			case s.clusterUp:
				s.err = msg.err
				return nil
			}
			s.err = msg.err
			return s.retryLater()
		}
		s.err, s.started = nil, true
		if s.watchID == 0 {
			return s.watch()
		}
		return nil
	case labRetryMsg:
		if msg.id != s.retryID {
			return nil
		}
		return s.retry()
	case labWatchStartedMsg:
		if msg.id != s.watchID {
			msg.cancel() // superseded before it started
			return nil
		}
		s.results, s.cancel = msg.results, msg.cancel
		return listen(s.results)
	case labResultMsg:
		if msg.id != s.watchID || s.lab == nil || msg.lab != s.lab.ID {
			return nil
		}
		s.result = &msg.res
		if reachable(msg.res) {
			s.backoff, s.err = 0, nil
		}
		record := s.recordPasses(msg.res) // first: the summary reads the passes
		s.done = ""
		if s.complete() {
			s.done = s.summary()
		}
		s.refreshPane()
		return tea.Batch(listen(s.results), record)
	case labWatchEndedMsg:
		if msg.id != s.watchID {
			return nil
		}
		s.watchID, s.results, s.cancel = 0, nil, nil
		if msg.err != nil {
			s.err = msg.err
		}
		if s.c.ctx.Err() != nil {
			return nil
		}
		// The watch ends by itself only when the cluster failed it: try
		// again later, and re-read every result then.
		return s.retryLater()
	case shellExitedMsg:
		// Back from the shell: the watch has kept grading, so the state is
		// current; restart it if it had stopped.
		if s.watchID == 0 && s.actionID == 0 && s.svc != nil {
			return s.watch()
		}
		return nil
	case tea.KeyPressMsg:
		return s.handleKey(msg)
	case tea.PasteMsg:
		if s.answering {
			return s.input.Update(msg)
		}
	}
	return nil
}

// recordPasses notes newly passed tasks in progress, with when.
func (s *labScreen) recordPasses(res checks.LabResult) tea.Cmd {
	data := s.c.store.Snapshot()
	var newly []string
	for _, t := range res.Tasks {
		if t.Status == checks.Pass && data.Labs[res.Lab].Tasks[t.ID].PassedAt.IsZero() {
			newly = append(newly, t.ID)
		}
	}
	if len(newly) == 0 {
		return nil
	}
	lab, at := res.Lab, s.c.now()
	return s.c.saveProgress(func(d *progress.Data) {
		for _, id := range newly {
			d.UpdateTask(lab, id, func(t *progress.TaskState) { t.PassedAt = at.UTC() })
		}
	})
}

func (s *labScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	s.notice = ""
	if s.answering {
		switch {
		case key.Matches(msg, k.Submit):
			s.answering = false
			s.input.Blur()
			answer := strings.TrimSpace(s.input.Value())
			s.answers[s.task().ID] = answer
			save := s.update(func(t *progress.TaskState) { t.Answer = answer })
			// Grade with the new answer: restart the watch with it.
			s.stopWatch()
			if s.svc != nil {
				return tea.Batch(save, s.watch())
			}
			return save
		case key.Matches(msg, k.Cancel):
			s.answering = false
			s.input.Blur()
			return nil
		}
		return s.input.Update(msg)
	}
	if s.confirm != confirmNone {
		what := s.confirm
		s.confirm = confirmNone
		if key.Matches(msg, k.Yes) {
			switch what {
			case confirmReset:
				s.busy = "Resetting the lab"
				// The old watch would report the namespace's deletion as
				// every task failing; grading resumes after the reset.
				s.stopWatch()
				s.result = nil
				return s.action("reset", s.svc.Reset)
			case confirmSolution:
				return s.update(func(t *progress.TaskState) { t.SolutionSeen = true })
			}
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		if s.cursor > 0 {
			s.cursor--
			s.refreshPane()
			return s.renderGoal()
		}
	case key.Matches(msg, k.Down):
		if s.lab != nil && s.cursor < len(s.lab.Tasks)-1 {
			s.cursor++
			s.refreshPane()
			return s.renderGoal()
		}
	case key.Matches(msg, k.PageDown):
		s.viewport.PageDown()
	case key.Matches(msg, k.PageUp):
		s.viewport.PageUp()
	case key.Matches(msg, k.Hint):
		t := s.task()
		if t != nil && s.hintsUsed(s.c.store.Snapshot()) < len(t.Hints) {
			return s.update(func(ts *progress.TaskState) { ts.HintsUsed++ })
		}
	case key.Matches(msg, k.Solution):
		switch t := s.task(); {
		case t == nil:
		case len(t.Solution) > 0:
			s.confirm = confirmSolution
		case t.Question != nil:
			s.notice = "This task is a question, so there are no commands to show. Press h for a hint, a to answer."
		default:
			s.notice = "This task has no reference solution."
		}
	case key.Matches(msg, k.Reset):
		if s.svc != nil {
			s.confirm = confirmReset
			s.resetPrompt = " Its namespace is deleted and set up again. y/n"
			if len(labenv.ClusterScopedKinds(s.lab)) > 0 {
				// Say it: a volume is outside the namespace the learner sees.
				s.resetPrompt = " Its namespace, and what its setup made outside it, are deleted and set up again. y/n"
			}
		}
	case key.Matches(msg, k.Shell):
		if s.svc == nil {
			return nil
		}
		cmd, err := s.svc.Shell(s.lab)
		if err != nil {
			s.err = err
			return nil
		}
		return tea.ExecProcess(cmd, func(err error) tea.Msg { return shellExitedMsg{err} })
	case key.Matches(msg, k.Answer):
		if t := s.task(); t != nil && t.Question != nil {
			s.answering = true
			s.input.SetWidth(max(10, min(s.width, 80)-12))
			return s.input.Edit(s.answers[t.ID])
		}
	case key.Matches(msg, k.Map):
		if s.mapSvc == nil {
			return nil
		}
		s.showMap = !s.showMap
		if !s.showMap {
			s.refreshPane()
			return nil
		}
		s.redrawMap()
		if s.mapID == 0 {
			return s.watchMap()
		}
	case key.Matches(msg, k.Back):
		s.stop()
		return navigate(goHomeMsg{})
	}
	return nil
}

// update changes the current task's progress and re-renders its goal.
func (s *labScreen) update(change func(*progress.TaskState)) tea.Cmd {
	lab, task := s.lab.ID, s.task().ID
	save := s.c.saveProgress(func(d *progress.Data) { d.UpdateTask(lab, task, change) })
	return tea.Batch(save, s.renderGoal())
}

func (s *labScreen) ShortHelp() []key.Binding {
	var out []key.Binding
	for _, l := range s.ShortHelpLines() {
		out = append(out, l...)
	}
	return out
}

// ShortHelpLines puts the lab's keys on two lines, so that at 80 columns
// none is dropped.
func (s *labScreen) ShortHelpLines() [][]key.Binding {
	k := s.c.keys
	if s.confirm != confirmNone {
		return [][]key.Binding{{k.Yes, k.No}}
	}
	if s.answering {
		return [][]key.Binding{{k.Submit, k.Cancel, k.ForceQuit}}
	}
	work := []key.Binding{k.Up, k.Down, k.Hint, k.Solution}
	if t := s.task(); t != nil && t.Question != nil {
		work = append(work, k.Answer)
	}
	work = append(work, k.Shell, k.Map)
	return [][]key.Binding{work, {k.Reset, k.ClusterUp, k.PageDown, k.Back, k.Help}, {k.CheatSheet, k.Glossary}}
}

func (s *labScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Hint, k.Solution}, {k.Shell, k.Map, k.Reset}, {k.CheatSheet, k.Glossary}, {k.Back, k.Quit, k.Help}}
}

// taskLook is how the task list draws each state: a mark and a colour,
// each state with its own mark so that colour is never the only cue.
func (s *labScreen) taskLook(state taskState, r *checks.TaskResult) (mark string, style lipgloss.Style, note string) {
	st := s.c.styles
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

// complete is true when every task is done, now or earlier, and the cluster
// answered the last grading.
func (s *labScreen) complete() bool {
	if s.lab == nil || s.result == nil {
		return false
	}
	for i, t := range s.lab.Tasks {
		switch classify(s.taskResult(i), s.passedBefore(t.ID)) {
		case stateDone, stateKept:
		case stateSettling:
			if !s.passedBefore(t.ID) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (s *labScreen) View() string {
	if s.lab == nil {
		return ""
	}
	top := s.top()
	// The lines above the pane vary (wrapped messages), so the pane gets
	// what is left; a copy keeps View free of side effects.
	vp := s.viewport
	vp.SetHeight(max(1, s.height-lipgloss.Height(top)))
	return top + "\n" + vp.View()
}

// top is the task list and the line under it.
func (s *labScreen) top() string {
	st := s.c.styles
	var b strings.Builder
	done := 0
	for i, t := range s.lab.Tasks {
		r := s.taskResult(i)
		state := classify(r, s.passedBefore(t.ID))
		mark, style, note := s.taskLook(state, r)
		if state == stateChecking && s.err != nil && s.busy == "" {
			note = "not graded: " + s.unavailable()
		}
		if state == stateDone || state == stateKept || (state == stateSettling && s.passedBefore(t.ID)) {
			done++
		}
		cursor := "  "
		title := t.Title
		if i == s.cursor {
			cursor = st.Selected.Render("›") + " "
			title = st.Selected.Render(title)
		}
		line := fmt.Sprintf(" %s%s %s", cursor, style.Render(mark), title)
		if note != "" {
			// The detail pane below shows the whole of every message.
			line += "  " + st.Muted.Render(truncate(note, max(10, s.width-lipgloss.Width(t.Title)-8)))
		}
		b.WriteString(line + "\n")
	}
	// The line under the tasks wraps: whatever it says, the learner needs
	// all of it.
	para := func(text string) {
		b.WriteString(lipgloss.NewStyle().Width(max(20, s.width-1)).PaddingLeft(1).Render(text) + "\n")
	}
	t := s.task()
	switch {
	case s.answering:
		b.WriteString(" " + s.input.View() + "\n")
	case s.confirm == confirmReset:
		para(st.Wrong.Render("Reset the lab?") + s.resetPrompt)
	case s.confirm == confirmSolution:
		para(st.Wrong.Render("Show the reference solution?") + " It is marked as seen in your progress. y/n")
	case s.notice != "":
		para(st.Next.Render(s.notice))
	case s.busy != "":
		para(st.Muted.Render(s.busy + "…"))
	case s.actionErr != nil:
		para(st.Wrong.Render("The reset did not finish:") + " " + s.actionErr.Error() + ". Press R to try again; k8slab cluster status tells whether the cluster is healthy.")
	case s.err != nil:
		switch {
		case s.noCluster:
			para(st.Wrong.Render("No lab cluster is running.") + " Press c to create one; the lab starts when it is ready.")
		case errors.Is(s.err, errUnreachable):
			para(st.Wrong.Render("Cannot reach the lab cluster.") + " Grading resumes by itself when it answers again.")
		case s.retryID != 0:
			text := st.Wrong.Render(s.err.Error()) + fmt.Sprintf(" Trying again by itself in %s; the results come back when the cluster answers.", s.backoff)
			if s.canCreateCluster {
				text += " Press c to start it."
			}
			para(text)
		default:
			para(st.Wrong.Render(s.err.Error()))
		}
	case t != nil && t.Question != nil && s.answers[t.ID] == "":
		para(st.Next.Render("Question:") + " " + t.Question.Prompt + st.Muted.Render(" · press a to answer"))
	case t != nil && t.Question != nil:
		para(st.Next.Render("Your answer:") + " " + s.answers[t.ID] + st.Muted.Render(" · press a to change it"))
	case s.done != "":
		para(st.Correct.Render(s.done))
	default:
		para(st.Muted.Render(fmt.Sprintf("%d of %d tasks done · graded live from the cluster", done, len(s.lab.Tasks))))
	}
	if missing := s.missingFeatures(); missing != "" {
		para(st.Next.Render("Note:") + " a simulated cluster runs no containers, so it cannot show " + missing + "; a kind cluster can.")
	}
	return b.String()
}

// unavailable says briefly why tasks are not graded.
func (s *labScreen) unavailable() string {
	if s.noCluster {
		return "no cluster"
	}
	return "cannot reach the cluster"
}

// taskNotes says, under a task's goal, what this cluster or this learner
// cannot do of it: a simulated cluster's missing features, a workshop
// learner's missing rights.
func (s *labScreen) taskNotes(t *labfile.Task) string {
	var md strings.Builder
	if missing := s.missing(t.Features); missing != "" {
		md.WriteString("\n**Note:** this task needs " + missing + ", which a simulated cluster cannot show; do it on a kind cluster.\n")
	}
	if s.workshop && slices.Contains(t.Features, labfile.ClusterWide) {
		md.WriteString("\n**In this workshop:** this task changes the whole cluster, which your account may not do. Your instructor shows it; follow along, and it is not graded for you.\n")
	}
	return md.String()
}

// missingFeatures names what the lab needs that a simulated cluster lacks.
func (s *labScreen) missingFeatures() string {
	if s.lab == nil {
		return ""
	}
	return s.missing(s.lab.Features)
}

// missing names the features in fs that a simulated cluster lacks.
func (s *labScreen) missing(fs []labfile.Feature) string {
	if s.provider != "sim" {
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
			out = append(out, "a NodePort from your machine")
		}
	}
	return strings.Join(out, ", ")
}

func (s *labScreen) summary() string {
	data := s.c.store.Snapshot().Labs[s.lab.ID]
	hints := 0
	for _, t := range data.Tasks {
		hints += t.HintsUsed
	}
	next := "That was the last lab of the course."
	for i, m := range s.c.course.Modules {
		if m.ID == s.lab.Module && i+1 < len(s.c.course.Modules) && len(s.c.course.Modules[i+1].Lessons) > 0 {
			next = "Next: " + s.c.course.Modules[i+1].Lessons[0].Title + " (esc for the course map)."
		}
	}
	// The time runs from the lab's first opening to its last task's pass,
	// both kept in progress, so reopening a finished lab says the same.
	var finished time.Time
	for _, t := range data.Tasks {
		if t.PassedAt.After(finished) {
			finished = t.PassedAt
		}
	}
	took := ""
	if !data.StartedAt.IsZero() && !finished.IsZero() && !finished.Before(data.StartedAt) {
		took = " in " + finished.Sub(data.StartedAt).Round(time.Second).String()
	}
	return fmt.Sprintf("Lab complete%s with %s. Well done! %s", took, plural(hints, "hint"), next)
}

func firstMessage(r *checks.TaskResult) string {
	for _, c := range r.Checks {
		if c.Status != checks.Pass && len(c.Messages) > 0 {
			return c.Messages[0]
		}
	}
	return string(r.Status)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// reachable reports whether a grading reached the cluster.
func reachable(r checks.LabResult) bool {
	for _, t := range r.Tasks {
		if t.Status == checks.Unreachable {
			return false
		}
	}
	return true
}
