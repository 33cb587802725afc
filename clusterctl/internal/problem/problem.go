// Package problem is the vocabulary every cluster provider reports in: a
// failure explained for a learner (Problem) and the named steps of a long
// operation (Step). clusterctl re-exports it; the providers under
// clusterctl/internal use it without importing clusterctl.
package problem

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrAlreadyRunning is returned by Create when the cluster is up already.
	ErrAlreadyRunning = errors.New("cluster is already running")
	// ErrNoEngine is wrapped by the Problem returned when no container
	// engine CLI is installed.
	ErrNoEngine = errors.New("no container engine found")
	// ErrEngineNotRunning is wrapped by the Problem returned when an
	// engine's CLI is installed but the engine itself is not running or
	// cannot be reached.
	ErrEngineNotRunning = errors.New("container engine is not running or not reachable")
	// ErrNodeImagePull: kind could not download its node image (no
	// registry reachable, a rate limit, a wrong name). A caller that chose
	// kind by itself can fall back to a simulated cluster.
	ErrNodeImagePull = errors.New("the node image could not be pulled")
)

// Problem is a failure explained for a learner: what happened, in plain
// words, and what to do about it.
type Problem struct {
	Summary string
	Fix     string
	// Err is the underlying error, kept for --verbose output and errors.Is.
	Err error
}

func (p *Problem) Error() string {
	msg := p.Summary
	if p.Fix != "" {
		msg += "\n  what to do: " + p.Fix
	}
	return msg
}

func (p *Problem) Unwrap() error { return p.Err }

// Newf is a Problem whose summary is formatted, with fix and the
// underlying err (which may be nil).
func Newf(err error, fix, format string, args ...any) *Problem {
	return &Problem{Summary: fmt.Sprintf(format, args...), Fix: fix, Err: err}
}

// StepState is where a step is.
type StepState int

const (
	StepStarted StepState = iota
	StepDone
	StepFailed
	// StepWarning is not a step but a warning about the one in progress,
	// from the tool doing the work (kind); Name holds its text.
	StepWarning
)

// Step is one named stage of creating or deleting a cluster, the unit a
// progress display shows.
type Step struct {
	Name  string
	State StepState
	// Detail is an optional line of explanation.
	Detail string
	// Elapsed is set on StepDone and StepFailed.
	Elapsed time.Duration
}

// Run runs f as the step called name, telling progress (which may be nil)
// when it starts and how it ended.
func Run(progress func(Step), name string, f func() error) error {
	start := time.Now()
	if progress != nil {
		progress(Step{Name: name, State: StepStarted})
	}
	err := f()
	if progress != nil {
		st := Step{Name: name, State: StepDone, Elapsed: time.Since(start)}
		if err != nil {
			st.State, st.Detail = StepFailed, err.Error()
		}
		progress(st)
	}
	return err
}

// Warn tells progress (which may be nil) of a warning about the operation
// in progress.
func Warn(progress func(Step), msg string) {
	if progress != nil {
		progress(Step{Name: msg, State: StepWarning})
	}
}
