package sim

import (
	"path/filepath"
	"strings"
	"testing"
)

// 'cluster up --provider sim --nodes 6 --node-cpu 16' makes a control
// plane and five workers of 16 CPUs, named as kind names them, and the
// cluster keeps that layout (a repair after a reboot adds back the same
// nodes). Before, the simulator always had three 4-CPU nodes.
func TestSimNodesSizeTheCluster(t *testing.T) {
	dir := t.TempDir()
	opts := func(name string) Options {
		return Options{Name: name, KubeconfigPath: filepath.Join(dir, name+".kubeconfig"), WorkDir: filepath.Join(dir, "sim"), CacheDir: dir, BinDir: dir}
	}
	o := opts("class")
	o.Nodes = Nodes{Count: 6, CPU: "16", Memory: "32Gi", Pods: 250}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	names := s.nodeNames()
	if len(names) != 6 || names[0] != "class-control-plane" || names[1] != "class-worker" || names[5] != "class-worker5" {
		t.Errorf("nodes: %v", names)
	}
	n := s.fakeNode(names[1], false, 1)
	if cpu := n.Status.Allocatable.Cpu(); cpu.Value() != 16 {
		t.Errorf("a worker has %v CPUs", cpu)
	}
	if pods := n.Status.Allocatable.Pods(); pods.Value() != 250 {
		t.Errorf("a worker takes %v pods", pods)
	}
	if len(s.fakeNode(names[0], true, 0).Spec.Taints) != 1 {
		t.Error("the control plane is not tainted")
	}
	if _, err := s.writeConfig(); err != nil {
		t.Fatal(err)
	}
	// Later commands (a repair, 'cluster status') give no sizes.
	again, err := New(opts("class"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(again.nodeNames()); got != 6 {
		t.Errorf("the cluster forgot its layout: %d nodes", got)
	}
	def, _ := New(opts("other"))
	if got := def.nodeNames(); len(got) != 3 || got[2] != "other-worker2" {
		t.Errorf("default nodes: %v", got)
	}
}

func TestSimNodesRefuseBadSizes(t *testing.T) {
	for _, tc := range []struct {
		n    Nodes
		want string
	}{
		{Nodes{Count: 1}, "at least one worker"},
		{Nodes{CPU: "lots"}, "--node-cpu"},
		{Nodes{Memory: "-1Gi"}, "--node-memory"},
	} {
		dir := t.TempDir()
		_, err := New(Options{Name: "x", WorkDir: filepath.Join(dir, "sim"), CacheDir: dir, Nodes: tc.n})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.n, err, tc.want)
		}
	}
}
