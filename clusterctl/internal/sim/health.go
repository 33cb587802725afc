package sim

// A simulated cluster is five ordinary processes (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok) that kwokctl forks once and
// then forgets: nothing restarts one that exits. On kind the kubelet restarts
// control-plane static pods; here a supervisor does (internal/supervisor):
// a detached 'k8slab cluster supervise' process that 'cluster up' starts and
// 'cluster down' stops (supervise.go). This file reads the components
// kwokctl recorded, tells how each one is, and repairs a cluster that no
// supervisor watches.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/kubeapi"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"github.com/k8slab/k8slab/clusterctl/internal/supervisor"

	"sigs.k8s.io/yaml"
)

// State sums up a cluster's components.
type State string

const (
	// HealthNotCreated: there is no such cluster.
	HealthNotCreated State = "not created"
	// HealthStopped: the cluster exists but none of its processes runs
	// (after a reboot, say); 'cluster up' starts it with its data.
	HealthStopped State = "stopped"
	// HealthDegraded: some component is down or does not answer.
	HealthDegraded State = "degraded"
	// HealthHealthy: every component runs and answers its health check.
	HealthHealthy State = "healthy"
)

// ComponentHealth is one process of a simulated cluster.
type ComponentHealth struct {
	// Name is kwokctl's name for it: etcd, kube-apiserver,
	// kube-controller-manager, kube-scheduler or kwok-controller.
	Name string
	// PID is 0 when no process runs.
	PID     int
	Running bool
	// Healthy is true when the process runs and its health endpoint
	// answers ok.
	Healthy bool
	// Detail says what is wrong, e.g. "not running" or "does not answer".
	Detail string
}

// Health is the health of every component of a cluster.
type Health struct {
	State      State
	Components []ComponentHealth
	// Supervised is true when a supervisor is watching the cluster and
	// will restart what is down.
	Supervised bool
}

// Sick lists the components that are down or not healthy.
func (h Health) Sick() []ComponentHealth {
	var sick []ComponentHealth
	for _, c := range h.Components {
		if !c.Healthy {
			sick = append(sick, c)
		}
	}
	return sick
}

// Summary is one line for a learner, e.g. "degraded: kube-scheduler is
// down, restarting".
func (h Health) Summary() string {
	switch h.State {
	case HealthNotCreated:
		return "not created: run 'k8slab cluster up'"
	case HealthStopped:
		return "stopped: run 'k8slab cluster up'"
	case HealthHealthy:
		return "healthy"
	}
	var parts []string
	down := false
	for _, c := range h.Sick() {
		what := "is down"
		if c.Running {
			what = "does not answer"
		} else {
			down = true
		}
		parts = append(parts, c.Name+" "+what)
	}
	s := "degraded: " + strings.Join(parts, ", ")
	switch {
	case !down:
		// Running but silent (busy, or stopped with SIGSTOP): restarting
		// it would not help, and 'up' would not either.
		return s
	case h.Supervised:
		return s + ", restarting"
	}
	return s + "; run 'k8slab cluster up' to repair it"
}

// component is one process of the cluster as kwokctl recorded it.
type component = supervisor.Component

// components reads the components kwokctl recorded in kwok.yaml, in the
// order kwokctl starts them (etcd first).
func (s *Cluster) components() ([]component, error) {
	raw, err := os.ReadFile(filepath.Join(s.clusterDir(), "kwok.yaml"))
	if err != nil {
		return nil, err
	}
	for _, doc := range strings.Split(string(raw), "\n---") {
		var d struct {
			Kind       string      `json:"kind"`
			Components []component `json:"components"`
		}
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil || d.Kind != "KwokctlConfiguration" {
			continue
		}
		for i := range d.Components {
			if d.Components[i].WorkDir == "" {
				d.Components[i].WorkDir = s.clusterDir()
			}
		}
		return d.Components, nil
	}
	return nil, fmt.Errorf("%s records no components", filepath.Join(s.clusterDir(), "kwok.yaml"))
}

// pidOf returns the pid of the component's live process, or 0.
func (s *Cluster) pidOf(c component) int {
	raw, err := os.ReadFile(c.PIDFile())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 || !processAlive(pid) || !s.ownsProcess(pid) {
		return 0
	}
	return pid
}

