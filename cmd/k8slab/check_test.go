package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
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
	if !strings.HasPrefix(out, "TAP version 13\n1..4\n") || !strings.Contains(out, "\nok 1 - create-deployment: Create a Deployment\n") {
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

// unreachableKubeconfig points at a port where nothing listens.
func unreachableKubeconfig(t *testing.T) string {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// validDocument parses out as a document of format and returns its
// problem text and number of tests, failing the test when it is not one.
func validDocument(t *testing.T, format, out string) (problem string, tests int) {
	t.Helper()
	switch format {
	case "json":
		var doc struct {
			Problem string
			Tasks   []struct{ Status string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		return doc.Problem, len(doc.Tasks)
	case "junit":
		var doc struct {
			Suites []struct {
				Tests     int    `xml:"tests,attr"`
				Errors    int    `xml:"errors,attr"`
				SystemErr string `xml:"system-err"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil || len(doc.Suites) != 1 {
			t.Fatalf("junit: %v\n%s", err, out)
		}
		return doc.Suites[0].SystemErr, doc.Suites[0].Tests
	case "tap":
		lines := strings.Split(out, "\n")
		if len(lines) < 3 || lines[0] != "TAP version 13" || !strings.HasPrefix(lines[1], "1..") {
			t.Fatalf("tap:\n%s", out)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "# could not grade: ") {
				problem = strings.TrimPrefix(l, "# could not grade: ")
			}
			if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "not ok ") {
				tests++
			}
		}
		return problem, tests
	case "gradescope":
		var doc struct {
			Output string
			Tests  []struct{ Status string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("gradescope: %v\n%s", err, out)
		}
		return doc.Output, len(doc.Tests)
	}
	t.Fatalf("no parser for %s", format)
	return "", 0
}

var machineFormats = []string{"json", "junit", "tap", "gradescope"}

func TestCheckUnreachableClusterSaysItOnceInEveryFormat(t *testing.T) {
	kc := unreachableKubeconfig(t)
	out, stderr, code := runCode(t, "check", "deployments", "--kubeconfig", kc)
	if code != 2 || stderr != "" || strings.Count(out, "cannot reach the cluster at https://127.0.0.1:1") != 1 ||
		strings.Count(out, "connection refused") != 1 || !strings.Contains(out, "! create-deployment: Create a Deployment [0/1]") {
		t.Errorf("unreachable: exit %d, stderr %q\n%s", code, stderr, out)
	}
	for _, f := range machineFormats {
		out, stderr, code := runCode(t, "check", "deployments", "--kubeconfig", kc, "--format", f)
		problem, tests := validDocument(t, f, out)
		if code != 2 || tests != deploymentsTasks(t) || !strings.Contains(problem, "cannot reach the cluster at https://127.0.0.1:1") ||
			strings.Count(out, "connection refused") != 1 {
			t.Errorf("%s: exit %d, %d tests, problem %q\n%s", f, code, tests, problem, out)
		}
		// A CI log shows stderr next to the exit status: the reason is
		// said there too, once.
		if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "k8slab: could not grade lab deployments (exit status 2): cannot reach the cluster at https://127.0.0.1:1") {
			t.Errorf("%s: stderr %q; want the reason once", f, stderr)
		}
	}
}

func TestCheckWithoutKubeconfigWritesEveryFormat(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	t.Setenv("KUBECONFIG", missing)
	for _, f := range append([]string{"text"}, machineFormats...) {
		out, stderr, code := runCode(t, "--state-dir", t.TempDir(), "check", "deployments", "scale-up", "--format", f)
		problem, tests := out, 1
		if f != "text" {
			problem, tests = validDocument(t, f, out)
		}
		if wantErr := f != "text"; code != 2 || (stderr != "") != wantErr || strings.Count(stderr, "no cluster to grade against") != map[bool]int{true: 1}[wantErr] ||
			tests != 1 || strings.Contains(out, "KUBERNETES_MASTER") ||
			!strings.Contains(problem, "no cluster to grade against: looked for "+missing+" (no such file)") ||
			!strings.Contains(problem, "'k8slab cluster up'") {
			t.Errorf("%s: exit %d, stderr %q, %d tests (one task asked), problem %q\n%s", f, code, stderr, tests, problem, out)
		}
	}
}

func TestCheckWatchRefusesSingleDocumentFormats(t *testing.T) {
	for _, f := range []string{"junit", "tap", "gradescope"} {
		_, err := run(t, "", "check", "deployments", "--watch", "--format", f, "--kubeconfig", unreachableKubeconfig(t))
		if err == nil || !strings.Contains(err.Error(), "use --until-done") {
			t.Errorf("--watch --format %s: %v", f, err)
		}
	}
}

// Watch mode with json is JSON Lines: even a lab that cannot be graded is
// one complete document on one line.
func TestCheckWatchJSONIsJSONLines(t *testing.T) {
	out, _, code := runCode(t, "check", "deployments", "--watch", "--format", "json", "--kubeconfig", unreachableKubeconfig(t))
	if code != 2 || strings.Count(out, "\n") != 1 || !json.Valid([]byte(out)) || strings.Contains(out, "---") {
		t.Errorf("exit %d, want one JSON line:\n%s", code, out)
	}
}

func TestCheckUntilDoneWritesOneDocument(t *testing.T) {
	out, _, code := runCode(t, "check", "deployments", "--until-done", "--timeout", "5s", "--format", "junit", "--kubeconfig", unreachableKubeconfig(t))
	if problem, tests := validDocument(t, "junit", out); code != 2 || tests != deploymentsTasks(t) || problem == "" {
		t.Errorf("exit %d, %d tests, problem %q", code, tests, problem)
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

// buildK8slab builds the real binary, for tests that send it signals.
func buildK8slab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "k8slab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// watcher is a running 'k8slab check --watch' whose stdout lines arrive on
// lines.
type watcher struct {
	cmd   *exec.Cmd
	lines chan string
}

func startWatch(t *testing.T, bin string, args ...string) *watcher {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if stderr.Len() > 0 {
			t.Errorf("stderr: %s", stderr.String())
		}
	})
	return w
}

// next waits for the next line of output.
func (w *watcher) next(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			t.Fatal("the watch ended early")
		}
		return l
	case <-time.After(within):
		t.Fatalf("no output within %s", within)
	}
	return ""
}

// stop sends sig and returns the exit status and the rest of the output.
func (w *watcher) stop(t *testing.T, sig os.Signal) (int, []string) {
	t.Helper()
	if err := w.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range w.lines {
		rest = append(rest, l)
	}
	err := w.cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, rest
	case errors.As(err, &exit):
		return exit.ExitCode(), rest
	}
	t.Fatal(err)
	return -1, nil
}

type jsonResult struct {
	Score, MaxScore int
	Problem         string
	Tasks           []struct{ ID, Status string }
}

func parseLine(t *testing.T, line string) jsonResult {
	t.Helper()
	var r jsonResult
	if err := json.Unmarshal([]byte(line), &r); err != nil || len(r.Tasks) != deploymentsTasks(t) {
		t.Fatalf("not a JSON result line: %v\n%s", err, line)
	}
	return r
}

func TestCheckWatchUntilDoneAndInterruptOnLiveCluster(t *testing.T) {
	state, _ := simCluster(t)
	t.Setenv("KUBECONFIG", "")
	bin := buildK8slab(t)

	// --until-done that runs out of time: the final result once, exit 1.
	out, stderr, code := runCode(t, "--state-dir", state, "check", "deployments", "--until-done", "--timeout", "3s", "--format", "junit")
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != 1 || stderr != "" || len(suites.Suites) != 1 ||
		suites.Suites[0].Tests != deploymentsTasks(t) || suites.Suites[0].Failures != deploymentsTasks(t) || strings.Count(out, "<?xml") != 1 {
		t.Errorf("until-done timed out: exit %d, stderr %q, %v %+v\n%s", code, stderr, err, suites, out)
	}
	out, _, code = runCode(t, "--state-dir", state, "check", "deployments", "--until-done", "--timeout", "2s")
	if code != 1 || !strings.Contains(out, "Stopped after --timeout 2s: not done yet.") {
		t.Errorf("until-done text timed out: exit %d\n%s", code, out)
	}

	// Ctrl-C on a watch that is not done: exit 1, not 0. JSON Lines.
	w := startWatch(t, bin, "--state-dir", state, "check", "deployments", "--watch", "--format", "json")
	if r := parseLine(t, w.next(t, 60*time.Second)); r.Score != 0 || r.Problem != "" {
		t.Errorf("first result = %+v", r)
	}
	if code, rest := w.stop(t, syscall.SIGINT); code != 1 || len(rest) != 0 {
		t.Errorf("SIGINT on an unfinished lab: exit %d, then %q", code, rest)
	}
	// SIGTERM (CI cancelling a job) likewise; text keeps its '---' lines.
	w = startWatch(t, bin, "--state-dir", state, "check", "deployments", "--watch")
	if l := w.next(t, 60*time.Second); !strings.HasPrefix(l, "--- ") {
		t.Errorf("text watch starts with %q", l)
	}
	if code, _ := w.stop(t, syscall.SIGTERM); code != 1 {
		t.Errorf("SIGTERM on an unfinished lab: exit %d", code)
	}

	// Watch while the lab is solved: one valid JSON document per change,
	// up to the full score; Ctrl-C then exits 0.
	w = startWatch(t, bin, "--state-dir", state, "check", "deployments", "--watch", "--format", "json")
	parseLine(t, w.next(t, 60*time.Second))
	if _, stderr, code := runCode(t, "--state-dir", state, "lab", "solve", "deployments"); code != 0 {
		t.Fatalf("solve: exit %d: %s", code, stderr)
	}
	// The solution's rollout can pass and then settle again; wait for a
	// full score that holds for 3 s.
	last := jsonResult{}
	for deadline := time.Now().Add(90 * time.Second); ; {
		select {
		case l, ok := <-w.lines:
			if !ok {
				t.Fatal("the watch ended early")
			}
			last = parseLine(t, l)
			continue
		case <-time.After(3 * time.Second):
		}
		if last.Score == deploymentsTasks(t) || time.Now().After(deadline) {
			break
		}
	}
	code, rest := w.stop(t, syscall.SIGINT)
	for _, l := range rest {
		last = parseLine(t, l)
	}
	if last.Score != deploymentsTasks(t) || code != 0 {
		t.Errorf("SIGINT on a finished lab: exit %d, last result %+v", code, last)
	}

	// --until-done on a finished lab ends by itself with exit 0.
	out, _, code = runCode(t, "--state-dir", state, "check", "deployments", "--until-done", "--timeout", "2m", "--format", "junit")
	suites.Suites = nil
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || code != 0 || suites.Suites[0].Tests != deploymentsTasks(t) || suites.Suites[0].Failures != 0 || suites.Suites[0].Errors != 0 {
		t.Errorf("until-done on a finished lab: exit %d, %v %+v\n%s", code, err, suites, out)
	}
	out, _, code = runCode(t, "--state-dir", state, "check", "deployments", "--until-done", "--format", "gradescope")
	var gs struct{ Score float64 }
	if err := json.Unmarshal([]byte(out), &gs); err != nil || code != 0 || gs.Score != float64(deploymentsTasks(t)) {
		t.Errorf("until-done gradescope: exit %d, %v\n%s", code, err, out)
	}
}

// deploymentsTasks is how many tasks (one point each) the built-in
// deployments lab has, which every report format must count.
func deploymentsTasks(t *testing.T) int {
	t.Helper()
	lab, err := course.LoadLab(assets.Course(), "deployments")
	if err != nil {
		t.Fatal(err)
	}
	return len(lab.Tasks)
}

// A workshop learner is not on the machine that runs the cluster: their
// check leaves out the task that reaches a NodePort from it, with why,
// on kind as on the simulator, before the cluster is asked anything.
func TestLearnerCheckLeavesOutNodePortFromHost(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts:
- name: x
  context:
    cluster: c
    user: u
    extensions: [{name: k8slab.dev/workshop, extension: {workshop: ws, learner: ada}}]
current-context: x
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := runCode(t, "--state-dir", stateDir(t), "--kubeconfig", kc, "check", "services", "reach-nodeport")
	if code == 0 || strings.Contains(out, "cannot reach the cluster") || !strings.Contains(out, "which a workshop learner does not have") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
