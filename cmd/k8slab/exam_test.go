package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/exam"
)

// A whole practice exam on the simulated cluster: the headless exam starts
// the deployments lab in its exam namespace, one of its two tasks is
// solved with the lab's reference solution while the clock runs, time
// runs out, and the result (printed, then exported from progress as JSON
// and JUnit) gives that task and not the other.
func TestExamEndToEndOnSimulatedCluster(t *testing.T) {
	state, kubeconfig := simCluster(t)
	bin := buildK8slab(t)
	w := startWatch(t, bin, "--state-dir", state, "exam", "--headless", "--until", "timeout", "--labs", "deployments",
		"--tasks", "2", "--time", "40s", "--seed", "11", "--kubeconfig", kubeconfig)
	var out []string
	for {
		l := w.next(t, 3*time.Minute)
		out = append(out, l)
		if strings.HasPrefix(l, "The clock runs") {
			break
		}
	}
	printed := strings.Join(out, "\n")
	for _, want := range []string{"Seed 11", "1. deployments/create-deployment", "2. deployments/scale-up", "namespace exam-deployments"} {
		if !strings.Contains(printed, want) {
			t.Fatalf("the exam's start does not say %q:\n%s", want, printed)
		}
	}

	if _, stderr, code := runCode(t, "--state-dir", state, "lab", "solve", "deployments", "create-deployment",
		"--namespace", "exam-deployments", "--force", "--kubeconfig", kubeconfig); code != 0 {
		t.Fatalf("solving create-deployment: %s", stderr)
	}

	for l := range w.lines {
		out = append(out, l)
	}
	err := w.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exam.ExitNotDone {
		t.Errorf("exit %v; want %d, a task not done", err, exam.ExitNotDone)
	}
	printed = strings.Join(out, "\n")
	for _, want := range []string{"✓ deployments/create-deployment", "Practice exam (seed 11): 1/2 (time ran out",
		"✗ deployments/scale-up", "Lessons to review:", "k8slab lessons show scaling"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the exam's output lacks %q:\n%s", want, printed)
		}
	}

	js, stderr, code := runCode(t, "--state-dir", state, "exam", "--last", "--format", "json")
	var r exam.Result
	if code != 0 || json.Unmarshal([]byte(js), &r) != nil {
		t.Fatalf("exam --last --format json: exit %d, %s\n%s", code, stderr, js)
	}
	if r.Kind != exam.ResultKind || r.Seed != 11 || r.Score != 1 || r.MaxScore != 2 || r.Ended != exam.EndedTime ||
		!r.Tasks[0].Passed() || r.Tasks[1].Passed() || len(r.Tasks[1].Wrong) == 0 {
		t.Errorf("json export: %+v", r)
	}
	junit, _, code := runCode(t, "--state-dir", state, "exam", "--last", "--format", "junit")
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if code != 0 || xml.Unmarshal([]byte(junit), &doc) != nil || doc.Tests != 2 || doc.Failures != 1 ||
		len(doc.Suites) != 1 || doc.Suites[0].Name != "deployments" || doc.Suites[0].Cases[1].Failure == nil {
		t.Errorf("junit export (exit %d): %+v\n%s", code, doc, junit)
	}
}

// A workshop learner starts the exam with their own kubeconfig; the command
// the exam screen shows for a second terminal must point there too, not at
// a cluster k8slab made (the exam's --kubeconfig shadows the root's).
func TestExamTerminalCommandKeepsTheLearnersKubeconfig(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, _, err := root.Find([]string{"exam"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags([]string{"--kubeconfig", "/home/sam/my kc/learner-01.kubeconfig", "--context", "ws"}); err != nil {
		t.Fatal(err)
	}
	got := clusterEnvCommand(cmd)
	want := "k8slab cluster env --kubeconfig='/home/sam/my kc/learner-01.kubeconfig' --context=ws"
	if got != want {
		t.Errorf("clusterEnvCommand = %s\nwant %s", got, want)
	}
}
