package tui

import (
	"github.com/k8slab/k8slab/checks"
)

// taskState is what the lab screen tells the learner about one task. It
// separates "not done" from "settling" (the cluster is still carrying out
// a correct change) and remembers tasks done earlier, so that correct work
// never looks broken.
type taskState int

const (
	stateChecking taskState = iota // no result yet
	stateDone                      // passes now
	stateKept                      // passed earlier; a later change undid it
	stateSettling                  // fails only because a rollout or replacement is under way
	stateNotDone                   // fails or is missing
	stateBroken                    // the cluster could not be read
)

// settling reports whether every failing check of r fails only because the
// cluster is still catching up, as the checks engine judges it.
func settling(r *checks.TaskResult) bool {
	return r.Status == checks.Fail && r.Settling
}

// classify decides a task's state from its current result (nil when none
// has come yet) and whether progress records it as passed before.
//
// A task done earlier stays done when a later change undoes it, as in
// rustlings: labs build on their own state (scaling to 5 undoes "create
// with 3 replicas"), and a learner who sees a finished task turn into a
// cross reads it as "I broke it". The screen keeps its ✓ and notes the
// change, so nothing is hidden.
func classify(r *checks.TaskResult, passedBefore bool) taskState {
	switch {
	case r == nil:
		return stateChecking
	case r.Status == checks.Pass:
		return stateDone
	case r.Status.Broken():
		return stateBroken
	case settling(r):
		return stateSettling
	case passedBefore:
		return stateKept
	}
	return stateNotDone
}

// failureMessages are the task's problems (each fact said once, see
// checks.TaskResult.Problems), or its status when no check said why.
func failureMessages(r *checks.TaskResult) []string {
	if out := r.Problems(); len(out) > 0 {
		return out
	}
	return []string{string(r.Status)}
}
