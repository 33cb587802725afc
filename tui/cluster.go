package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k8slab/k8slab/internal/textsafe"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/clusterctl"
)

// ClusterService is what the TUI needs from cluster management; tests give
// it a scripted fake.
type ClusterService interface {
	Status(ctx context.Context) clusterctl.Status
	Up(ctx context.Context, progress clusterctl.Progress) (reason string, err error)
}

type (
	clusterStatusMsg  struct{ status clusterctl.Status }
	clusterRefreshMsg struct{}
	// clusterUpStartedMsg hands the root the channel the creation streams
	// its steps on.
	clusterUpStartedMsg struct {
		steps  <-chan tea.Msg
		cancel context.CancelFunc
	}
	clusterStepMsg   struct{ step clusterctl.Step }
	clusterUpDoneMsg struct {
		reason string
		err    error
	}
)

// clusterRefreshEvery is how often the status bar re-checks the cluster;
// clusterRefreshFast while a lab is open.
const (
	clusterRefreshEvery = 15 * time.Second
	clusterRefreshFast  = 5 * time.Second
)

// clusterState is the cluster part of the root model.
type clusterState struct {
	ctx     context.Context
	svc     ClusterService
	status  *clusterctl.Status
	busy    bool
	step    string
	started time.Time
	steps   <-chan tea.Msg
	cancel  context.CancelFunc
	spinner spinner.Model
	// lastErr is the last failure of 'up', shown until the next attempt.
	lastErr error
	// fast asks for more frequent status checks.
	fast bool
}

func newClusterState(ctx context.Context, svc ClusterService) clusterState {
	return clusterState{ctx: ctx, svc: svc, spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

func (c *clusterState) fetchStatus() tea.Cmd {
	if c.svc == nil {
		return nil
	}
	svc, parent := c.svc, c.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, 2*clusterctl.APITimeout)
		defer cancel()
		return clusterStatusMsg{svc.Status(ctx)}
	}
}

func (c *clusterState) scheduleRefresh() tea.Cmd {
	every := clusterRefreshEvery
	if c.fast {
		every = clusterRefreshFast
	}
	return tea.Tick(every, func(time.Time) tea.Msg { return clusterRefreshMsg{} })
}

// canCreate is true when there is no usable cluster and none is being made.
func (c *clusterState) canCreate() bool {
	return c.svc != nil && !c.busy && c.status != nil && !c.status.Reachable
}

func (c *clusterState) startUp() tea.Cmd {
	c.busy, c.lastErr, c.step, c.started = true, nil, "Choosing a cluster provider", time.Now()
	svc, parent := c.svc, c.ctx
	start := func() tea.Msg {
		// Not derived from the program's context: quitting during a
		// creation cancels it through c.cancel and waits for its cleanup.
		ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
		ch := make(chan tea.Msg, 32)
		go func() {
			reason, err := svc.Up(ctx, func(s clusterctl.Step) {
				select {
				case ch <- clusterStepMsg{s}:
				case <-ctx.Done():
				}
			})
			ch <- clusterUpDoneMsg{reason: reason, err: err}
			close(ch)
		}()
		return clusterUpStartedMsg{steps: ch, cancel: cancel}
	}
	return tea.Batch(start, c.spinner.Tick)
}

func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

// update handles the cluster messages; handled reports whether msg was one.
func (c *clusterState) update(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	switch msg := msg.(type) {
	case clusterStatusMsg:
		c.status = &msg.status
		return nil, true
	case clusterRefreshMsg:
		if c.busy {
			return c.scheduleRefresh(), true
		}
		return tea.Batch(c.fetchStatus(), c.scheduleRefresh()), true
	case clusterUpStartedMsg:
		c.steps, c.cancel = msg.steps, msg.cancel
		return listen(c.steps), true
	case clusterStepMsg:
		if msg.step.State == clusterctl.StepStarted {
			c.step = msg.step.Name
		}
		return listen(c.steps), true
	case clusterUpDoneMsg:
		c.busy, c.steps, c.cancel = false, nil, nil
		if msg.err != nil && !errors.Is(msg.err, clusterctl.ErrAlreadyRunning) {
			c.lastErr = msg.err
		}
		return c.fetchStatus(), true
	case spinner.TickMsg:
		if !c.busy {
			return nil, true
		}
		var cmd tea.Cmd
		c.spinner, cmd = c.spinner.Update(msg)
		return cmd, true
	}
	return nil, false
}

// line is the cluster's entry in the status bar.
func (c *clusterState) line(s *Styles) string {
	switch {
	case c.svc == nil:
		return ""
	case c.busy:
		return fmt.Sprintf("%s %s… (%ds)", c.spinner.View(), c.step, int(time.Since(c.started).Seconds()))
	case c.lastErr != nil:
		return s.Wrong.Render("Cluster not created: ") + textsafe.Inert(c.lastErr.Error())
	case c.status == nil:
		return s.Muted.Render("cluster: checking…")
	case !c.status.Exists:
		return s.Muted.Render("no lab cluster yet · press c to create one")
	case c.status.Health != "":
		// The simulated cluster's supervisor says what is down and
		// whether it is being restarted; that is the whole truth.
		return s.Wrong.Render("cluster " + textsafe.Inert(c.status.Summary()))
	case !c.status.Reachable:
		return s.Wrong.Render("cluster "+textsafe.Inert(c.status.Name)+" not reachable") + s.Muted.Render(" · press c to start it")
	}
	return s.Done.Render("●") + " " + s.Muted.Render("cluster "+textsafe.Inert(c.status.Summary()))
}
