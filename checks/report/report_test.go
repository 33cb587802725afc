package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// mixed is a grading with one task of each kind of outcome: done, not done
// (two checks, one of them failing twice), and not judged.
func mixed() Report {
	return Report{LabResult: checks.LabResult{
		Lab: "deployments", Title: "Deployments <&> you", Namespace: "lab-deployments",
		At: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), Duration: 12 * time.Millisecond,
		Score: 1, MaxScore: 4, APIRequests: 3,
		Tasks: []checks.TaskResult{
			{ID: "create-deployment", Title: "Create a Deployment", Status: checks.Pass, Points: 1, MaxPoints: 1,
				Checks: []checks.CheckResult{{Name: "exists", Status: checks.Pass}}},
			{ID: "scale-up", Title: "Scale it up", Status: checks.Fail, MaxPoints: 2,
				Checks: []checks.CheckResult{
					{Name: "exists", Status: checks.Pass},
					{Name: "replicas", Status: checks.Fail, Messages: []string{
						`deployment web asks for 3 replicas; the task wants 5`,
						`only 3 of 5 pods are "Ready"`,
					}},
				}},
			{ID: "replace-pod", Title: "Replace a pod", Status: checks.Forbidden, MaxPoints: 1,
				Checks: []checks.CheckResult{{Name: "pods", Status: checks.Forbidden, Messages: []string{
					"not allowed to read pods in lab-deployments: pods is forbidden",
				}}}},
		},
	}}
}

// passed is a grading where every task is done.
func passed() Report {
	r := mixed()
	r.Tasks = r.Tasks[:1]
	r.MaxScore = 1
	return r
}

// ungraded is what k8slab writes when it cannot reach a cluster at all.
func ungraded() Report {
	r := mixed()
	r.Score = 0
	r.Problem = "no kubeconfig found: looked for /home/x/.kube/config\ncreate a cluster with 'k8slab cluster up'"
	for i := range r.Tasks {
		r.Tasks[i].Status, r.Tasks[i].Points = checks.Error, 0
		r.Tasks[i].Checks = []checks.CheckResult{{Name: "cluster", Status: checks.Error, Messages: []string{"not graded: no cluster to grade against"}}}
	}
	return r
}

// selected is a CI grading of the tasks manifests can complete: one
// passed, one left out because it needs live actions, one because the
// cluster lacks a feature; it ran for 45 s (--until-done).
func selected() Report {
	r := passed()
	r.Elapsed = 45 * time.Second
	r.Settled = map[string]time.Duration{"create-deployment": 31 * time.Second}
	r.NotGraded = []Skipped{
		{ID: "replace-pod", Title: "Replace a pod", Points: 1, Reason: "it needs actions on the live cluster (grading: live) and --tasks manifests grades only what manifests complete"},
		{ID: "reach-nodeport", Title: "Reach the NodePort", Points: 1, Reason: "it needs a NodePort reachable from your machine, which a simulated cluster lacks: grade it on a kind cluster"},
	}
	return r
}

func TestGolden(t *testing.T) {
	fixtures := map[string]Report{"mixed": mixed(), "passed": passed(), "ungraded": ungraded(), "selected": selected()}
	for name, r := range fixtures {
		for _, f := range Formats {
			t.Run(name+"."+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := Write(&b, f, r); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+"."+string(f))
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if b.String() != string(want) {
					t.Errorf("%s differs from %s:\n%s", f, path, b.String())
				}
			})
		}
	}
}

