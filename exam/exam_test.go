package exam

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/labfile"
)

func lab(id string, points ...int) *labfile.Lab {
	l := &labfile.Lab{ID: id, Title: "Lab " + id, Module: "mod-" + id}
	for i, p := range points {
		l.Tasks = append(l.Tasks, labfile.Task{ID: fmt.Sprintf("t%d", i+1), Title: fmt.Sprintf("Task %d of %s", i+1, id), Points: p})
	}
	return l
}

func keys(p Plan) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Key())
	}
	return out
}

// The same seed picks the same tasks in the same order; the picks never
// take a lab's task without the ones before it, and keep a lab's order.
func TestPickIsReproducibleAndKeepsEachLabsPrefix(t *testing.T) {
	labs := []*labfile.Lab{lab("a", 1, 1, 1, 1), lab("b", 2, 2, 2), lab("c", 1, 3)}
	seen := map[string]bool{}
	for seed := range int64(200) {
		p, err := Pick(labs, 5, seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Pick(labs, 5, seed, nil)
		if !slices.Equal(keys(p), keys(again)) {
			t.Fatalf("seed %d picked %v, then %v", seed, keys(p), keys(again))
		}
		next := map[string]int{}
		for _, it := range p.Items {
			next[it.Lab.ID]++
			if want := fmt.Sprintf("t%d", next[it.Lab.ID]); it.Task.ID != want {
				t.Fatalf("seed %d: %v takes %s where %s/%s comes next", seed, keys(p), it.Key(), it.Lab.ID, want)
			}
		}
		if len(p.Items) != 5 || p.MaxScore() == 0 {
			t.Fatalf("seed %d: %v", seed, keys(p))
		}
		seen[strings.Join(keys(p), " ")] = true
	}
	if len(seen) < 20 {
		t.Errorf("200 seeds gave only %d different exams", len(seen))
	}
}

// A lab's next task is picked in proportion to its points: with one task
// worth 9 and one worth 1, the first is asked about nine times in ten.
func TestPickWeighsByPoints(t *testing.T) {
	labs := []*labfile.Lab{lab("heavy", 9), lab("light", 1)}
	heavy := 0
	const runs = 2000
	for seed := range int64(runs) {
		p, err := Pick(labs, 1, seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Items[0].Lab.ID == "heavy" {
			heavy++
		}
	}
	if share := float64(heavy) / runs; share < 0.86 || share > 0.94 {
		t.Errorf("the 9-point task was picked %.1f%% of the time; want about 90%%", 100*share)
	}
}

// Questions are left out, and so is everything from the first task that
// needs what the cluster lacks; asking for more than is left says so.
func TestPickLeavesOutQuestionsAndWhatTheClusterLacks(t *testing.T) {
	l := lab("x", 1, 1, 1, 1)
	l.Tasks[0].Question = &labfile.Question{Prompt: "how many nodes?"}
	l.Tasks[2].Features = []labfile.Feature{labfile.Containers}
	if got := Usable(l, labfile.SimulatedClusterLacks); len(got) != 1 || got[0].ID != "t2" {
		t.Fatalf("usable on a simulated cluster: %v; want only t2", got)
	}
	if got := Usable(l, nil); len(got) != 3 {
		t.Fatalf("usable on kind: %d tasks; want 3", len(got))
	}
	_, err := Pick([]*labfile.Lab{l}, 2, 1, labfile.SimulatedClusterLacks)
	if err == nil || !strings.Contains(err.Error(), "--tasks 2: labs x have 1 tasks") {
		t.Fatalf("Pick(2 of 1) = %v", err)
	}
}

func labResult(labID string, statuses map[string]checks.Status) checks.LabResult {
	r := checks.LabResult{Lab: labID}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for k := range statuses {
			if !yield(k) {
				return
			}
		}
	}) {
		st := statuses[id]
		cr := checks.CheckResult{Name: "c", Status: st}
		if st != checks.Pass {
			cr.Messages = []string{"deployment web in namespace exam-" + labID + " not found"}
		}
		r.Tasks = append(r.Tasks, checks.TaskResult{ID: id, Status: st, Checks: []checks.CheckResult{cr}})
	}
	return r
}

