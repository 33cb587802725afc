package stream

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// fakeClock reports every wait asked of it, with the timer that the test
// fires.
type fakeClock struct{ asked chan wait }

type wait struct {
	d     time.Duration
	timer chan time.Time
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	w := wait{d, make(chan time.Time, 1)}
	f.asked <- w
	return w.timer
}

func newController(ctx context.Context) (*Controller, *fakeClock) {
	clock := &fakeClock{asked: make(chan wait, 16)}
	return New(ctx, clock, time.Second, 30*time.Second), clock
}

type item struct {
	id ID
	n  int
}

// A message of a superseded or stopped stream is stale, and a stream
// superseded before it started is cancelled when its Started arrives.
func TestStaleIDsAreDropped(t *testing.T) {
	c, _ := newController(context.Background())
	first := c.Run(Watch, func(ctx context.Context, id ID, send func(tea.Msg)) tea.Msg {
		<-ctx.Done()
		return item{id, -1}
	})
	second := c.Run(Watch, func(ctx context.Context, id ID, send func(tea.Msg)) tea.Msg {
		send(item{id, 1})
		<-ctx.Done()
		return item{id, -1}
	})
	old := first().(Started)
	if c.Current(Watch, old.ID) {
		t.Fatal("the first watch is still current after a second began")
	}
	if c.Attach(old) != nil {
		t.Error("a superseded stream was listened to")
	}
	// Its goroutine saw the cancel and ended (the channel closes); what
	// it sent on the way out is stale.
	for m := range old.ch {
		if it := m.(item); c.Current(Watch, it.id) {
			t.Errorf("a cancelled stream's message %+v counts as current", it)
		}
	}

	cur := second().(Started)
	listen := c.Attach(cur)
	if listen == nil {
		t.Fatal("the current stream was not listened to")
	}
	if got := listen().(item); got.id != cur.ID || got.n != 1 || !c.Current(Watch, got.id) {
		t.Errorf("got %+v from stream %d", got, cur.ID)
	}
	if c.Done(Watch, old.ID) {
		t.Error("an old stream's end ended the current one")
	}
	if !c.Active(Watch) {
		t.Error("no watch is current after a stale end")
	}
	if !c.Done(Watch, cur.ID) || c.Active(Watch) {
		t.Error("the current stream's end did not clear it")
	}
}

// Retries wait 1 s, 2 s, 4 s ... up to 30 s; success starts again from
// 1 s; only the latest retry counts.
func TestRetryBacksOff(t *testing.T) {
	c, clock := newController(context.Background())
	var cmds []tea.Cmd
	for range 7 {
		cmds = append(cmds, c.RetryLater())
	}
	c.ResetBackoff()
	cmds = append(cmds, c.RetryLater())
	results := make(chan tea.Msg, len(cmds))
	for _, cmd := range cmds {
		go func() { results <- cmd() }()
	}
	// The waits are asked for when the commands run, in any order.
	got := map[time.Duration]int{}
	for range cmds {
		w := <-clock.asked
		got[w.d]++
		w.timer <- time.Time{}
	}
	for _, w := range []time.Duration{1, 2, 4, 8, 16, 30, 30, 1} {
		if got[w*time.Second] == 0 {
			t.Errorf("no wait of %ds among %v", w, got)
		}
		got[w*time.Second]--
	}
	current := 0
	for range cmds {
		m := (<-results).(RetryMsg)
		if c.Current(Retry, m.ID) {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d retries current, want only the last", current)
	}
}

// Leaving the screen cancels every stream: the running one's context ends
// and a retry still waiting is stale.
func TestCancelOnLeave(t *testing.T) {
	c, clock := newController(context.Background())
	ended := make(chan error, 1)
	run := c.Run(Map, func(ctx context.Context, id ID, send func(tea.Msg)) tea.Msg {
		<-ctx.Done()
		ended <- ctx.Err()
		return item{id, -1}
	})
	started := run().(Started)
	c.Attach(started)
	retry := c.RetryLater()
	c.StopAll()
	if err := <-ended; err != context.Canceled {
		t.Errorf("the stream ended with %v, want context.Canceled", err)
	}
	done := make(chan tea.Msg)
	go func() { done <- retry() }()
	(<-clock.asked).timer <- time.Time{}
	if m := (<-done).(RetryMsg); c.Current(Retry, m.ID) {
		t.Error("a retry outlived leaving the screen")
	}
	for k := range kinds {
		if c.Active(k) {
			t.Errorf("kind %d still active after StopAll", k)
		}
	}
}

// Quitting (the program's context ending) ends a pending retry without a
// message, so nothing runs after the program.
func TestRetryEndsWithTheProgram(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := newController(ctx)
	retry := c.RetryLater()
	cancel()
	if m := retry(); m != nil {
		t.Errorf("retry after quitting gave %v", m)
	}
}
