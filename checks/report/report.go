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
	"strings"

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
