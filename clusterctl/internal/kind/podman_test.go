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

// TestNetworkHasDNS reads `podman network inspect kind` as Podman 4.3
// prints it on its CNI back end: a network made before the dnsname plugin
// was installed says dns_enabled false, and its worker nodes never joined
// (kubeadm join timed out resolving k8slab-control-plane).
func TestNetworkHasDNS(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{`[{"name": "kind", "driver": "bridge", "dns_enabled": true}]`, true, false},
		{`[{"name": "kind", "driver": "bridge", "dns_enabled": false}]`, false, false},
		{`[{"name": "kind", "driver": "bridge"}]`, false, false},
		{`[]`, false, true},
		{`not json`, false, true},
	} {
		got, err := networkHasDNS([]byte(tc.in))
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("networkHasDNS(%s) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDNSNameInstalled(t *testing.T) {
	has := func(paths ...string) func(string) bool {
		return func(p string) bool { return slices.Contains(paths, p) }
	}
	if !dnsnameInstalled(cniPluginDirs, has("/usr/lib/cni/dnsname")) {
		t.Error("Debian's /usr/lib/cni/dnsname not found")
	}
	if dnsnameInstalled(cniPluginDirs, has("/usr/lib/cni/bridge", "/opt/cni/bin/host-local")) {
		t.Error("found dnsname where there are only other plugins")
	}
	if p := noDNSPluginProblem(); !strings.Contains(p.Fix, "golang-github-containernetworking-plugin-dnsname") {
		t.Errorf("the fix does not name Debian's package: %s", p.Fix)
	}
}
