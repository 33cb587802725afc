// Package report writes a lab's grading (checks.LabResult) in the formats
// people and CI systems read: text, JSON, JUnit XML, TAP and Gradescope's
// results.json.
//
// Every format counts the same unit: one test per task. A task's checks are
// the detail of that test (a JUnit failure's text, a TAP diagnostic, a
// Gradescope test's output), so a three-task lab is three tests everywhere,
// whatever the number of checks behind each task.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/k8slab/k8slab/checks"
)

// Format names an output format.
type Format string

const (
	Text       Format = "text"
	JSON       Format = "json"
	JUnit      Format = "junit"
	TAP        Format = "tap"
	Gradescope Format = "gradescope"
)

// Formats lists every format, in the order help texts name them.
var Formats = []Format{Text, JSON, JUnit, TAP, Gradescope}

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("--format %q: use text, json, junit, tap or gradescope", s)
}

// SingleDocument reports whether a format holds exactly one result per file,
// so a stream of results (watch mode) cannot be written in it.
func (f Format) SingleDocument() bool {
	return f == JUnit || f == TAP || f == Gradescope
}

// Report is one grading as the formats write it.
type Report struct {
	checks.LabResult
	// Problem, when set, is what kept k8slab from grading the lab at all
	// (no kubeconfig, a server that does not answer). It is said once, at
	// the top of the document, rather than repeated under every task.
	Problem string `json:"problem,omitempty"`
	// NotGraded are the lab's tasks this grading left out on purpose
	// (--tasks manifests, a feature the cluster lacks), each with why:
	// they count in no score, and every format names them.
	NotGraded []Skipped `json:"notGraded,omitempty"`
	// Elapsed is how long the whole run took, from the command's start to
	// this result: for --until-done, the wait included. Zero means the
	// grading's own Duration.
	Elapsed time.Duration `json:"elapsedNanos,omitempty"`
	// Settled is, per task id, how long after the run's start the task
	// reached the status it has here; JUnit reports it as the task's time.
	Settled map[string]time.Duration `json:"-"`
}

// Skipped is a task a grading left out, and why.
type Skipped struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Points int    `json:"points"`
	Reason string `json:"reason"`
}

// elapsed is the run's time for the formats that report one.
func (r Report) elapsed() time.Duration {
	if r.Elapsed > 0 {
		return r.Elapsed
	}
	return r.Duration
}

// taskTime is how long task id took to reach its result.
func (r Report) taskTime(id string) time.Duration {
	if d, ok := r.Settled[id]; ok {
		return d
	}
	return r.elapsed()
}

// Reason is, for a result that could not be graded, why, said once: the
// problem that stopped the whole grading, or each distinct message of
// the tasks that could not be judged. Empty when everything was judged.
func (r Report) Reason() string {
	if r.Problem != "" {
		return r.Problem
	}
	var out []string
	for _, t := range r.Tasks {
		if !t.Status.Broken() {
			continue
		}
		for _, m := range t.Problems() {
			line := t.ID + ": " + m
			if !slices.Contains(out, line) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// Write writes r in format f.
func Write(w io.Writer, f Format, r Report) error {
	switch f {
	case Text:
		return writeText(w, r)
	case JSON:
		return writeJSON(w, r, "  ")
	case JUnit:
		return writeJUnit(w, r)
	case TAP:
		return writeTAP(w, r)
	case Gradescope:
		return writeGradescope(w, r)
	}
	return fmt.Errorf("internal: unknown report format %q", f)
}

// WriteJSONLine writes r as one line of JSON (JSON Lines), the form watch
// mode streams: one complete document per change.
func WriteJSONLine(w io.Writer, r Report) error {
	return writeJSON(w, r, "")
}

// Verdict is the one-line summary of a grading.
func Verdict(r Report) string {
	switch {
	case r.Problem != "" || r.Broken():
		return "could not grade every task"
	case !r.Passed():
		return "not done yet"
	case len(r.NotGraded) > 0:
		return "every graded task done"
	}
	return "all tasks done"
}

// taskName is how every format names a task: its id (what 'k8slab check
// LAB TASK' takes) and its title.
func taskName(t checks.TaskResult) string {
	return t.ID + ": " + t.Title
}

// detail describes every check of a task, one per line with its status and
// then its messages indented: the detail behind one test in JUnit and
// Gradescope.
func detail(t checks.TaskResult) string {
	var b strings.Builder
	for _, c := range t.Checks {
		fmt.Fprintf(&b, "%s: %s\n", c.Name, c.Status)
		for _, m := range c.Messages {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// notGradedLine says a left-out task and why, for text and TAP.
func notGradedLine(k Skipped) string {
	return fmt.Sprintf("%s: %s: not graded: %s", k.ID, k.Title, k.Reason)
}
