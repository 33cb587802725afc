package clusterctl

import (
	"context"
	"errors"
	"io"
	"path/filepath"

	"github.com/k8slab/k8slab/clusterctl/internal/sim"
)

// SimKubeVersion is the Kubernetes version of the simulator binaries that
// 'make sim' builds; the cache folder is named after it.
const SimKubeVersion = sim.KubeVersion

// SimNodes is a simulated cluster's node layout: how many nodes (the
// control plane, tainted as kind's is, and workers) and what each
// reports. Zero values are the defaults: three nodes, each a kind node on
// a modest laptop (kind nodes see the host's CPUs and memory).
type SimNodes = sim.Nodes

// Defaults of SimNodes.
const (
	DefaultSimNodes  = sim.DefaultCount
	DefaultSimCPU    = sim.DefaultCPU
	DefaultSimMemory = sim.DefaultMemory
	DefaultSimPods   = sim.DefaultPods
)

// HealthState sums up a cluster's components.
type HealthState = sim.State

const (
	// HealthNotCreated: there is no such cluster.
	HealthNotCreated = sim.HealthNotCreated
	// HealthStopped: the cluster exists but none of its processes runs
	// (after a reboot, say); 'cluster up' starts it with its data.
	HealthStopped = sim.HealthStopped
	// HealthDegraded: some component is down or does not answer.
	HealthDegraded = sim.HealthDegraded
	// HealthHealthy: every component runs and answers its health check.
	HealthHealthy = sim.HealthHealthy
)

// ComponentHealth is one process of a simulated cluster.
type ComponentHealth = sim.ComponentHealth

// ClusterHealth is the health of every component of a cluster.
type ClusterHealth = sim.Health

// HealthReporter is implemented by providers that run a cluster's
// components themselves (the simulator) and so can tell how each one is.
type HealthReporter interface {
	Health(ctx context.Context) (ClusterHealth, error)
}

// NewSim prepares a simulated cluster provider: kwokctl runs a real etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler as local
// processes, and kwok plays the kubelets of fake nodes. Binaries are
// looked up in c.SimBinDir, then the cache ($XDG_CACHE_HOME/k8slab/sim/
// <version>), and kwokctl on PATH, which then downloads the official
// releases. The provider lives in clusterctl/internal/sim; this is its
// only front.
func NewSim(c Config) (Provider, error) {
	c.defaults()
	s, err := sim.New(sim.Options{
		Name:           c.Name,
		KubeconfigPath: c.KubeconfigFor(Sim),
		WorkDir:        filepath.Join(c.StateDir, "sim"),
		BinDir:         c.SimBinDir,
		CacheDir:       c.CacheDir,
		Instant:        c.SimInstant,
		Course:         c.SimCourse,
		Supervisor:     c.Supervisor,
		Nodes:          c.SimNodes,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ErrNotSimulated is returned by Supervise for a provider other than the
// simulator: kind's kubelet restarts its own control plane.
var ErrNotSimulated = errors.New("only simulated clusters are supervised")

// Supervise watches the simulated cluster behind p until ctx ends or the
// cluster is deleted, and restarts every component that exits, with
// back-off. It returns at once, without error, when another supervisor is
// already watching the cluster. 'k8slab cluster supervise' runs it in a
// detached process; tests may run it in-process. Progress goes to log.
func Supervise(ctx context.Context, p Provider, log io.Writer) error {
	s, ok := p.(*sim.Cluster)
	if !ok {
		return ErrNotSimulated
	}
	return s.Supervise(ctx, log)
}

// RunSimKubelet runs the simulated cluster's controller (simkubelet:
// CreateContainerConfigError, logs per image) until ctx ends. The
// supervisor runs it; tests that start a cluster without a supervisor run
// it themselves, or pods whose environment names a ConfigMap or Secret
// never start.
func RunSimKubelet(ctx context.Context, p Provider, log io.Writer) error {
	s, ok := p.(*sim.Cluster)
	if !ok {
		return ErrNotSimulated
	}
	return s.RunKubelet(ctx, log)
}

// Revive brings back a simulated cluster whose processes are gone (after
// a reboot) or down with no supervisor to restart them, and makes sure its
// supervisor runs; commands that need the cluster call it first. It does
// nothing for other providers, for a cluster that does not exist, or for
// one that a supervisor is already repairing.
func Revive(ctx context.Context, p Provider) error {
	s, ok := p.(*sim.Cluster)
	if !ok {
		return nil
	}
	return s.Revive(ctx)
}

// DefaultCacheDir is $XDG_CACHE_HOME/k8slab, falling back to
// ~/.cache/k8slab.
func DefaultCacheDir() (string, error) { return sim.DefaultCacheDir() }

// SimBinDir is where the simulator's binaries are looked for first:
// $K8SLAB_SIM_BIN, else the cache that 'make sim' fills.
func SimBinDir() string { return sim.DefaultBinDir() }

// HasSimBinaries reports whether dir holds every simulator binary.
func HasSimBinaries(dir string) bool { return sim.HasBinaries(dir) }
