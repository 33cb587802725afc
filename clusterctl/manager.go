package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Config says which cluster to manage and where k8slab keeps its files.
type Config struct {
	// Provider is auto, kind, sim or existing.
	Provider string
	// Name is the cluster's name; default "k8slab".
	Name string
	// StateDir holds kubeconfigs and the record of created clusters
	// ($XDG_STATE_HOME/k8slab).
	StateDir string
	// CacheDir holds the simulator's binaries ($XDG_CACHE_HOME/k8slab).
	CacheDir string
	// SimBinDir, when set, is where the simulator's binaries are
	// (K8SLAB_SIM_BIN); it takes precedence over CacheDir.
	SimBinDir string
	// SimInstant makes simulated pods start at once; by default they take
	// realistic time, so a learner can watch a rollout.
	SimInstant bool
	// SimCourse is the course folder whose image catalogue decides which
	// images a simulated node can pull; nil, or a folder without one,
	// means the built-in course's.
	SimCourse fs.FS
	// Kubeconfig and Context select an existing cluster.
	Kubeconfig, Context string
	// NodeImage overrides kind's pinned node image.
	NodeImage string
	// SimNodes sizes a simulated cluster when it is created (a class
	// needs more than a learner's three nodes); zero values are defaults.
	SimNodes SimNodes
	// Engine, when set, is the only container engine kind may use
	// (EngineDocker, EnginePodman or EngineNerdctl); empty means the first
	// that runs. The CLI takes it from EngineEnv, as kind does.
	Engine string
	// Supervisor is the command line that runs 'k8slab cluster supervise'
	// for this cluster; a simulated cluster started with it set is watched
	// by that detached process, which restarts components that exit. Empty:
	// no supervisor (library use; tests can call Supervise themselves).
	Supervisor []string
}

// DefaultName is the cluster name k8slab uses unless told otherwise.
const DefaultName = "k8slab"

// Provider names.
const (
	Auto     = "auto"
	Kind     = "kind"
	Sim      = "sim"
	Existing = "existing"
)

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Provider == "" {
		c.Provider = Auto
	}
}

// KubeconfigFor is where k8slab writes the kubeconfig of a cluster it
// creates: its own file, never the learner's ~/.kube/config.
func (c Config) KubeconfigFor(provider string) string {
	return filepath.Join(c.StateDir, "clusters", provider+"-"+c.Name+".kubeconfig")
}

// Select picks the provider for c. With "auto" it uses kind when a container
// engine answers and the simulator otherwise; reason says which and why.
func Select(ctx context.Context, c Config) (p Provider, reason string, err error) {
	c.defaults()
	switch c.Provider {
	case Kind:
		return newKindFor(ctx, c)
	case Sim:
		p, err := NewSim(c)
		return p, "simulated cluster (--provider sim)", err
	case Existing:
		p, err := NewExisting(c.Kubeconfig, c.Context)
		return p, "existing cluster from your kubeconfig", err
	case Auto:
		// An existing record wins, so 'up' then 'status' agree.
		records := NewRecords(c.StateDir)
		for _, name := range []string{Kind, Sim} {
			if _, ok, _ := records.Get(name, c.Name); ok {
				c.Provider = name
				p, _, err := Select(ctx, c)
				return p, fmt.Sprintf("the %s cluster k8slab created earlier", name), err
			}
		}
		engine, engineErr := DetectEngine(ctx, c.Engine)
		if engineErr == nil {
			p, err := NewKind(KindOptions{Name: c.Name, KubeconfigPath: c.KubeconfigFor(Kind), NodeImage: c.NodeImage, Engine: engine})
			return p, fmt.Sprintf("kind, because %s is running", engine), err
		}
		p, err := NewSim(c)
		var why string
		var prob *Problem
		if errors.As(engineErr, &prob) {
			why = prob.Summary
		} else {
			why = engineErr.Error()
		}
		return p, "a simulated cluster, because no container engine answered (" + why + ")", err
	}
	return nil, "", fmt.Errorf("unknown provider %q: use auto, kind, sim or existing", c.Provider)
}

