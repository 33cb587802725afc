package sim

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/k8slab/k8slab/clusterctl/internal/kubeapi"
	"github.com/k8slab/k8slab/clusterctl/internal/simkubelet"
	"github.com/k8slab/k8slab/clusterctl/internal/supervisor"
	"github.com/k8slab/k8slab/internal/kube"

	"k8s.io/client-go/dynamic"
)

func (s *Cluster) supervisorFile() string {
	return filepath.Join(s.clusterDir(), "k8slab-supervisor.pid")
}
func (s *Cluster) supervisorLog() string {
	return filepath.Join(s.clusterDir(), "logs", "k8slab-supervisor.log")
}

// supervisorPID returns the pid of the cluster's running supervisor, -1
// while one is starting, or 0.
func (s *Cluster) supervisorPID() int { return supervisor.PID(s.supervisorFile()) }

// ensureSupervisor starts the supervisor unless one runs or none is
// configured (library use, tests that supervise in-process).
func (s *Cluster) ensureSupervisor() error {
	if len(s.supervisor) == 0 {
		return nil
	}
	return supervisor.Launch(s.supervisor, s.workDir, s.supervisorFile(), s.supervisorLog())
}

// stopSupervisor ends the supervisor, so that it does not restart what
// 'cluster down' stops, and waits until it is gone.
func (s *Cluster) stopSupervisor() error { return supervisor.Stop(s.supervisorFile()) }

// Supervise watches the cluster until ctx ends or the cluster is deleted,
// and restarts every component that exits, with back-off. It returns at
// once, without error, when another supervisor is already watching the
// cluster. 'k8slab cluster supervise' runs it in a detached process; tests
// may run it in-process. Progress goes to log.
func (s *Cluster) Supervise(ctx context.Context, log io.Writer) error {
	// The controller that plays the kubelet where kwok's stages cannot
	// runs as long as the supervisor: a second supervisor that finds the
	// cluster watched returns at once and takes its controller along.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.RunKubelet(ctx, log); err != nil {
			fmt.Fprintf(log, "the simulated kubelet's controller stopped: %v\n", err)
		}
	}()
	err := supervisor.Run(ctx, supervised{s}, s.clock, log)
	cancel()
	<-done
	return err
}

// RunKubelet runs the cluster's controller (simkubelet:
// CreateContainerConfigError, logs per image) until ctx ends. The
// supervisor runs it; tests that start a cluster without a supervisor run
// it themselves, or pods whose environment names a ConfigMap or Secret
// never start.
func (s *Cluster) RunKubelet(ctx context.Context, log io.Writer) error {
	cfg, err := kubeapi.RESTConfig(s.kubeconfig, "")
	if err != nil {
		return err
	}
	// Watches have no client timeout; each write has its own.
	cfg.Timeout = 0
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	known := s.knownImages()
	logFiles := func(image string) (run, exit string, ok bool) {
		if !known(image) {
			return "", "", false
		}
		run, exit = s.logFiles(image)
		return run, exit, true
	}
	return simkubelet.Run(ctx, cfg, dyn, simkubelet.Options{Known: known, LogFiles: logFiles, APITimeout: kube.RequestTimeout, Log: log})
}

// supervised is the simulated cluster as its supervisor sees it.
type supervised struct{ *Cluster }

func (s supervised) Name() string                                  { return s.name }
func (s supervised) ConfigFile() string                            { return filepath.Join(s.clusterDir(), "kwok.yaml") }
func (s supervised) PIDFile() string                               { return s.supervisorFile() }
func (s supervised) Components() ([]component, error)              { return s.components() }
func (s supervised) PIDOf(c component) int                         { return s.pidOf(c) }
func (s supervised) LockStart(ctx context.Context) (func(), error) { return s.lockStart(ctx) }
func (s supervised) Probe(ctx context.Context, c component, live bool) error {
	return s.probe(ctx, c, live)
}