// startMissing starts every component that is not running, in kwokctl's
// order, and returns the processes it started (not yet waited for).
func (s *Cluster) startMissing(ctx context.Context) ([]*exec.Cmd, error) {
	comps, err := s.components()
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockStart(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var started []*exec.Cmd
	for _, c := range comps {
		if s.pidOf(c) != 0 {
			continue
		}
		cmd, err := supervisor.Start(c)
		if err != nil {
			return started, err
		}
		started = append(started, cmd)
	}
	return started, nil
}

// lockStart serialises starting components between the supervisor and a
// 'cluster up' that repairs: two starters could otherwise both see a
// component missing and start it twice, and the second copy, which cannot
// bind the ports, would overwrite the first one's pid file.
func (s *Cluster) lockStart(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.clusterDir(), "k8slab-start.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Health reports each component of the simulated cluster: whether its
// process runs and whether it answers its health endpoint (the API
// server's /readyz, etcd's /health, the others' /healthz).
func (s *Cluster) Health(ctx context.Context) (Health, error) {
	exists, err := s.Exists(ctx)
	if err != nil {
		return Health{}, err
	}
	if !exists {
		return Health{State: HealthNotCreated}, nil
	}
	comps, err := s.components()
	if err != nil {
		return Health{}, err
	}
	h := Health{Supervised: s.supervisorPID() != 0}
	running := 0
	for _, c := range comps {
		ch := ComponentHealth{Name: c.Name, PID: s.pidOf(c)}
		ch.Running = ch.PID != 0
		switch {
		case !ch.Running:
			ch.Detail = "not running"
		case supervisor.Stopped(ch.PID):
			ch.Detail = "stopped (SIGSTOP), does not answer"
		default:
			if err := s.probe(ctx, c, false); err != nil {
				ch.Detail = err.Error()
			} else {
				ch.Healthy = true
			}
		}
		if ch.Running {
			running++
		}
		h.Components = append(h.Components, ch)
	}
	switch {
	case running == 0:
		h.State = HealthStopped
	case len(h.Sick()) > 0:
		h.State = HealthDegraded
	default:
		h.State = HealthHealthy
	}
	return h, nil
}

// probeTimeout bounds one health check; a component that takes longer is
// as good as down for a learner.
const probeTimeout = 2 * time.Second

// loopbackClient checks the health endpoints of the cluster's own
// processes on 127.0.0.1. Their serving certificates are self-signed at
// start, and /healthz is open to anonymous requests, so there is nothing to
// verify or to authenticate with.
var loopbackClient = &http.Client{
	Timeout:   probeTimeout,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}, //nolint:gosec // loopback health checks only
}

// probe asks c whether it is healthy. With live, it asks only whether it
// is alive (the API server's /livez rather than /readyz), the question
// whose repeated "no" justifies killing it.
func (s *Cluster) probe(ctx context.Context, c component, live bool) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if c.Name == "kube-apiserver" {
		path := "/readyz"
		if live {
			path = "/livez"
		}
		cfg, err := kubeapi.RESTConfig(s.kubeconfig, "")
		if err != nil {
			return err
		}
		cfg.Timeout = probeTimeout
		if err := kubeapi.GetOK(ctx, cfg, path); err != nil {
			return errors.New("not ready")
		}
		return nil
	}
	if c.Metric == nil || c.Metric.Host == "" {
		return nil // nothing to ask: a running process is all we know
	}
	path := "/healthz"
	if c.Name == "etcd" {
		path = "/health"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Metric.Scheme+"://"+c.Metric.Host+path, nil)
	if err != nil {
		return err
	}
	resp, err := loopbackClient.Do(req)
	if err != nil {
		return errors.New("does not answer")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check says %s", resp.Status)
	}
	return nil
}

// repair brings an existing cluster back to health: it starts every
// component that is not running (all of them after a reboot; etcd's data is
// still there), waits for the API server and the nodes, and makes sure the
// supervisor runs. A healthy cluster gets problem.ErrAlreadyRunning.
func (s *Cluster) repair(ctx context.Context, progress func(problem.Step)) error {
	h, err := s.Health(ctx)
	if err != nil {
		return err
	}
	if h.State == HealthHealthy {
		if err := s.ensureSupervisor(); err != nil {
			return err
		}
		return fmt.Errorf("simulated cluster %q: %w", s.name, problem.ErrAlreadyRunning)
	}
	step := "Starting the stopped simulated cluster"
	if h.State == HealthDegraded {
		var names []string
		for _, c := range h.Sick() {
			names = append(names, c.Name)
		}
		step = "Repairing the simulated cluster (" + strings.Join(names, ", ") + ")"
	}
	if err := problem.Run(progress, step, func() error {
		s.dropStalePIDFiles()
		cmds, err := s.startMissing(ctx)
		for _, cmd := range cmds {
			go cmd.Wait() //nolint:errcheck // reaps it if it exits while we run
		}
		return err
	}); err != nil {
		return err
	}
	if err := s.waitReady(ctx, progress); err != nil {
		return err
	}
	if err := s.ensureSupervisor(); err != nil {
		return err
	}
	return problem.Run(progress, "Waiting for every component to be healthy", func() error {
		return s.waitHealthy(ctx, time.Minute)
	})
}

// waitHealthy polls Health until every component is healthy. The
// controller manager and the scheduler exit some seconds after they lose
// the API server, which may be after repair looked, so a component found
// down while no supervisor runs is started again here.
func (s *Cluster) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		h, err := s.Health(ctx)
		if err == nil && h.State == HealthHealthy {
			return nil
		}
		if err == nil && !h.Supervised && slices.ContainsFunc(h.Components, func(c ComponentHealth) bool { return !c.Running }) {
			s.dropStalePIDFiles()
			cmds, _ := s.startMissing(ctx)
			for _, cmd := range cmds {
				go cmd.Wait() //nolint:errcheck // reaps it if it exits while we run
			}
		}
		select {
		case <-ctx.Done():
			return problem.Newf(ctx.Err(), "see the logs in "+filepath.Join(s.clusterDir(), "logs"),
				"the simulated cluster is still %s", h.Summary())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Revive brings the cluster back when its processes are gone (after a
// reboot) or down with no supervisor to restart them, and makes sure its
// supervisor runs. It does nothing for a cluster that does not exist, or
// for one that a supervisor is already repairing.
func (s *Cluster) Revive(ctx context.Context) error {
	h, err := s.Health(ctx)
	switch {
	case err != nil || h.State == HealthNotCreated:
		return err
	case h.State == HealthHealthy, h.State == HealthDegraded && h.Supervised:
		return s.ensureSupervisor()
	}
	if err := s.repair(ctx, nil); err != nil && !errors.Is(err, problem.ErrAlreadyRunning) {
		return err
	}
	return nil
}
