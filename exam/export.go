package exam

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

// ReviewFrom gives, for a lab, the lessons of the course module it
// belongs to: what to read again after getting its tasks wrong.
func ReviewFrom(c *course.Course) func(*labfile.Lab) []Lesson {
	return func(lab *labfile.Lab) []Lesson {
		var out []Lesson
		for _, m := range c.Modules {
			if m.ID != lab.Module {
				continue
			}
			for _, l := range m.Lessons {
				out = append(out, Lesson{ID: l.ID, Title: l.Title})
			}
		}
		return out
	}
}

// Formats are the formats an exam's result is written in.
var Formats = []report.Format{report.Text, report.JSON, report.JUnit, report.Gradescope}

// ParseFormat checks an exam's --format value.
func ParseFormat(s string) (report.Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("--format %q: use text, json, junit or gradescope", s)
}

// Write writes r in format f. JSON is the result itself (kind
// k8slab-exam, versioned); JUnit has a suite per lab and Gradescope a
// test per task, written by checks/report as 'k8slab check' writes them.
func Write(w io.Writer, f report.Format, r Result) error {
	switch f {
	case report.Text:
		return writeText(w, r)
	case report.JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	case report.JUnit:
		var suites []report.Suite
		for _, lab := range r.Labs {
			suites = append(suites, report.Suite{Report: r.report(lab)})
		}
		return report.WriteJUnitSuites(w, "k8slab-exam", suites)
	case report.Gradescope:
		return report.Write(w, report.Gradescope, r.report(""))
	}
	return fmt.Errorf("an exam's result cannot be written as %s; use text, json, junit or gradescope", f)
}

// Title names the exam in reports.
func (r Result) Title() string { return fmt.Sprintf("Practice exam (seed %d)", r.Seed) }

// report is the result as one grading, for the formats of checks/report:
// of lab alone, or of the whole exam (tasks named LAB/TASK) for "".
func (r Result) report(lab string) report.Report {
	res := checks.LabResult{Lab: "exam", Title: r.Title(), Namespace: "exam-*", At: r.EndedAt, Duration: r.EndedAt.Sub(r.StartedAt)}
	if lab != "" {
		res.Lab, res.Namespace = lab, "exam-"+lab
	}
	settled := map[string]time.Duration{}
	for _, m := range r.Tasks {
		if lab != "" && m.Lab != lab {
			continue
		}
		id := m.Lab + "/" + m.Task
		if lab != "" {
			id = m.Task
		}
		tr := checks.TaskResult{ID: id, Title: m.Title, Status: m.Status, Points: m.Points, MaxPoints: m.MaxPoints,
			Checks: []checks.CheckResult{{Name: "exam", Status: m.Status, Messages: m.Wrong}}}
		if m.Passed() {
			tr.Checks[0].Messages = []string{fmt.Sprintf("passed %s into the exam", m.PassedAfter.Round(time.Second))}
			settled[id] = m.PassedAfter
		}
		res.Tasks = append(res.Tasks, tr)
		res.Score += m.Points
		res.MaxScore += m.MaxPoints
	}
	return report.Report{LabResult: res, Elapsed: res.Duration, Settled: settled}
}

func writeText(w io.Writer, r Result) error {
	ended := "time ran out"
	if r.Ended == EndedFinished {
		ended = "finished"
	}
	fmt.Fprintf(w, "%s: %d/%d (%s after %s of %s)\n", r.Title(), r.Score, r.MaxScore, ended, r.EndedAt.Sub(r.StartedAt).Round(time.Second), r.Limit)
	for _, m := range r.Tasks {
		mark := "✓"
		if !m.Passed() {
			mark = "✗"
		}
		fmt.Fprintf(w, "%s %s/%s: %s [%d/%d]\n", mark, m.Lab, m.Task, m.Title, m.Points, m.MaxPoints)
		for _, msg := range m.Wrong {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(msg, "\n", "\n    "))
		}
	}
	if len(r.Review) > 0 {
		fmt.Fprintln(w, "Lessons to review:")
		for _, l := range r.Review {
			fmt.Fprintf(w, "  %s (k8slab lessons show %s)\n", l.Title, l.ID)
		}
	}
	again := r.Again()
	_, err := fmt.Fprintf(w, "%s%s.\n", strings.ToUpper(again[:1]), again[1:])
	return err
}

// Again says how to take the same exam again, as a clause ("take the
// same exam again with --seed 42"). A workshop's learner cannot:
// 'k8slab exam' refuses --seed in a workshop, where the instructor sets
// the exam, so it names the instructor's command.
func (r Result) Again() string {
	if r.Workshop != "" {
		return fmt.Sprintf("your instructor can set the class the same exam again with 'k8slab workshop exam %s --seed %d'", r.Workshop, r.Seed)
	}
	return fmt.Sprintf("take the same exam again with --seed %d", r.Seed)
}
