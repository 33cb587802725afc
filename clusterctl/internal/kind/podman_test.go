package kind

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNodeNames(t *testing.T) {
	got := nodeNames(config(Options{Name: "lab"}))
	want := []string{"lab-control-plane", "lab-worker", "lab-worker2"}
	if !slices.Equal(got, want) {
		t.Errorf("nodeNames = %q, want %q", got, want)
	}
}

// TestRemoveLeftoverVolumes runs this machine's Podman (CI installs it for
// the kind tests): the volumes kind labels with this cluster's node names
// go, and a volume of another cluster whose name shares the prefix stays.
// About a dozen podman commands: 10-17 s on the loaded build machine.
func TestRemoveLeftoverVolumes(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("no podman on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "k8slabvoltest"
	create := func(label string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, "podman", "volume", "create", "--label", label+"=true").Output()
		if err != nil {
			t.Skipf("podman cannot create volumes here: %v", err)
		}
		vol := strings.TrimSpace(string(out))
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = exec.CommandContext(cctx, "podman", "volume", "rm", "--force", vol).Run()
		})
		return vol
	}
	ours := []string{create(name + "-control-plane"), create(name + "-worker2")}
	other := create(name + "x-control-plane")

	if err := removeLeftoverVolumes(ctx, config(Options{Name: name})); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "podman", "volume", "ls", "--quiet").Output()
	if err != nil {
		t.Fatal(err)
	}
	left := strings.Fields(string(out))
	for _, v := range ours {
		if slices.Contains(left, v) {
			t.Errorf("volume %s of cluster %s was left", v, name)
		}
	}
	if !slices.Contains(left, other) {
		t.Errorf("volume %s of another cluster was removed", other)
	}
}
