package tui

import (
	"context"
	"errors"
	"os/exec"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui/stream"
)

// Messages of the lab's streams and actions; each carries the id of the
// stream that sent it, and a message of a stream no longer current is
// dropped.
type (
	labResultMsg struct {
		id  stream.ID
		lab string
		res checks.LabResult
	}
	labWatchEndedMsg struct {
		id  stream.ID
		err error
	}
	labActionDoneMsg struct {
		id   stream.ID
		what string
		err  error
	}
	clusterMapMsg struct {
		id   stream.ID
		view clusterview.View
	}
	mapWatchEndedMsg struct {
		id  stream.ID
		err error
	}
	// shellReadyMsg carries the learner's shell, set up in a command.
	shellReadyMsg struct {
		id  stream.ID
		cmd *exec.Cmd
		err error
	}
	shellExitedMsg struct{ err error }
)

// Retries after an unreachable cluster wait from minBackoff, doubling up
// to maxBackoff: soon enough to notice a cluster that is back, seldom
// enough not to load one that is struggling.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// labActionTimeout bounds starting or resetting a lab (a reset waits for
// the old namespace to be deleted) and setting up the shell (which may
// wait for a simulated cluster to be revived).
const labActionTimeout = 3 * time.Minute

var (
	errUnreachable  = errors.New("cannot reach the lab cluster")
	errNoConnection = errors.New("no cluster connection")
)

// start sets up the lab namespace; grading starts when it is done.
func (s *labScreen) start() tea.Cmd {
	s.busy = "Preparing the lab namespace"
	return s.action("start", s.svc.Start)
}

// action runs a lab action (start, reset) with a time limit.
func (s *labScreen) action(what string, do func(context.Context, *labfile.Lab) error) tea.Cmd {
	lab := s.d.lab
	s.actionErr = nil
	_, cmd := s.streams.Do(stream.Action, labActionTimeout, func(ctx context.Context, id stream.ID) tea.Msg {
		return labActionDoneMsg{id: id, what: what, err: do(ctx, lab)}
	})
	return cmd
}

// watch starts the result stream; results arrive without any key press.
func (s *labScreen) watch() tea.Cmd {
	lab, svc := s.d.lab, s.svc
	answers := make(map[string]string, len(s.d.answers))
	for k, v := range s.d.answers {
		answers[k] = v
	}
	return s.streams.Run(stream.Watch, func(ctx context.Context, id stream.ID, send func(tea.Msg)) tea.Msg {
		err := svc.Watch(ctx, lab, answers, func(r checks.LabResult) { send(labResultMsg{id: id, lab: lab.ID, res: r}) })
		return labWatchEndedMsg{id: id, err: err}
	})
}

// watchMap starts the map's stream of views for the lab namespace.
func (s *labScreen) watchMap() tea.Cmd {
	svc, lab := s.mapSvc, s.d.lab
	return s.streams.Run(stream.Map, func(ctx context.Context, id stream.ID, send func(tea.Msg)) tea.Msg {
		err := svc.WatchMap(ctx, lab, func(v clusterview.View) { send(clusterMapMsg{id: id, view: v}) })
		return mapWatchEndedMsg{id: id, err: err}
	})
}

// shell sets up the learner's shell in a command: finding the cluster may
// revive a simulated one, and the shell's kubeconfig is written to disk.
func (s *labScreen) shell() tea.Cmd {
	svc, lab := s.svc, s.d.lab
	_, cmd := s.streams.Do(stream.Shell, labActionTimeout, func(_ context.Context, id stream.ID) tea.Msg {
		c, err := svc.Shell(lab)
		return shellReadyMsg{id: id, cmd: c, err: err}
	})
	return cmd
}

// retry starts the lab if it never started, or grades it again.
func (s *labScreen) retry() tea.Cmd {
	s.streams.Stop(stream.Retry)
	if s.d.lab == nil || s.svc == nil || s.streams.Active(stream.Action) {
		return nil
	}
	if !s.started {
		return s.start()
	}
	return s.watch()
}

// clusterChanged is called by the root when the status check finds the
// cluster unreachable or back. An informer watch keeps serving its cache
// while the API server is away, so the screen stops trusting it: results
// are dropped (no task shows as passed on stale data) and grading
// restarts as soon as the cluster answers.
func (s *labScreen) clusterChanged(reachable bool) tea.Cmd {
	if s.d.lab == nil || s.svc == nil {
		return nil
	}
	if !reachable {
		s.streams.Stop(stream.Watch)
		s.d.result, s.done = nil, ""
		s.err = errUnreachable
		// No timed retries meanwhile: the status check says when the
		// cluster is back.
		s.streams.Stop(stream.Retry)
		s.goal.refresh()
		return nil
	}
	if s.streams.Active(stream.Retry) || (!s.streams.Active(stream.Watch) && !s.streams.Active(stream.Action)) {
		s.streams.ResetBackoff()
		return s.retry()
	}
	return nil
}

