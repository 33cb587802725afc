package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/simkubelet"
	"github.com/k8slab/k8slab/clusterctl/internal/supervisor"

	"k8s.io/client-go/dynamic"
)

func (s *sim) supervisorFile() string { return filepath.Join(s.clusterDir(), "k8slab-supervisor.pid") }
func (s *sim) supervisorLog() string {
	return filepath.Join(s.clusterDir(), "logs", "k8slab-supervisor.log")
}

// supervisorPID returns the pid of the cluster's running supervisor, -1
// while one is starting, or 0.
func (s *sim) supervisorPID() int { return supervisor.PID(s.supervisorFile()) }

// ensureSupervisor starts the supervisor unless one runs or none is
// configured (library use, tests that supervise in-process).
func (s *sim) ensureSupervisor() error {
	if len(s.supervisor) == 0 || s.supervisorPID() != 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.supervisorLog()), 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(s.supervisorLog(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.supervisor[0], s.supervisor[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.workDir
	// Its own session: closing the terminal that ran 'cluster up' must not
	// end it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the cluster's supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	for s.supervisorPID() == 0 {
		select {
		case err := <-exited:
			return fmt.Errorf("the cluster's supervisor exited at once (%v); see %s", err, s.supervisorLog())
		case <-deadline:
			return fmt.Errorf("the cluster's supervisor did not start; see %s", s.supervisorLog())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// stopSupervisor ends the supervisor, so that it does not restart what
// 'cluster down' stops, and waits until it is gone.
func (s *sim) stopSupervisor() error {
	pid := s.supervisorPID()
	if pid == 0 {
		return nil
	}
	for i := 0; pid < 0; i++ { // it is just starting; wait for its pid
		if i == 250 {
			return fmt.Errorf("the cluster's supervisor holds %s but wrote no pid there", s.supervisorFile())
		}
		time.Sleep(20 * time.Millisecond)
		pid = s.supervisorPID()
	}
	if pid == 0 {
		return nil
	}
	if pid == os.Getpid() {
		// Supervise runs in this process (a test): only its context can
		// end it.
		return errors.New("the cluster's supervisor runs in this process; cancel its context first")
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; s.supervisorPID() != 0; i++ {
		if i == 200 { // 10 s: it is stuck
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if i == 300 {
			return fmt.Errorf("the cluster's supervisor (pid %d) does not stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
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
	s, ok := p.(*sim)
	if !ok {
		return ErrNotSimulated
	}
	// The controller that plays the kubelet where kwok's stages cannot
	// runs as long as the supervisor: a second supervisor that finds the
	// cluster watched returns at once and takes its controller along.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := RunSimKubelet(ctx, p, log); err != nil {
			fmt.Fprintf(log, "the simulated kubelet's controller stopped: %v\n", err)
		}
	}()
	err := supervisor.Run(ctx, supervised{s}, s.clock, log)
	cancel()
	<-done
	return err
}

// RunSimKubelet runs the simulated cluster's controller (simkubelet:
// CreateContainerConfigError, logs per image) until ctx ends. The
// supervisor runs it; tests that start a cluster without a supervisor run
// it themselves, or pods whose environment names a ConfigMap or Secret
// never start.
func RunSimKubelet(ctx context.Context, p Provider, log io.Writer) error {
	s, ok := p.(*sim)
	if !ok {
		return ErrNotSimulated
	}
	cfg, err := RESTConfig(s.kubeconfig, "")
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
	return simkubelet.Run(ctx, cfg, dyn, simkubelet.Options{Known: known, LogFiles: logFiles, APITimeout: APITimeout, Log: log})
}

// supervised is the simulated cluster as its supervisor sees it.
type supervised struct{ *sim }

func (s supervised) Name() string                                  { return s.name }
func (s supervised) ConfigFile() string                            { return filepath.Join(s.clusterDir(), "kwok.yaml") }
func (s supervised) PIDFile() string                               { return s.supervisorFile() }
func (s supervised) Components() ([]component, error)              { return s.components() }
func (s supervised) PIDOf(c component) int                         { return s.pidOf(c) }
func (s supervised) LockStart(ctx context.Context) (func(), error) { return s.lockStart(ctx) }
func (s supervised) Probe(ctx context.Context, c component, live bool) error {
	return s.probe(ctx, c, live)
}
