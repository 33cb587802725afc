package labverify

import (
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labfile"
)

func TestNamespaceNameFitsKubernetes(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, base := range []string{"lab-pods", long, strings.Repeat("ab-", 21)} {
		got := namespaceName(base, "abcdef", 12)
		if len(got) > 63 || strings.Contains(got, "--") || !strings.HasSuffix(got, "-vabcdef-12") {
			t.Errorf("namespaceName(%q) = %q", base, got)
		}
	}
}

func TestFailureNamesTaskAndMistake(t *testing.T) {
	f := Failure{Lab: "pods", Task: "web-pod", Mistake: "Forgot the label", Phase: "mistake", Message: "the checks accept this mistake"}
	want := `lab pods, task web-pod, mistake "Forgot the label": the checks accept this mistake`
	if f.String() != want {
		t.Errorf("got %q, want %q", f.String(), want)
	}
}

func TestMistakeMustBreakItsRequirementAlone(t *testing.T) {
	task := &labfile.Task{Requires: []labfile.Requirement{
		{ID: "image", Checks: []string{"runs 1.27"}},
		{ID: "done", Checks: []string{"rollout finished"}},
	}}
	res := func(statuses ...checks.Status) checks.TaskResult {
		r := checks.TaskResult{}
		for i, name := range []string{"runs 1.27", "rollout finished"} {
			r.Checks = append(r.Checks, checks.CheckResult{Name: name, Status: statuses[i]})
		}
		return r
	}
	alone := brokenBeyond(task, labfile.Mistake{Breaks: "image"}, res(checks.Fail, checks.Pass))
	more := brokenBeyond(task, labfile.Mistake{Breaks: "image"}, res(checks.Fail, checks.Fail))
	settlingToo := res(checks.Fail, checks.Fail)
	settlingToo.Checks[1].Settling = true
	if len(alone) != 0 || len(brokenBeyond(task, labfile.Mistake{Breaks: "image"}, settlingToo)) != 0 {
		t.Errorf("a mistake that breaks only its requirement was blamed: %q", alone)
	}
	if len(more) != 1 || more[0] != `"rollout finished"` {
		t.Errorf("a mistake that breaks two requirements: got %q", more)
	}
	if got := brokenBeyond(task, labfile.Mistake{}, res(checks.Fail, checks.Fail)); len(got) != 0 {
		t.Errorf("a mistake tied to no requirement was held to one: %q", got)
	}
}

func TestReportAsText(t *testing.T) {
	var b strings.Builder
	LabReport{Lab: "pods", Duration: 1234 * time.Millisecond, Skipped: []string{"task logs: needs \"containers\""}}.WriteText(&b)
	LabReport{Lab: "services", Duration: 2 * time.Second, Failures: []Failure{{Lab: "services", Task: "expose", Phase: "solution", Message: "still failing"}}}.WriteText(&b)
	want := "  skipped task logs: needs \"containers\"\n" +
		"PASS pods (1.2s)\n" +
		"FAIL services (2s)\n" +
		"  - lab services, task expose: still failing\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
}
