package report

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/k8slab/k8slab/checks"
)

var statusMark = map[checks.Status]string{
	checks.Pass: "✓", checks.Fail: "✗", checks.Missing: "✗",
	checks.Forbidden: "!", checks.Unreachable: "!", checks.Error: "!",
}

func writeText(w io.Writer, r Report) error {
	fmt.Fprintf(w, "%s (namespace %s)\n", r.Title, r.Namespace)
	if r.Problem != "" {
		fmt.Fprintf(w, "Could not grade: %s\n", strings.ReplaceAll(r.Problem, "\n", "\n  "))
	}
	for _, t := range r.Tasks {
		fmt.Fprintf(w, "%s %s [%d/%d]\n", statusMark[t.Status], taskName(t), t.Points, t.MaxPoints)
		for _, m := range t.Problems() {
			fmt.Fprintf(w, "    %s\n", m)
		}
	}
	for _, k := range r.NotGraded {
		fmt.Fprintf(w, "- %s\n", notGradedLine(k))
	}
	notGraded := ""
	if n := len(r.NotGraded); n > 0 {
		notGraded = fmt.Sprintf(" (%d %s not graded)", n, plural(n, "task", "tasks"))
	}
	_, err := fmt.Fprintf(w, "Score %d/%d%s: %s\n", r.Score, r.MaxScore, notGraded, Verdict(r))
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeJSON(w io.Writer, r Report, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false) // messages quote YAML and shell; keep them readable
	return enc.Encode(r)
}

// writeTAP writes TAP version 13: one test point per task, with a YAML
// diagnostic block listing the checks of every task that did not pass.
func writeTAP(w io.Writer, r Report) error {
	fmt.Fprintf(w, "TAP version 13\n1..%d\n", len(r.Tasks)+len(r.NotGraded))
	fmt.Fprintf(w, "# %s (namespace %s): score %d/%d, %s\n", r.Title, r.Namespace, r.Score, r.MaxScore, Verdict(r))
	if r.Problem != "" {
		for _, line := range strings.Split("could not grade: "+r.Problem, "\n") {
			fmt.Fprintf(w, "# %s\n", line)
		}
	}
	for i, t := range r.Tasks {
		if t.Status == checks.Pass {
			fmt.Fprintf(w, "ok %d - %s\n", i+1, taskName(t))
			continue
		}
		fmt.Fprintf(w, "not ok %d - %s\n  ---\n  status: %s\n  checks:\n", i+1, taskName(t), t.Status)
		for _, c := range t.Checks {
			fmt.Fprintf(w, "    - name: %q\n      status: %s\n", c.Name, c.Status)
			if len(c.Messages) > 0 {
				fmt.Fprintln(w, "      messages:")
				for _, m := range c.Messages {
					fmt.Fprintf(w, "        - %q\n", m)
				}
			}
		}
		fmt.Fprintln(w, "  ...")
	}
	for i, k := range r.NotGraded {
		fmt.Fprintf(w, "ok %d - %s: %s # SKIP not graded: %s\n", len(r.Tasks)+i+1, k.ID, k.Title, strings.ReplaceAll(k.Reason, "#", "\\#"))
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr,omitempty"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test suite for the lab and one test case per task.
func writeJUnit(w io.Writer, r Report) error {
	return WriteJUnitSuites(w, "k8slab", []Suite{{Report: r}})
}

// Suite is one lab's grading in a JUnit document that holds several (a
// workshop's class: one per learner and lab).
type Suite struct {
	// Name names the suite and ClassName its cases' class; both default
	// to the lab's id.
	Name, ClassName string
	Report          Report
	// Skipped, when set, says why the lab was not graded: it is written
	// as one skipped case named after the lab.
	Skipped string
}

// WriteJUnitSuites writes labs' gradings as one JUnit document named name:
// a suite per grading and a case per task, named as every format names a
// task ("TASK-ID: Title"). A task that is not done is a failure; one
// k8slab could not judge is an error. The checks behind a task are the
// failure's text.
func WriteJUnitSuites(w io.Writer, name string, suites []Suite) error {
	doc := junitSuites{Name: name}
	var total time.Duration
	for _, in := range suites {
		r := in.Report
		total += r.elapsed()
		s := junitSuite{
			Name: cmp.Or(in.Name, r.Lab), Time: seconds(r.elapsed()), Timestamp: r.At.UTC().Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{
				{Name: "title", Value: r.Title},
				{Name: "namespace", Value: r.Namespace},
				{Name: "score", Value: fmt.Sprintf("%d/%d", r.Score, r.MaxScore)},
			},
			SystemErr: r.Problem,
		}
		class := cmp.Or(in.ClassName, r.Lab)
		if in.Skipped != "" {
			s.Cases = append(s.Cases, junitCase{Name: r.Lab, ClassName: class, Time: seconds(0), Skipped: &junitSkipped{Message: in.Skipped}})
			s.Tests++
			s.Skipped++
		}
		for _, t := range r.Tasks {
			tc := junitCase{Name: taskName(t), ClassName: class, Time: seconds(r.taskTime(t.ID))}
			msg := strings.Join(t.Problems(), "; ")
			switch {
			case t.Status.Broken():
				tc.Error = &junitProblem{Message: msg, Type: string(t.Status), Text: detail(t)}
				s.Errors++
			case t.Status != checks.Pass:
				tc.Failure = &junitProblem{Message: msg, Type: string(t.Status), Text: detail(t)}
				s.Failures++
			default:
				tc.SystemOut = detail(t)
			}
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		for _, k := range r.NotGraded {
			s.Cases = append(s.Cases, junitCase{Name: k.ID + ": " + k.Title, ClassName: class, Time: seconds(0),
				Skipped: &junitSkipped{Message: "not graded: " + k.Reason}})
			s.Tests++
			s.Skipped++
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// writeGradescope writes Gradescope's autograder results.json: one test per
// task with its score and max_score, the checks as the test's output.
func writeGradescope(w io.Writer, r Report) error {
	type test struct {
		Name     string  `json:"name"`
		Number   string  `json:"number"`
		Score    float64 `json:"score"`
		MaxScore float64 `json:"max_score"`
		Status   string  `json:"status"`
		Output   string  `json:"output,omitempty"`
	}
	out := struct {
		Score         float64 `json:"score"`
		ExecutionTime float64 `json:"execution_time"`
		Output        string  `json:"output"`
		Tests         []test  `json:"tests"`
	}{
		Score:         float64(r.Score),
		ExecutionTime: r.elapsed().Seconds(),
		Output:        fmt.Sprintf("%s: %d/%d, %s", r.Title, r.Score, r.MaxScore, Verdict(r)),
		Tests:         []test{},
	}
	if r.Problem != "" {
		out.Output += "\nCould not grade: " + r.Problem
	}
	// A left-out task is no test: a 0/0 test would still show as passed.
	for _, k := range r.NotGraded {
		out.Output += "\n" + notGradedLine(k)
	}
	for i, t := range r.Tasks {
		status := "passed"
		if t.Status != checks.Pass {
			status = "failed"
		}
		out.Tests = append(out.Tests, test{Name: taskName(t), Number: fmt.Sprint(i + 1), Score: float64(t.Points),
			MaxScore: float64(t.MaxPoints), Status: status, Output: detail(t)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
