package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl/enginetest"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
)

// engineFixture reads a captured engine CLI output from testdata/kind.
func engineFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cliResult is what one fake command prints and how it exits.
type cliResult struct {
	out string
	err error
}

var errExit1 = errors.New("exit status 1")

// replayEngines makes runCommand answer from results, keyed by the command
// line ("docker -v"); a CLI with no entry at all is not installed. It
// returns the command lines run, in order.
func replayEngines(t *testing.T, results map[string]cliResult) *[]string {
	t.Helper()
	var calls []string
	orig := runCommand
	t.Cleanup(func() { runCommand = orig })
	runCommand = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		line := strings.Join(append([]string{name}, args...), " ")
		calls = append(calls, line)
		if r, ok := results[line]; ok {
			return []byte(r.out), r.err
		}
		for key := range results {
			if strings.HasPrefix(key, name+" ") {
				t.Fatalf("unexpected command %q", line)
			}
		}
		return nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	return &calls
}

const (
	dockerV    = "docker -v"
	dockerInfo = "docker info --format {{json .}}"
	podmanV    = "podman -v"
	podmanInfo = "podman info --format json"
)

func mustProblem(t *testing.T, err error, sentinel error) *problem.Problem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a Problem")
	}
	p, ok := errors.AsType[*problem.Problem](err)
	if !ok {
		t.Fatalf("error is %T, not a *problem.Problem: %v", err, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error does not wrap %v: %v", sentinel, err)
	}
	return p
}

func assertContains(t *testing.T, what, text string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not mention %q:\n%s", what, w, text)
		}
	}
}

func TestDetectEngineNoCLI(t *testing.T) {
	replayEngines(t, map[string]cliResult{})
	engine, err := Detect(context.Background(), "")
	if engine != "" {
		t.Errorf("engine = %q, want none", engine)
	}
	p := mustProblem(t, err, problem.ErrNoEngine)
	assertContains(t, "Summary", p.Summary, "no container engine found", "Docker", "Podman")
	assertContains(t, "Fix", p.Fix, "install Docker", "Podman", "--provider sim")
}

func TestDetectEngineDockerNotRunning(t *testing.T) {
	version := engineFixture(t, "docker-version.txt")
	tests := []struct {
		fixture     string
		summary     []string
		fix         []string
		sentinelErr error
	}{
		{
			// Captured on the build machine: the command both k8slab and
			// kind run, with no engine.
			fixture: "docker-info-json-daemon-down.txt",
			summary: []string{"Docker is installed", "not running", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock"},
			fix:     []string{"Docker Desktop", "systemctl start docker", "docker info", "--provider sim"},
		},
		{
			fixture: "docker-info-daemon-down.txt",
			summary: []string{"not running", "Is the docker daemon running?"},
			fix:     []string{"systemctl start docker"},
		},
		{
			fixture: "docker-info-macos-desktop-down.txt",
			summary: []string{"not running", ".docker/run/docker.sock"},
			fix:     []string{"Docker Desktop"},
		},
		{
			fixture: "docker-info-windows-desktop-down.txt",
			summary: []string{"not running", "dockerDesktopLinuxEngine"},
			fix:     []string{"Docker Desktop"},
		},
		{
			fixture: "docker-info-json-tcp-refused.txt",
			summary: []string{"not running", "tcp://127.0.0.1:2375"},
			fix:     []string{"DOCKER_HOST", "docker context ls"},
		},
		{
			fixture: "docker-info-json-permission-denied.txt",
			summary: []string{"not allowed", "permission denied while trying to connect to the Docker daemon socket"},
			fix:     []string{"usermod -aG docker", "log out", "rootless", "sudo"},
		},
		{
			fixture: "docker-info-permission-denied-older.txt",
			summary: []string{"not allowed", "/var/run/docker.sock"},
			fix:     []string{"usermod -aG docker"},
		},
		{
			fixture: "docker-info-json-error-during-connect.txt",
			summary: []string{"cannot reach the Docker engine", "no such host"},
			fix:     []string{"DOCKER_HOST", "docker info", "--provider sim"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			replayEngines(t, map[string]cliResult{
				dockerV:    {out: version},
				dockerInfo: {out: engineFixture(t, tt.fixture), err: errExit1},
			})
			engine, err := Detect(context.Background(), "")
			if engine != "" {
				t.Errorf("engine = %q, want none", engine)
			}
			p := mustProblem(t, err, problem.ErrEngineNotRunning)
			assertContains(t, "Summary", p.Summary, tt.summary...)
			assertContains(t, "Fix", p.Fix, tt.fix...)
			if strings.Contains(p.Summary, `{"ID"`) {
				t.Errorf("Summary quotes docker's JSON:\n%s", p.Summary)
			}
		})
	}
}

func TestDetectEnginePodmanMachineDown(t *testing.T) {
	replayEngines(t, map[string]cliResult{
		podmanV:    {out: engineFixture(t, "podman-version.txt")},
		podmanInfo: {out: engineFixture(t, "podman-info-machine-down.txt"), err: fmt.Errorf("exit status 125")},
	})
	_, err := Detect(context.Background(), "")
	p := mustProblem(t, err, problem.ErrEngineNotRunning)
	assertContains(t, "Summary", p.Summary, "Podman is installed", "Cannot connect to Podman.")
	assertContains(t, "Fix", p.Fix, "podman machine start", "podman machine init", "--provider sim")
}

func TestDetectEngineFindsRunningEngine(t *testing.T) {
	dockerVersion := engineFixture(t, "docker-version.txt")
	podmanVersion := engineFixture(t, "podman-version.txt")
	tests := []struct {
		name    string
		results map[string]cliResult
		want    string
	}{
		{"docker", map[string]cliResult{
			dockerV: {out: dockerVersion}, dockerInfo: {out: `{"ServerVersion":"28.2.2"}`},
			podmanV: {out: podmanVersion}, podmanInfo: {out: `{}`},
		}, Docker},
		{"podman when docker is down", map[string]cliResult{
			dockerV: {out: dockerVersion}, dockerInfo: {out: engineFixture(t, "docker-info-json-daemon-down.txt"), err: errExit1},
			podmanV: {out: podmanVersion}, podmanInfo: {out: `{}`},
		}, Podman},
		{"podman when docker is podman's shim", map[string]cliResult{
			dockerV: {out: engineFixture(t, "docker-version-podman-shim.txt")},
			podmanV: {out: podmanVersion}, podmanInfo: {out: `{}`},
		}, Podman},
		{"nerdctl", map[string]cliResult{
			"nerdctl -v": {out: "nerdctl version 2.0.3\n"}, "nerdctl info --format {{json .}}": {out: `{}`},
		}, Nerdctl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := replayEngines(t, tt.results)
			got, err := Detect(context.Background(), "")
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
			for _, c := range *calls {
				if c == dockerInfo && tt.name == "podman when docker is podman's shim" {
					t.Errorf("asked the podman shim for docker info")
				}
			}
		})
	}
}