// Every format counts tasks, not checks: the mixed grading has three tasks
// and four checks.
func TestFormatsCountTasks(t *testing.T) {
	r := mixed()
	var b bytes.Buffer

	if err := Write(&b, JUnit, r); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Cases    []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil {
		t.Fatalf("junit is not XML: %v", err)
	}
	if s := suites.Suites[0]; suites.Tests != 3 || s.Tests != 3 || len(s.Cases) != 3 || s.Failures != 1 || s.Errors != 1 {
		t.Errorf("junit counts %+v, want 3 tests, 1 failure, 1 error", suites)
	}

	b.Reset()
	_ = Write(&b, TAP, r)
	if !strings.HasPrefix(b.String(), "TAP version 13\n1..3\n") || strings.Count(b.String(), "\nok ")+strings.Count(b.String(), "\nnot ok ") != 3 {
		t.Errorf("tap does not plan and report 3 tests:\n%s", b.String())
	}

	b.Reset()
	_ = Write(&b, Gradescope, r)
	var gs struct {
		Score float64
		Tests []struct {
			MaxScore float64 `json:"max_score"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &gs); err != nil || len(gs.Tests) != 3 || gs.Tests[1].MaxScore != 2 || gs.Score != 1 {
		t.Errorf("gradescope: %v %+v", err, gs)
	}
}

// A task left out is named, with why, in every format, and counts in no
// score: full marks stay full marks.
func TestNotGradedTasksAreNamedWithTheirReason(t *testing.T) {
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, f, selected()); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"replace-pod", "needs actions on the live cluster", "reach-nodeport", "simulated cluster lacks"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not say %q:\n%s", f, want, out)
			}
		}
	}
	var b bytes.Buffer
	_ = Write(&b, Gradescope, selected())
	var gs struct {
		Score float64
		Tests []struct {
			MaxScore float64 `json:"max_score"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &gs); err != nil || gs.Score != 1 || len(gs.Tests) != 1 {
		t.Errorf("gradescope scores a left-out task: %v %+v", err, gs)
	}
	b.Reset()
	_ = Write(&b, TAP, selected())
	if !strings.Contains(b.String(), "1..3\n") || !strings.Contains(b.String(), "ok 3 - reach-nodeport: Reach the NodePort # SKIP") {
		t.Errorf("tap does not skip the left-out tasks:\n%s", b.String())
	}
}

// JUnit and Gradescope report the time the run took, not the last
// grading's few milliseconds: an --until-done run of 45 s says 45.
func TestTimeIsTheRunsTime(t *testing.T) {
	var b bytes.Buffer
	_ = Write(&b, JUnit, selected())
	var suites struct {
		Time   string `xml:"time,attr"`
		Suites []struct {
			Time  string `xml:"time,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
				Time string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Time != "45.000" || suites.Suites[0].Time != "45.000" || suites.Suites[0].Cases[0].Time != "31.000" {
		t.Errorf("junit times: %+v; want the run's 45 s and the task's 31 s", suites)
	}
	b.Reset()
	_ = Write(&b, Gradescope, selected())
	if !strings.Contains(b.String(), `"execution_time": 45,`) {
		t.Errorf("gradescope time:\n%s", b.String())
	}
}

func TestProblemIsSaidOnce(t *testing.T) {
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, f, ungraded()); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(b.String(), "looked for /home/x/.kube/config"); n != 1 {
			t.Errorf("%s says the problem %d times:\n%s", f, n, b.String())
		}
	}
}

func TestJSONKeepsTheResultFieldsAndAddsTheProblem(t *testing.T) {
	var b bytes.Buffer
	_ = Write(&b, JSON, ungraded())
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["lab"] != "deployments" || doc["maxScore"] != 4.0 || !strings.HasPrefix(doc["problem"].(string), "no kubeconfig") {
		t.Errorf("json = %v", doc)
	}
	b.Reset()
	_ = Write(&b, JSON, passed())
	if strings.Contains(b.String(), "problem") {
		t.Errorf("a graded lab has a problem field:\n%s", b.String())
	}
}

func TestJSONLineIsOneLine(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSONLine(&b, mixed()); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 1 || !strings.HasSuffix(b.String(), "}\n") || !json.Valid(b.Bytes()) {
		t.Errorf("not one JSON line: %q", b.String())
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "use text, json, junit, tap or gradescope") {
		t.Errorf("xml: %v", err)
	}
	if Text.SingleDocument() || JSON.SingleDocument() || !JUnit.SingleDocument() || !TAP.SingleDocument() || !Gradescope.SingleDocument() {
		t.Error("only junit, tap and gradescope hold a single document")
	}
}

func BenchmarkWrite(b *testing.B) {
	r := mixed()
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := Write(io.Discard, f, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
