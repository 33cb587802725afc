package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs the real k8slab binary in a detached tmux session, so the
// test reads the screen as a learner sees it.
type tmuxSession struct {
	t      *testing.T
	name   string
	socket string
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "k8slab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startTmux(t *testing.T, env []string, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is missing")
		}
		t.Skip("tmux not installed")
	}
	s := &tmuxSession{t: t, name: "k8slab-test", socket: filepath.Join(t.TempDir(), "tmux.sock")}
	args := []string{"-S", s.socket, "new-session", "-d", "-s", s.name, "-x", "100", "-y", "30"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, command)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "-S", s.socket, "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	args := append([]string{"-S", s.socket, "send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v\n%s", err, out)
	}
}

func (s *tmuxSession) waitFor(text string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(s.screen(), text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q:\n%s", text, s.screen())
}

// TestLabScreenLive opens a lab in the real binary on a simulated cluster:
// a kubectl command run in the background flips a task with no key pressed,
// then the shell hand-off runs kubectl in the lab namespace and returns.
func TestLabScreenLive(t *testing.T) {
	state, kubeconfig := simCluster(t)
	bin := buildBinary(t)
	env := []string{"XDG_STATE_HOME=" + filepath.Dir(state), "SHELL=/bin/sh", "TERM=xterm-256color", "KUBECONFIG="}
	s := startTmux(t, env, fmt.Sprintf("%s --state-dir %s lab open deployments", bin, state))
	s.waitFor("0 of 4 tasks done", 30*time.Second)

	// In "another terminal": the learner creates the deployment.
	kubectl := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", "lab-deployments", "create", "deployment", "web", "--image=nginx:1.27", "--replicas=3")
	if out, err := kubectl.CombinedOutput(); err != nil {
		t.Fatalf("kubectl: %v\n%s", err, out)
	}
	s.waitFor("1 of 4 tasks done", 30*time.Second)

	// The shell hand-off: kubectl without -n lands in the lab namespace.
	s.keys("t")
	s.waitFor("Type exit to return", 10*time.Second)
	s.keys("kubectl scale deployment web --replicas=5 2>/dev/null; exit", "Enter")
	s.waitFor("2 of 4 tasks done", 30*time.Second)
	if !strings.Contains(s.screen(), "✓ Scale to 5 replicas") {
		t.Errorf("scale task not passing after the shell:\n%s", s.screen())
	}
	s.keys("q")
}
