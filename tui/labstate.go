package tui

import (
	"strings"

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

// failureMessages are every message of a task's checks that did not pass.
func failureMessages(r *checks.TaskResult) []string {
	if out := r.Problems(); len(out) > 0 {
		return out
	}
	return []string{string(r.Status)}
}

// wrapCommand breaks a shell command at spaces outside quotes into lines
// of at most width cells, ending each continued line with " \", so that
// copying the lines gives the same command. A word longer than width stays
// whole: a long line is better than a broken token.
func wrapCommand(cmd string, width int) []string {
	words := shellWords(cmd)
	if len(words) == 0 || len(cmd) <= width {
		return []string{cmd}
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if len(line)+1+len(w)+2 > width {
			lines = append(lines, line+" \\")
			line = "  " + w
			continue
		}
		line += " " + w
	}
	return append(lines, line)
}

// shellWords splits cmd at runs of spaces where a line break with a shell
// continuation keeps the command the same: outside quotes, and inside a
// command substitution within double quotes ("$(kubectl get …)"), where
// spaces only separate words. Never inside single quotes or a plain
// double-quoted string, whose spaces are part of the text.
func shellWords(cmd string) []string {
	var words []string
	var cur strings.Builder
	var (
		single, double bool // top-level quotes
		depth          int  // $( nesting inside double quotes
		innerSingle    bool // single quotes inside that substitution
		innerDouble    bool // double quotes inside that substitution
	)
	rs := []rune(cmd)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		breakable := false
		switch {
		case single:
			single = r != '\''
		case !double:
			switch r {
			case '\'':
				single = true
			case '"':
				double = true
			case ' ', '\t':
				breakable = true
			}
		case depth == 0:
			switch {
			case r == '"':
				double = false
			case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
				depth++
				cur.WriteRune(r)
				i++
				r = rs[i]
			}
		case innerSingle:
			innerSingle = r != '\''
		case innerDouble:
			innerDouble = r != '"'
		default:
			switch {
			case r == '\'':
				innerSingle = true
			case r == '"':
				innerDouble = true
			case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
				depth++
				cur.WriteRune(r)
				i++
				r = rs[i]
			case r == ')':
				depth--
			case r == ' ' || r == '\t':
				breakable = true
			}
		}
		if breakable {
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}
