package workshop

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/k8slab/k8slab/checks"
)

// Formats Export writes.
var Formats = []string{"csv", "json", "junit"}

// Export writes the table as a gradebook.
func Export(w io.Writer, t Table, format string) error {
	switch format {
	case "csv":
		return writeCSV(w, t)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	case "junit":
		return writeJUnit(w, t)
	}
	return fmt.Errorf("format %q: use %s", format, strings.Join(Formats, ", "))
}

// writeCSV writes one row per learner: the total, then each lab's score
// and state, the way spreadsheets and LMS gradebooks import it.
func writeCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	header := []string{"learner", "score", "max_score"}
	for _, lab := range t.Labs {
		header = append(header, lab+" score", lab+" max", lab+" state", lab+" failing task")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := []string{r.Learner, strconv.Itoa(r.Score), strconv.Itoa(r.MaxScore)}
		for _, c := range r.Cells {
			rec = append(rec, strconv.Itoa(c.Score), strconv.Itoa(c.MaxScore), c.State, c.Failing)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes a suite per learner and a case per graded task, so CI
// dashboards show the class as test results.
func writeJUnit(w io.Writer, t Table) error {
	out := junitSuites{Name: "workshop " + t.Workshop}
	for _, r := range t.Rows {
		s := junitSuite{Name: r.Learner}
		for _, c := range r.Cells {
			if c.State == NotGraded || len(c.Tasks) == 0 {
				s.Tests++
				s.Skipped++
				s.Cases = append(s.Cases, junitCase{Name: c.Lab, ClassName: r.Learner + "." + c.Lab,
					Skipped: &junitProblem{Message: "not graded in a workshop: its tasks are questions or need cluster-wide rights"}})
				continue
			}
			for _, task := range c.Tasks {
				jc := junitCase{Name: c.Lab + "/" + task.ID, ClassName: r.Learner + "." + c.Lab}
				s.Tests++
				switch {
				case task.Status == checks.Pass:
				case task.Status.Broken():
					s.Errors++
					jc.Error = &junitProblem{Message: string(task.Status), Text: messages(task)}
				default:
					s.Failures++
					jc.Failure = &junitProblem{Message: string(task.Status), Text: messages(task)}
				}
				s.Cases = append(s.Cases, jc)
			}
		}
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// messages lists what a learner still has to fix in a task, a line each.
func messages(t checks.TaskResult) string {
	var b strings.Builder
	for _, m := range t.Problems() {
		b.WriteString(m + "\n")
	}
	return b.String()
}
