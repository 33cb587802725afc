// Package console is what the cluster commands show on a terminal: the
// steps of a long operation (a spinner on a terminal, plain lines in a log
// or a pipe), a cluster's status, and the offer to build the simulator's
// binaries. clusterctl decides; this package only tells the learner.
package console

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/k8slab/k8slab/clusterctl"
)

// Steps shows a long operation's steps as they happen: on a terminal one
// line a step, with a spinner and the seconds so far while it runs; in a
// log (CI, a pipe, TERM=dumb) a line when a step starts and one when it
// ends, so nothing is overwritten.
type Steps struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	cur   string
	start time.Time
	done  chan struct{}
}

// NewSteps shows steps on w; call Stop when the operation ends.
func NewSteps(w io.Writer) *Steps {
	p := &Steps{w: w, done: make(chan struct{})}
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb" {
		p.tty = true
		go p.spin()
	}
	return p
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *Steps) spin() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			if p.cur != "" {
				fmt.Fprintf(p.w, "\r%s %s (%ds)\x1b[K", spinnerFrames[i%len(spinnerFrames)], p.cur, int(time.Since(p.start).Seconds()))
			}
			p.mu.Unlock()
		}
	}
}

// Step shows s; it is a clusterctl.Progress.
func (p *Steps) Step(s clusterctl.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s.State {
	case clusterctl.StepStarted:
		p.cur, p.start = s.Name, time.Now()
		if !p.tty {
			fmt.Fprintf(p.w, "• %s ...\n", s.Name)
		}
	case clusterctl.StepWarning:
		// A warning from kind about the step in progress: its own line,
		// and the running step's spinner carries on below it.
		if p.tty {
			fmt.Fprintf(p.w, "\r! %s\x1b[K\n", s.Name)
		} else {
			fmt.Fprintf(p.w, "  ! %s\n", s.Name)
		}
	case clusterctl.StepDone, clusterctl.StepFailed:
		mark := "✓"
		if s.State == clusterctl.StepFailed {
			mark = "✗"
		}
		if p.tty {
			fmt.Fprintf(p.w, "\r%s %s (%.1fs)\x1b[K\n", mark, s.Name, s.Elapsed.Seconds())
		} else {
			fmt.Fprintf(p.w, "  %s %s (%.1fs)\n", mark, s.Name, s.Elapsed.Seconds())
		}
		p.cur = ""
	}
}

// Update changes the running step's text, keeping its start time; a log
// shows only where steps start and end, so there it shows nothing.
func (p *Steps) Update(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != "" {
		p.cur = name
	}
}

// Stop ends the spinner. It may be called more than once.
func (p *Steps) Stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}

// Run runs one step of a command, shown the way 'cluster up' shows its
// steps.
func Run(w io.Writer, name string, run func() error) error {
	p := NewSteps(w)
	defer p.Stop()
	start := time.Now()
	p.Step(clusterctl.Step{Name: name, State: clusterctl.StepStarted})
	err := run()
	state := clusterctl.StepDone
	if err != nil {
		state = clusterctl.StepFailed
	}
	p.Step(clusterctl.Step{Name: name, State: state, Elapsed: time.Since(start)})
	return err
}
