// Package stream keeps the bookkeeping of a screen's asynchronous work, apart
// from anything drawn: which stream of each kind is current, how to stop
// it, and when to try again after a failure. Every message a stream sends
// carries its ID, and a screen drops a message whose stream is no longer
// current: an old watch's "ended" arriving after a new watch's "started"
// must not touch the new watch's state.
package stream

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
)

// ID identifies one stream or action; 0 is none.
type ID uint64

// Kind is a slot for one stream at a time: starting a new stream of a kind
// supersedes the one before.
type Kind int

const (
	Watch    Kind = iota // grading results
	Map                  // cluster map views
	Action               // starting or resetting a lab
	Retry                // the wait before trying again
	Shell                // preparing the learner's shell
	Timeline             // what the cluster did after each change
	kinds
)

// Clock is what the back-off waits on; tests give it a fake.
type Clock interface {
	After(time.Duration) <-chan time.Time
}

// ClockFunc is a Clock made of a function like time.After.
type ClockFunc func(time.Duration) <-chan time.Time

func (f ClockFunc) After(d time.Duration) <-chan time.Time { return f(d) }

// Started hands a running stream's channel and cancel to the screen; pass
// it to Controller.Attach.
type Started struct {
	Kind   Kind
	ID     ID
	ch     <-chan tea.Msg
	cancel context.CancelFunc
}

// RetryMsg says that the back-off of retry ID has passed.
type RetryMsg struct{ ID ID }

type slot struct {
	id     ID
	cancel context.CancelFunc
	ch     <-chan tea.Msg
}

// Controller tracks a screen's streams. It is used from Update only, so it
// needs no lock; the goroutines it starts talk to it through messages.
type Controller struct {
	ctx      context.Context
	clock    Clock
	min, max time.Duration
	last     ID
	slots    [kinds]slot
	backoff  time.Duration
}

// New returns a controller whose streams run under ctx (the program's:
// quitting ends them all) and whose retries wait from min, doubling up to
// max.
func New(ctx context.Context, clock Clock, min, max time.Duration) *Controller {
	return &Controller{ctx: ctx, clock: clock, min: min, max: max}
}

// Begin makes a new stream of kind k current, stopping the one before, and
// returns its ID.
func (c *Controller) Begin(k Kind) ID {
	c.Stop(k)
	c.last++
	c.slots[k].id = c.last
	return c.last
}

// Current reports whether id is the current stream of kind k.
func (c *Controller) Current(k Kind, id ID) bool { return id != 0 && c.slots[k].id == id }

// Active reports whether a stream of kind k is current.
func (c *Controller) Active(k Kind) bool { return c.slots[k].id != 0 }

// Stop cancels the current stream of kind k, if any; its remaining
// messages are then stale.
func (c *Controller) Stop(k Kind) {
	s := &c.slots[k]
	if s.cancel != nil {
		s.cancel()
	}
	*s = slot{}
}

// StopAll stops every stream, as when the screen is left.
func (c *Controller) StopAll() {
	for k := range kinds {
		c.Stop(k)
	}
}

// Done ends stream id of kind k, which finished by itself, and reports
// whether it was the current one.
func (c *Controller) Done(k Kind, id ID) bool {
	if !c.Current(k, id) {
		return false
	}
	c.Stop(k)
	return true
}

// Run starts a stream of kind k. run goes in a goroutine under a context of
// its own and hands its messages over a channel; the message it returns is
// sent last. Every send, the last one too, gives up when the context ends,
// so a stream nobody listens to never blocks its goroutine. The command
// returns a Started for Attach.
func (c *Controller) Run(k Kind, run func(ctx context.Context, id ID, send func(tea.Msg)) tea.Msg) tea.Cmd {
	id, parent := c.Begin(k), c.ctx
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
			send(run(ctx, id, send))
		}()
		return Started{Kind: k, ID: id, ch: ch, cancel: cancel}
	}
}

// Attach takes over a started stream and listens to it; a stream that was
// superseded or stopped before it started is cancelled instead.
func (c *Controller) Attach(m Started) tea.Cmd {
	if !c.Current(m.Kind, m.ID) {
		m.cancel()
		return nil
	}
	c.slots[m.Kind].ch, c.slots[m.Kind].cancel = m.ch, m.cancel
	return c.Listen(m.Kind)
}

// Listen waits for the next message of the current stream of kind k.
func (c *Controller) Listen(k Kind) tea.Cmd {
	ch := c.slots[k].ch
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

// Do runs a one-off call of kind k under a time limit; its result message
// carries the ID returned. Stopping the kind makes the result stale without
// cancelling the call: a lab half set up is worse than one set up for
// nothing. Quitting cancels it.
func (c *Controller) Do(k Kind, timeout time.Duration, do func(ctx context.Context, id ID) tea.Msg) (ID, tea.Cmd) {
	id, parent := c.Begin(k), c.ctx
	return id, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		return do(ctx, id)
	}
}

// RetryLater schedules a RetryMsg after the back-off, which doubles on each
// call from min up to max: soon enough to notice a cluster that is back,
// seldom enough not to load one that is struggling.
func (c *Controller) RetryLater() tea.Cmd {
	c.backoff = min(c.max, max(c.min, 2*c.backoff))
	id, wait, clock, ctx := c.Begin(Retry), c.backoff, c.clock, c.ctx
	return func() tea.Msg {
		select {
		case <-clock.After(wait):
			return RetryMsg{ID: id}
		case <-ctx.Done():
			return nil
		}
	}
}

// Backoff is the wait before the pending retry.
func (c *Controller) Backoff() time.Duration { return c.backoff }

// ResetBackoff starts the back-off afresh, once the cluster answered.
func (c *Controller) ResetBackoff() { c.backoff = 0 }