var start = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// The clock counts down from the limit and stops at zero; a task that
// passed stays passed when a later change undoes it; a result after the
// deadline counts for nothing.
func TestSessionClockAndGrades(t *testing.T) {
	a, b := lab("a", 1, 2), lab("b", 3)
	plan := Plan{Seed: 42, Labs: []*labfile.Lab{a, b}, Items: []Item{{b, &b.Tasks[0]}, {a, &a.Tasks[0]}, {a, &a.Tasks[1]}}}
	s := NewSession(plan, start, 30*time.Minute)
	if got := Clock(s.Remaining(start.Add(61 * time.Second))); got != "28:59" {
		t.Errorf("clock after 61s = %s", got)
	}
	if got := Clock(2*time.Hour + 3*time.Second); got != "2:00:03" {
		t.Errorf("clock of 2h3s = %s", got)
	}
	if s.Remaining(start.Add(time.Hour)) != 0 || !s.Over(start.Add(30*time.Minute)) || s.Over(start.Add(29*time.Minute)) {
		t.Error("the clock does not stop at the deadline")
	}
	if !s.Record(labResult("a", map[string]checks.Status{"t1": checks.Pass, "t2": checks.Fail}), start.Add(5*time.Minute)) {
		t.Error("a first pass was not reported")
	}
	if s.Record(labResult("a", map[string]checks.Status{"t1": checks.Fail, "t2": checks.Fail}), start.Add(6*time.Minute)) {
		t.Error("a task undone was reported as passing")
	}
	if s.Record(labResult("b", map[string]checks.Status{"t1": checks.Pass}), start.Add(31*time.Minute)) {
		t.Error("a pass after the deadline counted")
	}
	if s.Done() {
		t.Error("done with two tasks not passed")
	}
	r := s.Result(start.Add(30*time.Minute), EndedTime, func(l *labfile.Lab) []Lesson {
		return []Lesson{{ID: l.ID + "-lesson", Title: "About " + l.ID}}
	})
	if r.Score != 1 || r.MaxScore != 6 || !r.Tasks[1].Passed() || r.Tasks[1].PassedAfter != 5*time.Minute {
		t.Fatalf("result %+v", r)
	}
	if r.Tasks[0].Status != checks.Missing || !strings.Contains(r.Tasks[0].Wrong[0], "never graded") || r.Tasks[2].Wrong[0] != "deployment web in namespace exam-a not found" {
		t.Fatalf("what was wrong: %q, %q", r.Tasks[0].Wrong, r.Tasks[2].Wrong)
	}
	if len(r.Review) != 2 || r.Review[0].ID != "a-lesson" {
		t.Errorf("review %+v; want the lessons of a then b, in the plan's order of labs", r.Review)
	}
	if ExitStatus(r) != ExitNotDone {
		t.Errorf("exit %d", ExitStatus(r))
	}
	back := FromRecord(r.Record(), func(id string) *labfile.Lab { return map[string]*labfile.Lab{"a": a, "b": b}[id] }, nil)
	if back.Score != 1 || back.Tasks[2].Title != "Task 2 of a" || back.Tasks[1].Status != checks.Pass || back.Tasks[2].Passed() {
		t.Errorf("from progress: %+v", back)
	}
}

func sampleResult() Result {
	a, b := lab("a", 1, 2), lab("b", 3)
	plan := Plan{Seed: 42, Labs: []*labfile.Lab{b, a}, Items: []Item{{b, &b.Tasks[0]}, {a, &a.Tasks[0]}, {a, &a.Tasks[1]}}}
	s := NewSession(plan, start, 30*time.Minute)
	s.Record(labResult("a", map[string]checks.Status{"t1": checks.Pass, "t2": checks.Fail}), start.Add(5*time.Minute))
	s.Record(labResult("b", map[string]checks.Status{"t1": checks.Pass}), start.Add(12*time.Minute))
	return s.Result(start.Add(30*time.Minute), EndedTime, func(l *labfile.Lab) []Lesson { return []Lesson{{ID: "l-" + l.ID, Title: "Lesson " + l.ID}} })
}

// Every format writes the same grades: golden files, and the numbers
// read back from JSON and JUnit.
func TestExports(t *testing.T) {
	r := sampleResult()
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, f, r); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, buf.Bytes())
			switch f {
			case report.JSON:
				var back Result
				if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Kind != ResultKind || back.Score != 4 || back.MaxScore != 6 || len(back.Tasks) != 3 {
					t.Errorf("json back: %+v, %v", back, err)
				}
			case report.JUnit:
				var doc struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
					Suites   []struct {
						Name string `xml:"name,attr"`
					} `xml:"testsuite"`
				}
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil || doc.Tests != 3 || doc.Failures != 1 || len(doc.Suites) != 2 || doc.Suites[0].Name != "b" {
					t.Errorf("junit: %+v, %v", doc, err)
				}
			}
		})
	}
	if _, err := ParseFormat("tap"); err == nil {
		t.Error("tap accepted for an exam")
	}
}

// A workshop's exam resumed (its clock began before this run) says the
// time left, not the whole time, and says that the instructor, not the
// learner, sets it again: 'k8slab exam --seed' is refused in a workshop.
// Before, both lines said "30m0s" 18 minutes in, and the result ended
// "Take the same exam again with --seed 7."
func TestHeadlessResumedWorkshopExam(t *testing.T) {
	now := time.Now()
	var out strings.Builder
	h := &Headless{Plan: Plan{Seed: 7, Workshop: "kubecon"}, Limit: 30 * time.Minute, Format: report.Text, Out: &out,
		Prepared: true, Start: now.Add(-18 * time.Minute), Now: func() time.Time { return now }}
	// No labs: nothing is graded, so the cluster is never reached.
	if _, err := h.Run(t.Context(), &rest.Config{Host: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Practice exam, seed 7: 0 tasks, 12m0s left of 30m0s.\n",
		"The clock runs: 12m0s left of 30m0s, until ",
		"Your instructor can set the class the same exam again with 'k8slab workshop exam kubecon --seed 7'.\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Take the same exam") {
		t.Errorf("a workshop's learner is told to take the exam again with --seed:\n%s", text)
	}
}

// A learner's own exam, from its start, says its whole time, and how to
// take it again.
func TestHeadlessOwnExamSaysItsWholeTime(t *testing.T) {
	var out strings.Builder
	h := &Headless{Plan: Plan{Seed: 7}, Limit: 30 * time.Minute, Format: report.Text, Out: &out}
	if _, err := h.Run(t.Context(), &rest.Config{Host: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"Practice exam, seed 7: 0 tasks, 30m0s.\n", "The clock runs: 30m0s, until ", "Take the same exam again with --seed 7.\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}
