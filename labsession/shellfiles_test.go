package labsession

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
)

// After 'cluster down' no lab shell's kubeconfig points at the deleted
// cluster; those for another cluster stay, and so does the bashrc they use.
func TestForgetShellFilesOfADeletedCluster(t *testing.T) {
	dir := t.TempDir()
	gone := filepath.Join(dir, "gone.kubeconfig")
	other := filepath.Join(dir, "other.kubeconfig")
	if err := os.WriteFile(gone, []byte(shellKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte(strings.Replace(shellKubeconfig, "127.0.0.1:1", "127.0.0.1:2", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHELL", "/bin/bash")
	state := t.TempDir()
	shell := func(kc, ns string) {
		s := New(func() clusterctl.Target { return clusterctl.Target{Kubeconfig: kc, Context: "k8slab"} }, state, Options{})
		if _, err := s.Shell(&labfile.Lab{ID: ns, Title: ns, Namespace: ns}); err != nil {
			t.Fatal(err)
		}
	}
	shell(gone, "lab-a")
	shell(gone, "lab-b")
	shell(other, "lab-c")
	labs := filepath.Join(state, "labs")

	servers := ClusterServers(gone)
	if len(servers) != 1 || servers[0] != "https://127.0.0.1:1" {
		t.Fatalf("servers = %v", servers)
	}
	n, err := ForgetShellFiles(state, servers)
	if err != nil || n != 2 {
		t.Fatalf("forgot %d, %v; want the 2 shells of the deleted cluster", n, err)
	}
	for name, want := range map[string]bool{"lab-a.kubeconfig": false, "lab-b.kubeconfig": false, "lab-c.kubeconfig": true, "bashrc": true} {
		if _, err := os.Stat(filepath.Join(labs, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
	if n, err := ForgetShellFiles(state, ClusterServers(other)); err != nil || n != 1 {
		t.Fatalf("second cluster: %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(labs, "bashrc")); err == nil {
		t.Error("the bashrc stays with no lab shell left")
	}
}