func TestDetectEngineTimeout(t *testing.T) {
	replayEngines(t, map[string]cliResult{
		dockerV: {out: engineFixture(t, "docker-version.txt")},
		// What a context-killed command reports when the engine never
		// answers.
		dockerInfo: {err: fmt.Errorf("signal: killed: %w", context.DeadlineExceeded)},
	})
	_, err := Detect(context.Background(), "")
	p := mustProblem(t, err, problem.ErrEngineNotRunning)
	assertContains(t, "Summary", p.Summary, "did not answer within 5s")
	assertContains(t, "Fix", p.Fix, "starting", "--provider sim")
}

func TestDetectEngineCancelled(t *testing.T) {
	replayEngines(t, map[string]cliResult{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Detect(ctx, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestDetectEngineRealDocker runs this machine's docker CLI (or a stand-in
// where there is none) against an engine that is down: Detect must
// come back, quickly, with the engine-not-running Problem rather than hang
// or fall through.
func TestDetectEngineRealDocker(t *testing.T) {
	enginetest.DockerDown(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	engine, err := Detect(ctx, os.Getenv(Env))
	if err == nil {
		t.Fatalf("Detect = %q with Docker's engine down", engine)
	}
	p := mustProblem(t, err, problem.ErrEngineNotRunning)
	t.Logf("Summary: %s\nFix: %s", p.Summary, p.Fix)
	assertContains(t, "Summary", p.Summary, "Docker is installed", "not running")
	assertContains(t, "Fix", p.Fix, "docker info", "--provider sim")
}

// With an engine named (Env), only that one is asked, even when
// another would answer.
func TestDetectEngineOnlyTheOneNamed(t *testing.T) {
	dockerUp := map[string]cliResult{
		dockerV: {out: engineFixture(t, "docker-version.txt")}, dockerInfo: {out: `{"ServerVersion":"28.2.2"}`},
	}
	calls := replayEngines(t, dockerUp)
	engine, err := Detect(context.Background(), Podman)
	p := mustProblem(t, err, problem.ErrNoEngine)
	assertContains(t, "Summary", p.Summary, "set to use podman", "`podman` is not on your PATH")
	if engine != "" || slices.Contains(*calls, dockerInfo) {
		t.Errorf("engine = %q, calls %q: Docker was used though podman was named", engine, *calls)
	}

	replayEngines(t, map[string]cliResult{
		dockerV: {out: engineFixture(t, "docker-version.txt")}, dockerInfo: {out: `{"ServerVersion":"28.2.2"}`},
		podmanV: {out: engineFixture(t, "podman-version.txt")}, podmanInfo: {out: `{}`},
	})
	if engine, err := Detect(context.Background(), Podman); engine != Podman || err != nil {
		t.Errorf("Detect(podman) = %q, %v", engine, err)
	}

	_, err = Detect(context.Background(), "lxc")
	p = mustProblem(t, err, nil)
	assertContains(t, "Summary", p.Summary, Env+"=lxc")
	assertContains(t, "Fix", p.Fix, "docker, podman or nerdctl", "unset it")
}

// Podman, with no daemon, gets longer: its info opened its storage in over
// 5 s on the loaded build machine, and k8slab said Podman did not answer.
func TestDetectEnginePodmanTimeoutIsLonger(t *testing.T) {
	replayEngines(t, map[string]cliResult{
		podmanV:    {out: engineFixture(t, "podman-version.txt")},
		podmanInfo: {err: fmt.Errorf("signal: killed: %w", context.DeadlineExceeded)},
	})
	_, err := Detect(context.Background(), Podman)
	p := mustProblem(t, err, problem.ErrEngineNotRunning)
	assertContains(t, "Summary", p.Summary, "Podman did not answer within 1m0s")
}
