package console

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
)

// In a log, every step is a line when it starts and one when it ends, and
// a warning is a line of its own: nothing is overwritten.
func TestStepsInALog(t *testing.T) {
	var b bytes.Buffer
	p := NewSteps(&b)
	p.Step(clusterctl.Step{Name: "Creating nodes", State: clusterctl.StepStarted})
	p.Update("Creating nodes: 2 of 3")
	p.Step(clusterctl.Step{Name: "node image pull is slow", State: clusterctl.StepWarning})
	p.Step(clusterctl.Step{Name: "Creating nodes", State: clusterctl.StepDone, Elapsed: 1500 * time.Millisecond})
	p.Step(clusterctl.Step{Name: "Starting the control plane", State: clusterctl.StepStarted})
	p.Step(clusterctl.Step{Name: "Starting the control plane", State: clusterctl.StepFailed, Elapsed: 250 * time.Millisecond})
	p.Stop()
	p.Stop()
	want := "• Creating nodes ...\n" +
		"  ! node image pull is slow\n" +
		"  ✓ Creating nodes (1.5s)\n" +
		"• Starting the control plane ...\n" +
		"  ✗ Starting the control plane (0.2s)\n"
	if b.String() != want {
		t.Errorf("steps:\n%s\nwant:\n%s", b.String(), want)
	}
	if strings.Contains(b.String(), "\r") || strings.Contains(b.String(), "\x1b") {
		t.Errorf("terminal control in a log: %q", b.String())
	}
}

func TestRunMarksTheStepByItsError(t *testing.T) {
	var b bytes.Buffer
	if err := Run(&b, "Applying the setup", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := Run(&b, "Deleting the namespace", func() error { return boom }); err != boom {
		t.Errorf("Run returned %v, want the step's own error", err)
	}
	out := b.String()
	for _, want := range []string{"• Applying the setup ...\n  ✓ Applying the setup (", "• Deleting the namespace ...\n  ✗ Deleting the namespace ("} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteStatus(t *testing.T) {
	nodes := []clusterctl.NodeStatus{{Name: "k8slab-control-plane", Ready: true, Roles: []string{"control-plane"}}, {Name: "k8slab-worker", Ready: false}}
	for _, tc := range []struct {
		name   string
		st     clusterctl.Status
		health *clusterctl.ClusterHealth
		want   []string
		not    []string
	}{{
		name: "not created",
		st:   clusterctl.Status{Name: "k8slab", Provider: "sim"},
		want: []string{"Cluster:    k8slab\nProvider:   sim\nState:      not created; run 'k8slab cluster up'\n"},
		not:  []string{"Kubeconfig", "NODE"},
	}, {
		name: "running",
		st:   clusterctl.Status{Name: "k8slab", Provider: "kind", Exists: true, Reachable: true, Version: "v1.37.2", Nodes: nodes},
		want: []string{"Kubeconfig: /kc\n", "State:      running, Kubernetes v1.37.2, 1 of 2 nodes ready\n",
			"NODE                  READY  ROLES\nk8slab-control-plane  true   control-plane\nk8slab-worker         false  <none>\n"},
		not: []string{"COMPONENT", "Supervisor"},
	}, {
		name: "unreachable",
		st:   clusterctl.Status{Name: "k8slab", Provider: "kind", Exists: true, Err: errors.New("connection refused")},
		want: []string{"State:      not reachable: connection refused\n"},
		not:  []string{"NODE"},
	}, {
		name: "degraded",
		st:   clusterctl.Status{Name: "k8slab", Provider: "sim", Exists: true, Reachable: true, Version: "v1.37.2", Nodes: nodes},
		health: &clusterctl.ClusterHealth{State: clusterctl.HealthDegraded, Supervised: true, Components: []clusterctl.ComponentHealth{
			{Name: "etcd", PID: 41, Running: true, Healthy: true},
			{Name: "kube-scheduler", Detail: "not running"},
		}},
		want: []string{"State:      degraded: kube-scheduler is down, restarting\n", "Supervisor: running; it restarts components that exit\n",
			"COMPONENT       PID  HEALTH\netcd            41   healthy\nkube-scheduler  -    not running\n", "k8slab-worker"},
	}, {
		name:   "stopped",
		st:     clusterctl.Status{Name: "k8slab", Provider: "sim", Exists: true},
		health: &clusterctl.ClusterHealth{State: clusterctl.HealthStopped},
		want:   []string{"State:      stopped: run 'k8slab cluster up'\n"},
		not:    []string{"COMPONENT", "NODE"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteStatus(&b, "/kc", tc.st, tc.health)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("has %q:\n%s", n, b.String())
				}
			}
		})
	}
}

// Declining (or just pressing enter) builds nothing and says how to build
// later; the offer names what would be built and where.
func TestOfferSimBuildDeclined(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	for _, answer := range []string{"n\n", "\n", "maybe\n", ""} {
		var out bytes.Buffer
		dir := t.TempDir()
		err := OfferSimBuild(context.Background(), strings.NewReader(answer), &out, dir, false)
		if err != ErrNotBuilt {
			t.Errorf("answer %q: err = %v, want ErrNotBuilt", answer, err)
		}
		flat := strings.Join(strings.Fields(out.String()), " ")
		for _, want := range []string{"kube-apiserver", dir, "Go module proxy", "Build them now? [y/N]"} {
			if !strings.Contains(flat, want) {
				t.Errorf("offer lacks %q:\n%s", want, out.String())
			}
		}
	}
}

func TestWrapWordsKeepsNamesWhole(t *testing.T) {
	got := wrapWords("needs etcd, kube-apiserver, kube-controller-manager, kube-scheduler", 30)
	want := "needs etcd, kube-apiserver,\nkube-controller-manager,\nkube-scheduler"
	if got != want {
		t.Errorf("wrapWords = %q, want %q", got, want)
	}
}
