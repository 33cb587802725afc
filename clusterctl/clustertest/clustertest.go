// Package clustertest starts simulated clusters for tests, so that checks
// and commands are tested against a real API server rather than fakes.
package clustertest

import (
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
)

// BinDir returns the simulator's binaries, skipping the test when they are
// missing, except in CI (CI=true), where that is a failure: .ci/run builds
// them, and integration tests must not vanish silently.
func BinDir(t testing.TB) string {
	t.Helper()
	dir := clusterctl.SimBinDir()
	if !clusterctl.HasSimBinaries(dir) {
		if os.Getenv("CI") != "" {
			t.Fatalf("simulator binaries missing in %s; 'make test' builds them with 'make sim'", dir)
		}
		t.Skipf("simulator binaries not in %s; run 'make sim'", dir)
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	return dir
}

// UpTimeout turns a simulated cluster that never comes up into a failure.
// It is generous on purpose: make test starts several clusters at once on
// two cores, and three minutes ran out there while three other packages
// ran theirs.
const UpTimeout = 8 * time.Minute

// Start creates a simulated cluster with instant pods, recorded in a fresh
// state folder, and deletes it when the test ends.
func Start(t testing.TB, name string) (p clusterctl.Provider, state string) {
	t.Helper()
	bin := BinDir(t)
	state = t.TempDir()
	p, err := clusterctl.NewSim(clusterctl.Config{Name: name, StateDir: state, CacheDir: state, SimBinDir: bin, SimInstant: true})
	if err != nil {
		t.Fatal(err)
	}
	records := clusterctl.NewRecords(state)
	t.Cleanup(func() { _ = clusterctl.Down(context.Background(), p, records, nil) })
	ctx, cancel := context.WithTimeout(context.Background(), UpTimeout)
	defer cancel()
	if err := clusterctl.Up(ctx, p, records, nil); err != nil {
		t.Fatalf("starting a simulated cluster: %v", err)
	}
	// No supervisor runs here, so the test runs the cluster's controller;
	// cleanups run last first, so it stops before the cluster goes.
	kctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = clusterctl.RunSimKubelet(kctx, p, io.Discard)
	}()
	t.Cleanup(func() { stop(); <-done })
	return p, state
}
