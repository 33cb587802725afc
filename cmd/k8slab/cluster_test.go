package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/clusterctl/enginetest"
)

// Each test sets up the engine it is about: CI runs on a machine where
// Podman answers, for the kind tests.
func TestClusterUpKindExplainsMissingEngine(t *testing.T) {
	enginetest.DockerDown(t)
	start := time.Now()
	out, err := run(t, "", "--state-dir", t.TempDir(), "cluster", "up", "--provider", "kind")
	if err == nil {
		t.Fatalf("kind up without an engine succeeded: %s", out)
	}
	msg := err.Error()
	for _, want := range []string{"not running", "what to do:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "exit status 1") && !strings.Contains(msg, "Docker") {
		t.Errorf("error is kind's bare exit status, not an explanation: %s", msg)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v to notice the engine is down", d)
	}
}

// With no engine, auto falls back to the simulator and says why; the cluster
// it makes is then torn down again.
func TestClusterUpAutoFallsBackToSim(t *testing.T) {
	enginetest.DockerDown(t)
	t.Setenv("K8SLAB_SIM_BIN", clustertest.BinDir(t))
	state := t.TempDir()
	t.Cleanup(func() { run(t, "", "--state-dir", state, "cluster", "down") })
	out, err := run(t, "", "--state-dir", state, "cluster", "up", "--instant", "--name", "k8slab-cli")
	if err != nil {
		t.Fatalf("auto up: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Using a simulated cluster, because no container engine answered") || !strings.Contains(out, `Cluster "k8slab-cli" is ready.`) {
		t.Errorf("auto up output:\n%s", out)
	}
	if !strings.Contains(out, "✓ Waiting for 3 nodes to be Ready") {
		t.Errorf("no plain progress lines:\n%s", out)
	}

	out, err = run(t, "", "--state-dir", state, "cluster", "up", "--name", "k8slab-cli")
	if err != nil || !strings.Contains(out, "already running") {
		t.Errorf("second up: %v\n%s", err, out)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "env", "--name", "k8slab-cli")
	want := "export KUBECONFIG=" + filepath.Join(state, "clusters", "sim-k8slab-cli.kubeconfig") + "\n"
	if err != nil || out != want {
		t.Errorf("env = %q, %v; want %q", out, err, want)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "status", "--name", "k8slab-cli")
	if err != nil || !strings.Contains(out, "3 of 3 nodes ready") || !strings.Contains(out, "k8slab-cli-worker2") {
		t.Errorf("status: %v\n%s", err, out)
	}
	// Without --name, env, kubeconfig and status find the cluster 'up
	// --name' made, as the TUI and 'check' do, and up's last line says a
	// command that works as printed.
	t.Setenv("KUBECONFIG", "")
	out, err = run(t, "", "--state-dir", state, "cluster", "env")
	if err != nil || out != want {
		t.Errorf("env without --name = %q, %v; want %q", out, err, want)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "status")
	if err != nil || !strings.Contains(out, "Cluster:    k8slab-cli\nProvider:   sim\n") || !strings.Contains(out, "3 of 3 nodes ready") {
		t.Errorf("status without --name: %v\n%s", err, out)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "up", "--name", "k8slab-cli")
	if err != nil || !strings.Contains(out, `eval "$(k8slab cluster env --name k8slab-cli)"`) {
		t.Errorf("up does not print the env command with --name: %v\n%s", err, out)
	}
	// A lab shell's kubeconfig (the TUI's 't') points at the cluster;
	// down removes it with the cluster.
	shellKC := filepath.Join(state, "labs", "lab-deployments.kubeconfig")
	if err := os.MkdirAll(filepath.Dir(shellKC), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := clusterctl.WriteNamespacedKubeconfig(strings.TrimSpace(strings.TrimPrefix(want, "export KUBECONFIG=")), "", "lab-deployments", shellKC); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "down", "--name", "k8slab-cli")
	if err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if _, serr := os.Stat(shellKC); serr == nil || !strings.Contains(out, "Removed the kubeconfigs of 1 lab shell that pointed at it.") {
		t.Errorf("down left the lab shell's kubeconfig (%v):\n%s", serr, out)
	}
	out, err = run(t, "", "--state-dir", state, "cluster", "status", "--name", "k8slab-cli", "--provider", clusterctl.Sim)
	if code, ok := err.(exitCode); !ok || code != 1 || !strings.Contains(out, "not created") {
		t.Errorf("status after down = %v\n%s", err, out)
	}
}

func TestClusterEnvWithoutClusterSaysWhatToDo(t *testing.T) {
	_, err := run(t, "", "--state-dir", t.TempDir(), "cluster", "env", "--provider", "sim")
	if err == nil || !strings.Contains(err.Error(), "k8slab cluster up") {
		t.Errorf("env without a cluster: %v", err)
	}
}

// A workshop learner's terminal command (the lab screen prints it with the
// learner's --kubeconfig) points kubectl at the learner's own lab
// namespace, not the lab's default one; -n names another.
func TestClusterEnvLabUsesTheLearnersNamespace(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "ada.kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: ws
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: ws-ada
  context:
    cluster: ws
    user: ada
    namespace: ws-ada
    extensions:
    - name: k8slab.dev/workshop
      extension: {workshop: ws, learner: ada}
current-context: ws-ada
users:
- name: ada
  user: {token: x}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--kubeconfig", kc, "cluster", "env", "--lab", "pods"}, "ws-ada-pods"},
		{[]string{"cluster", "env", "--kubeconfig", kc, "--lab", "pods", "-n", "mine"}, "mine"},
	} {
		out, err := run(t, "", append([]string{"--state-dir", state}, c.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, out)
		}
		path := strings.TrimSpace(strings.TrimPrefix(out, "export KUBECONFIG="))
		data, err := os.ReadFile(strings.Trim(path, "'"))
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !strings.Contains(string(data), "namespace: "+c.want+"\n") {
			t.Errorf("%v: the lab kubeconfig's namespace is not %s:\n%s", c.args, c.want, data)
		}
	}
}
