package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/console"
)

// noSimBinaries points k8slab at an empty binary folder, as on the machine
// of a learner who installed with 'go install'.
func noSimBinaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	t.Setenv("K8SLAB_SIM_BIN", bin)
	// Go's build cache defaults to $XDG_CACHE_HOME/go-build: keep the warm
	// one, or a build takes a quarter of an hour.
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		t.Setenv("GOCACHE", strings.TrimSpace(string(out)))
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return bin
}

func binaries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestClusterUpAsksBeforeBuildingSimulator(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	bin := noSimBinaries(t)
	out, err := run(t, "n\n", "--state-dir", t.TempDir(), "cluster", "up", "--provider", "sim")
	if err != console.ErrNotBuilt {
		t.Fatalf("answering n: err = %v\n%s", err, out)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"kube-apiserver", bin, "minutes on this machine's", "Go module proxy", "Build them now? [y/N]"} {
		if !strings.Contains(flat, want) {
			t.Errorf("offer lacks %q:\n%s", want, out)
		}
	}
	if names := binaries(t, bin); len(names) != 0 {
		t.Errorf("declined, yet %v appeared in %s", names, bin)
	}
}

// Without a terminal to ask in and without --build-sim, a long build never
// starts by surprise.
func TestClusterUpWithoutTerminalRefusesToBuild(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	bin := noSimBinaries(t)
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(devNull, &out, &errOut)
	cmd.SetArgs([]string{"--state-dir", t.TempDir(), "cluster", "up", "--provider", "sim"})
	err = cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "pass --build-sim") {
		t.Fatalf("no terminal: err = %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "[y/N]") {
		t.Errorf("asked with no terminal to answer:\n%s", out.String())
	}
	if names := binaries(t, bin); len(names) != 0 {
		t.Errorf("%v appeared in %s", names, bin)
	}
}

func TestClusterUpWithoutGoSaysWhatToDo(t *testing.T) {
	noSimBinaries(t)
	t.Setenv("PATH", t.TempDir())
	_, err := run(t, "y\n", "--state-dir", t.TempDir(), "cluster", "up", "--provider", "sim", "--build-sim")
	if err == nil || !strings.Contains(err.Error(), "install Go from https://go.dev/dl") || !strings.Contains(err.Error(), "Docker or Podman") {
		t.Errorf("without go: %v", err)
	}
}

// The whole path a 'go install' learner takes: --build-sim builds the six
// binaries from the embedded module, then the cluster comes up on them. It
// relies on the Go build cache 'make sim' warmed (then it takes about half a
// minute on two cores); with a cold cache it would take a quarter of an hour.
func TestClusterUpBuildsSimulatorThenStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the simulator; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	if !clusterctl.HasSimBinaries(clusterctl.SimBinDir()) {
		t.Skipf("no simulator binaries in %s, so Go's build cache is probably cold; 'make sim' warms it", clusterctl.SimBinDir())
	}
	bin := noSimBinaries(t)
	state := t.TempDir()
	t.Cleanup(func() {
		run(t, "", "--state-dir", state, "cluster", "down", "--provider", "sim", "--name", "k8slab-build")
	})
	out, err := run(t, "", "--state-dir", state, "cluster", "up", "--provider", "sim", "--build-sim", "--instant", "--name", "k8slab-build")
	if err != nil {
		t.Fatalf("up --build-sim: %v\n%s", err, out)
	}
	for _, want := range []string{"✓ Built kube-apiserver (2 of 6", "✓ Built kwokctl (6 of 6", "The simulator's binaries are in " + bin, `Cluster "k8slab-build" is ready.`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[y/N]") {
		t.Error("--build-sim still asked")
	}
	if !clusterctl.HasSimBinaries(bin) {
		t.Errorf("binaries missing in %s: %v", bin, binaries(t, bin))
	}
	if _, err := os.Stat(filepath.Join(bin, ".simbuild-stamp")); err != nil {
		t.Errorf("no build.sh stamp, so 'make sim' would build again: %v", err)
	}
}
