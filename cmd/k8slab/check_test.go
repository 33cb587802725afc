package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// simCluster starts a simulated cluster for the CLI tests and returns its
// state folder (where 'k8slab' finds it) and kubeconfig.
func simCluster(t *testing.T) (state, kubeconfig string) {
	t.Helper()
	p, state := clustertest.Start(t, "k8slab-check")
	return state, p.KubeconfigPath()
}

// runCode runs the CLI and returns stdout, stderr and the exit status main
// would use.
func runCode(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = 2
		if ec, ok := err.(exitCode); ok {
			code = int(ec)
		}
	}
	return out.String(), errOut.String(), code
}

func TestCheckGradesLiveClusterWithExitCodesAndFormats(t *testing.T) {
	state, kubeconfig := simCluster(t)
	t.Setenv("KUBECONFIG", "") // use the cluster k8slab created

	// Not started: the namespace is empty, so tasks are missing: exit 1,
	// and nothing on stderr (GitHub Classroom fails a test on any).
	out, stderr, code := runCode(t, "--state-dir", state, "check", "deployments")
	if code != 1 || stderr != "" || !strings.Contains(out, "deployment web in namespace lab-deployments not found") || !strings.Contains(out, "Score 0/4: not done yet") {
		t.Fatalf("unsolved: code %d, stderr %q\n%s", code, stderr, out)
	}

	out, stderr, code = runCode(t, "--state-dir", state, "lab", "solve", "deployments")
	if code != 0 {
		t.Fatalf("solve: %d %s\n%s", code, stderr, out)
	}
	// The last task needs a replacement pod to be Ready; give it a moment.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, stderr, code = runCode(t, "--state-dir", state, "check", "deployments")
		if code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code != 0 || stderr != "" || !strings.Contains(out, "Score 4/4: all tasks done") {
		t.Fatalf("solved: code %d, stderr %q\n%s", code, stderr, out)
	}

	out, _, code = runCode(t, "--state-dir", state, "check", "deployments", "--format", "json")
	var res struct {
		Score, MaxScore int
		Tasks           []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Score != 4 || len(res.Tasks) != 4 {
		t.Errorf("json: %v %d %+v\n%s", err, code, res, out)
	}
	out, _, _ = runCode(t, "--state-dir", state, "check", "deployments", "--format", "junit")
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests == 0 || suites.Suites[0].Failures != 0 {
		t.Errorf("junit: %v %+v\n%s", err, suites, out)
	}
	out, _, _ = runCode(t, "--state-dir", state, "check", "deployments", "--format", "tap")
	if !strings.HasPrefix(out, "TAP version 13\n1..4\nok 1 - create-deployment") {
		t.Errorf("tap:\n%s", out)
	}
	out, _, _ = runCode(t, "--state-dir", state, "check", "deployments", "--format", "gradescope")
	var gs struct {
		Score float64
		Tests []struct {
			Score    float64 `json:"score"`
			MaxScore float64 `json:"max_score"`
			Status   string  `json:"status"`
		}
	}
	if err := json.Unmarshal([]byte(out), &gs); err != nil || gs.Score != 4 || len(gs.Tests) != 4 || gs.Tests[0].MaxScore != 1 || gs.Tests[0].Status != "passed" {
		t.Errorf("gradescope: %v %+v\n%s", err, gs, out)
	}

	// One task; a question answered right and wrong.
	if _, _, code := runCode(t, "--state-dir", state, "check", "deployments", "scale-up"); code != 0 {
		t.Errorf("single task: exit %d", code)
	}
	out, _, code = runCode(t, "--state-dir", state, "check", "explore-cluster", "count-nodes", "--answer", "count-nodes=3")
	if code != 0 {
		t.Errorf("right answer: exit %d\n%s", code, out)
	}
	if _, _, code := runCode(t, "--state-dir", state, "check", "explore-cluster", "count-nodes", "--answer", "count-nodes=7"); code != 1 {
		t.Errorf("wrong answer: exit %d", code)
	}

	// Reset refuses a namespace k8slab did not make.
	_, _, code = runCode(t, "--kubeconfig", kubeconfig, "lab", "reset", "deployments", "--namespace", "default")
	if code != 2 {
		t.Errorf("reset of the default namespace: exit %d", code)
	}
	if _, _, code := runCode(t, "--state-dir", state, "lab", "solve", "deployments", "--namespace", "student-7"); code != 2 {
		t.Errorf("solve in a learner's namespace without --force: exit %d", code)
	}
}

func TestCheckUnreachableClusterExits2(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600)
	out, stderr, code := runCode(t, "check", "deployments", "--kubeconfig", kc)
	if code != 2 || !strings.Contains(out, "cannot reach the cluster") {
		t.Errorf("unreachable: exit %d, stderr %q\n%s", code, stderr, out)
	}
}

func TestCheckBadArgumentsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"check", "no-such-lab"},
		{"check", "deployments", "no-such-task"},
		{"check", "deployments", "--format", "xml"},
		{"check", "explore-cluster", "--answer", "nonsense"},
	} {
		if _, _, code := runCode(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestLabsList(t *testing.T) {
	out, _, code := runCode(t, "labs", "--format", "json")
	var labs []struct {
		ID, Module string
		Tasks      int
	}
	if err := json.Unmarshal([]byte(out), &labs); err != nil || code != 0 || len(labs) < 4 {
		t.Fatalf("labs: %v %d\n%s", err, code, out)
	}
	if labs[0].ID != "explore-cluster" || labs[0].Module != "architecture" || labs[0].Tasks == 0 {
		t.Errorf("first lab = %+v", labs[0])
	}
}