func newKindFor(ctx context.Context, c Config) (Provider, string, error) {
	engine, err := DetectEngine(ctx, c.Engine)
	if err != nil {
		return nil, "", err
	}
	p, err := NewKind(KindOptions{Name: c.Name, KubeconfigPath: c.KubeconfigFor(Kind), NodeImage: c.NodeImage, Engine: engine})
	return p, "kind (--provider kind) on " + engine, err
}

// Up creates the cluster if needed and records it as k8slab's. It is
// idempotent: a running cluster is reported through ErrAlreadyRunning. The
// record is written before creation starts, so that 'down' can clean up a
// creation that was interrupted half-way.
func Up(ctx context.Context, p Provider, records *Records, progress Progress) error {
	if p.Name() == Existing {
		return problemf(nil, "point k8slab at it with --kubeconfig/--context, or use --provider sim or kind to create one",
			"k8slab does not create or change existing clusters")
	}
	_, recorded, err := records.Get(p.Name(), p.ClusterName())
	if err != nil {
		return err
	}
	if !recorded {
		exists, err := p.Exists(ctx)
		if err != nil {
			return err
		}
		if exists {
			return problemf(nil, "pick another name with --name, or use it as an existing cluster with --kubeconfig",
				"a %s cluster named %q already exists and was not created by k8slab", p.Name(), p.ClusterName())
		}
		if err := records.Put(Record{Name: p.ClusterName(), Provider: p.Name(), Kubeconfig: p.KubeconfigPath(), CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
	}
	err = p.Create(ctx, progress)
	if err != nil && !errors.Is(err, ErrAlreadyRunning) {
		// Forget a cluster that the failed attempt did not leave behind.
		if exists, xerr := p.Exists(context.WithoutCancel(ctx)); xerr == nil && !exists {
			_ = records.Remove(p.Name(), p.ClusterName())
		}
	}
	return err
}

// UpOrFallBack is Up for a provider that --provider auto chose. When that
// is kind and kind cannot download its node image (a container engine
// runs, but no registry answers: offline, behind a proxy, a rate limit),
// it removes what the attempt left and brings up the simulated cluster
// sim gives instead, saying why through progress. sim returns nil when
// the simulator's binaries are missing; then the error says how to use
// --provider sim. It returns the provider that was brought up.
func UpOrFallBack(ctx context.Context, p Provider, records *Records, progress Progress, sim func() Provider) (Provider, error) {
	err := Up(ctx, p, records, progress)
	if err == nil || p.Name() != Kind || !errors.Is(err, ErrNodeImagePull) {
		return p, err
	}
	// A node container may have been made before the pull failed.
	_ = Down(context.WithoutCancel(ctx), p, records, nil)
	var sp Provider
	if sim != nil {
		sp = sim()
	}
	if sp == nil {
		var prob *Problem
		if errors.As(err, &prob) && !strings.Contains(prob.Fix, "--provider sim") {
			fix := strings.TrimSuffix(strings.TrimSpace(prob.Fix), ".")
			return p, &Problem{Summary: prob.Summary, Fix: fix + ". Or use --provider sim for a simulated cluster that needs no registry", Err: prob.Err}
		}
		return p, err
	}
	if progress != nil {
		summary := err.Error()
		var prob *Problem
		if errors.As(err, &prob) {
			summary = prob.Summary
		}
		progress(Step{Name: "kind: " + summary + "; making a simulated cluster instead", State: StepWarning})
	}
	return sp, Up(ctx, sp, records, progress)
}

// SimFallback is the simulated cluster UpOrFallBack may bring up instead
// of a kind cluster: only one that --provider auto chose falls back (a
// kind cluster asked for by name fails with kind's explanation), and only
// to a simulator with binaries to run. Nil when c cannot fall back; the
// func returns nil when the simulator cannot start.
func SimFallback(ctx context.Context, c Config) func() Provider {
	c.defaults()
	if c.Provider != Auto {
		return nil
	}
	c.Provider = Sim
	return func() Provider {
		p, _, err := Select(ctx, c)
		if err != nil {
			return nil
		}
		if _, missing := SimBuildDir(c, p); missing {
			return nil
		}
		return p
	}
}

// SimBuildDir says where the simulator's binaries would be built when p is
// the simulator and it has no binaries to run: the folder it looks in
// first (c.SimBinDir, else the cache). With kwokctl on PATH (which
// downloads releases itself) nothing needs building.
func SimBuildDir(c Config, p Provider) (dir string, missing bool) {
	if p.Name() != Sim {
		return "", false
	}
	dir = c.SimBinDir
	if dir == "" {
		dir = filepath.Join(c.CacheDir, "sim", SimKubeVersion)
		if HasSimBinaries(dir) {
			return "", false
		}
		if _, err := exec.LookPath("kwokctl"); err == nil {
			return "", false
		}
	}
	return dir, !HasSimBinaries(dir)
}

// Down deletes a cluster, but only one that k8slab created.
func Down(ctx context.Context, p Provider, records *Records, progress Progress) error {
	if p.Name() == Existing {
		return problemf(nil, "delete it with the tool that made it", "k8slab never deletes clusters it did not create")
	}
	_, ok, err := records.Get(p.Name(), p.ClusterName())
	if err != nil {
		return err
	}
	if !ok {
		exists, _ := p.Exists(ctx)
		if exists {
			return problemf(nil, "delete it with the tool that made it",
				"the %s cluster %q was not created by k8slab, so k8slab will not delete it", p.Name(), p.ClusterName())
		}
		return nil // nothing there: down is idempotent too
	}
	if err := p.Delete(ctx, progress); err != nil {
		return err
	}
	if err := os.Remove(p.KubeconfigPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return records.Remove(p.Name(), p.ClusterName())
}

// StatusOf reports on the cluster behind p.
func StatusOf(ctx context.Context, p Provider, kubeContext string) Status {
	st := Status{Provider: p.Name(), Name: p.ClusterName()}
	exists, err := p.Exists(ctx)
	if err != nil {
		st.Err = err
		return st
	}
	st.Exists = exists
	if !exists {
		return st
	}
	cfg, err := RESTConfig(p.KubeconfigPath(), kubeContext)
	if err != nil {
		st.Err = err
		return st
	}
	st.Version, st.Nodes, st.Err = Probe(ctx, cfg)
	st.Reachable = st.Err == nil
	if hr, ok := p.(HealthReporter); ok {
		if h, err := hr.Health(ctx); err == nil && h.State != HealthHealthy {
			st.Health = h.Summary()
		}
	}
	return st
}

// Manager runs the cluster operations for one Config; the TUI and the CLI
// share it.
type Manager struct {
	cfg Config
}

// NewManager returns a manager for c.
func NewManager(c Config) *Manager {
	c.defaults()
	return &Manager{cfg: c}
}

// Status selects the provider and reports on its cluster. It never fails:
// problems end up in Status.Err.
func (m *Manager) Status(ctx context.Context) Status {
	p, _, err := Select(ctx, m.cfg)
	if err != nil {
		return Status{Name: m.cfg.Name, Provider: m.cfg.Provider, Err: err}
	}
	return StatusOf(ctx, p, m.cfg.Context)
}

// Up creates the cluster (see Up) and says which provider it chose and why.
func (m *Manager) Up(ctx context.Context, progress Progress) (reason string, err error) {
	p, reason, err := Select(ctx, m.cfg)
	if err != nil {
		return "", err
	}
	return reason, Up(ctx, p, NewRecords(m.cfg.StateDir), progress)
}
