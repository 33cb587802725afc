package workshop

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
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

// writeJUnit writes a suite per learner and lab, and a case per graded
// task, with the JUnit writer 'k8slab check' uses, so CI dashboards show
// the class as test results named as a learner's own check names them.
func writeJUnit(w io.Writer, t Table) error {
	var suites []report.Suite
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			s := report.Suite{Name: r.Learner + "/" + c.Lab, ClassName: r.Learner + "." + c.Lab,
				Report: report.Report{LabResult: checks.LabResult{Lab: c.Lab, Title: c.Title, Namespace: c.Namespace,
					Tasks: c.Tasks, Score: c.Score, MaxScore: c.MaxScore, At: t.At}}}
			switch {
			case c.State == NotGraded:
				s.Skipped = "not graded in a workshop: its tasks are questions or need cluster-wide rights"
			case len(c.Tasks) == 0:
				s.Skipped = "not graded: the learner has no namespace for this lab"
			}
			suites = append(suites, s)
		}
	}
	return report.WriteJUnitSuites(w, "workshop "+t.Workshop, suites)
}
