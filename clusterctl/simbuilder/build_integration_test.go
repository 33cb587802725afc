package simbuilder

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
)

// TestBuildKwokctl builds the smallest binary from the embedded module, as a
// learner's 'k8slab cluster up' would. It needs the Go build cache that
// 'make sim' warmed (same modules, same flags); with a cold cache it would
// take minutes, so it is skipped then.
func TestBuildKwokctl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	goCmd, err := GoCommand()
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	if !clusterctl.HasSimBinaries(clusterctl.SimBinDir()) {
		t.Skipf("skipped: no simulator binaries in %s, so Go's build cache is probably cold; 'make sim' warms it", clusterctl.SimBinDir())
	}
	out := t.TempDir()
	var events []Event
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err = Build(ctx, Options{OutDir: out, Only: []string{"kwokctl"}, Go: goCmd, Progress: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(out, "kwokctl")
	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("kwokctl --version: %v\n%s", err, v)
	}
	// The version comes from build.sh's linker flags; without them it
	// would be kwok's placeholder.
	if !strings.HasPrefix(string(v), "kwokctl version v0.8.0 ") {
		t.Errorf("kwokctl --version = %q; want kwok v0.8.0", v)
	}
	if len(events) == 0 || !events[len(events)-1].Done || events[len(events)-1].Binary != "kwokctl" {
		t.Errorf("progress events end with %+v", events[len(events)-1:])
	}
	// Only part of the set was built: no stamp claims the rest.
	if _, err := os.Stat(filepath.Join(out, ".simbuild-stamp")); err == nil {
		t.Error("a partial build wrote build.sh's stamp")
	}
	left, _ := filepath.Glob(filepath.Join(out, ".build.*"))
	if len(left) > 0 {
		t.Errorf("temporary build folders left: %v", left)
	}
}