// handleStream handles the messages of the lab's streams; ok reports
// whether msg was one. A message of a stream no longer current is dropped.
func (s *labScreen) handleStream(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	c := s.streams
	switch msg := msg.(type) {
	case stream.Started:
		return c.Attach(msg), true
	case stream.RetryMsg:
		if c.Current(stream.Retry, msg.ID) {
			return s.retry(), true
		}
	case clusterMapMsg:
		if c.Current(stream.Map, msg.id) {
			s.cmap.show(&msg.view)
			return c.Listen(stream.Map), true
		}
	case mapWatchEndedMsg:
		if c.Done(stream.Map, msg.id) && msg.err != nil {
			s.err = msg.err
		}
	case labActionDoneMsg:
		if c.Done(stream.Action, msg.id) {
			return s.actionDone(msg.what, msg.err), true
		}
	case labResultMsg:
		if c.Current(stream.Watch, msg.id) && s.d.lab != nil && msg.lab == s.d.lab.ID {
			return tea.Batch(c.Listen(stream.Watch), s.graded(msg.res)), true
		}
	case labWatchEndedMsg:
		if c.Done(stream.Watch, msg.id) {
			return s.watchEnded(msg.err), true
		}
	case shellReadyMsg:
		// Not current: the learner left the lab meanwhile.
		if c.Done(stream.Shell, msg.id) {
			return s.shellReady(msg), true
		}
	case shellExitedMsg:
		return s.shellExited(), true
	default:
		return s.handleTimeline(msg)
	}
	return nil, true
}

// watchEnded follows the end of the current watch, which ends by itself
// only when the cluster failed it: try again later, and re-read every
// result then.
func (s *labScreen) watchEnded(err error) tea.Cmd {
	if err != nil {
		s.err = err
	}
	if s.c.ctx.Err() != nil {
		return nil
	}
	return s.streams.RetryLater()
}

func (s *labScreen) shellReady(msg shellReadyMsg) tea.Cmd {
	if msg.err != nil {
		s.err = msg.err
		return nil
	}
	return tea.ExecProcess(msg.cmd, func(err error) tea.Msg { return shellExitedMsg{err} })
}

// shellExited follows the learner back from the shell: the watch has kept
// grading, so the state is current; restart it if it had stopped.
func (s *labScreen) shellExited() tea.Cmd {
	if !s.streams.Active(stream.Watch) && !s.streams.Active(stream.Action) && s.svc != nil && s.d.lab != nil {
		return s.watch()
	}
	return nil
}

// actionDone follows a lab start or reset.
func (s *labScreen) actionDone(what string, err error) tea.Cmd {
	s.busy = ""
	if err == nil {
		s.err, s.started = nil, true
		var fresh tea.Cmd
		if what == "reset" {
			fresh = s.freshStart()
		}
		if !s.streams.Active(stream.Watch) {
			return tea.Batch(fresh, s.watch())
		}
		return fresh
	}
	switch {
	case s.noCluster || s.c.ctx.Err() != nil:
		// No cluster: the root starts the lab once one is made.
		s.err = err
		return nil
	case s.clusterUp && s.started:
		// A reset that failed on a cluster that answers (e.g. a namespace
		// stuck terminating): say so, and show the lab's state as it is.
		s.actionErr = err
		return s.watch()
	case s.clusterUp:
		s.err = err
		return nil
	}
	s.err = err
	return s.streams.RetryLater()
}

// freshStart forgets the lab's progress once its namespace is made anew:
// tasks done before are not "done · changed since" on a lab that starts
// over, and its clock starts again.
func (s *labScreen) freshStart() tea.Cmd {
	lab, now := s.d.lab.ID, s.c.now()
	s.d.answers = map[string]string{}
	s.d.result, s.done = nil, ""
	save := s.c.saveProgress(func(d *progress.Data) { d.ResetLab(lab, now) })
	s.goal.refresh()
	return tea.Batch(save, s.goal.render())
}

// graded takes a new result.
func (s *labScreen) graded(res checks.LabResult) tea.Cmd {
	port := s.d.nodePort()
	s.d.result = &res
	if reachable(res) {
		s.streams.ResetBackoff()
		s.err = nil
	}
	record := s.recordPasses(res) // first: the summary reads the passes
	s.done = ""
	if s.d.complete() {
		s.done = s.summary()
	}
	s.goal.refresh()
	if s.d.nodePort() != port {
		// The goal names the learner's nodePort, known from now on.
		return tea.Batch(record, s.goal.render())
	}
	return record
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

// reachable reports whether a grading reached the cluster.
func reachable(r checks.LabResult) bool {
	for _, t := range r.Tasks {
		if t.Status == checks.Unreachable {
			return false
		}
	}
	return true
}
