package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Back-off between restarts of a component that keeps exiting: a restart
// comes at least minBackoff after the previous start, then twice that,
// capped at maxBackoff so that a component that failed while its API
// server was stalled (a closed laptop lid) is back within seconds of the
// API server answering again. A component that stayed up for backoffReset
// starts over at minBackoff.
const (
	minBackoff   = time.Second
	maxBackoff   = 4 * time.Second
	backoffReset = 30 * time.Second
	// superviseTick is how often the supervisor looks at the processes it
	// did not start itself (kwokctl's); those it started it hears of at once.
	superviseTick = 250 * time.Millisecond
)

// Liveness, as the kubelet's probes do for kind's control plane: a
// component that runs but has not answered its health endpoint for
// livenessFailures checks livenessInterval apart is killed, so that it is
// restarted. One that started less than livenessGrace ago is left alone.
// Variables so tests can shorten them.
var (
	livenessInterval = 10 * time.Second
	livenessFailures = 8
	livenessGrace    = 2 * time.Minute
)

func (s *sim) supervisorFile() string { return filepath.Join(s.clusterDir(), "k8slab-supervisor.pid") }
func (s *sim) supervisorLog() string {
	return filepath.Join(s.clusterDir(), "logs", "k8slab-supervisor.log")
}

// Test hooks: whileProbing runs while supervisorPID holds its shared lock
// on a pid file no supervisor holds; probeInTheWay runs when a starting
// supervisor finds such a probe's lock in its way; supervisedRound runs
// after each round of the supervisor's decisions, with its clock's time.
var (
	whileProbing    = func() {}
	probeInTheWay   = func() {}
	supervisedRound = func(time.Time) {}
)

// supervisorPID returns the pid of the cluster's running supervisor, or 0.
// A supervisor holds an exclusive lock on its pid file while it runs, so a
// file left by one that died (or by a previous boot) does not count.
func (s *sim) supervisorPID() int {
	f, err := os.Open(s.supervisorFile())
	if err != nil {
		return 0
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		whileProbing()
		return 0 // nobody holds it
	}
	raw, _ := io.ReadAll(f)
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return -1 // running, still writing its pid
	}
	return pid
}

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

// lockSupervisorFile takes the exclusive lock a running supervisor holds
// on its pid file, and reports false when another supervisor holds it.
// supervisorPID's probes hold a shared lock for a moment; one of them in
// the way is waited out, never taken for a supervisor, or a probe at the
// wrong moment (ensureSupervisor's own, say) would leave the cluster with
// none. A shared lock of our own tells the two apart: it is refused only
// while an exclusive one is held.
func lockSupervisorFile(ctx context.Context, f *os.File) (bool, error) {
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return false, err
		}
		err = syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil // a supervisor holds it
		}
		if err != nil {
			return false, err
		}
		probeInTheWay()
		if err := syscall.Flock(fd, syscall.LOCK_UN); err != nil {
			return false, err
		}
		// A probe holds its lock for a few microseconds.
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
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
	clk := s.clock
	logf := func(format string, args ...any) {
		fmt.Fprintf(log, clk.Now().UTC().Format(time.RFC3339)+" "+format+"\n", args...)
	}
	f, err := os.OpenFile(s.supervisorFile(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if held, err := lockSupervisorFile(ctx, f); err != nil {
		return fmt.Errorf("locking %s: %w", s.supervisorFile(), err)
	} else if !held {
		logf("another supervisor watches cluster %q; leaving it to that one", s.name)
		return nil
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return err
	}
	// Remove the file before the lock goes with f.Close, so no reader sees
	// a file whose pid is about to be stale.
	defer os.Remove(s.supervisorFile())
	logf("supervising simulated cluster %q (pid %d)", s.name, os.Getpid())

	watches := map[string]*componentWatch{}
	exits := make(chan string, 16)
	tick := clk.NewTicker(superviseTick)
	defer tick.Stop()
	var (
		comps     []component
		seen      os.FileInfo
		lastErr   string
		lastProbe = clk.Now()
		since     = clk.Now()
		failures  = map[string]int{}
	)
	for {
		// A tick that comes late (the machine slept) is just a tick: every
		// decision below is made from what runs now.
		st, err := os.Stat(filepath.Join(s.clusterDir(), "kwok.yaml"))
		if err != nil {
			logf("cluster %q is gone; stopping", s.name)
			return nil
		}
		if seen == nil || !st.ModTime().Equal(seen.ModTime()) || st.Size() != seen.Size() {
			comps, err = s.components()
			seen = st
		}
		if err == nil {
			err = s.superviseOnce(ctx, comps, watches, logf, exits)
		}
		if err == nil && clk.Since(lastProbe) >= livenessInterval {
			// A long gap means this process was frozen too (the machine
			// slept): the silence may be ours, so count afresh.
			if clk.Since(lastProbe) > 3*livenessInterval {
				clear(failures)
			}
			s.checkLiveness(ctx, comps, watches, failures, since, logf)
			lastProbe = clk.Now()
		}
		// Say each problem once, not four times a second.
		if err != nil && ctx.Err() == nil && err.Error() != lastErr {
			logf("%v", err)
		}
		if err != nil {
			lastErr = err.Error()
		} else {
			lastErr = ""
		}
		supervisedRound(clk.Now())
		select {
		case <-ctx.Done():
			logf("stopping (%v)", context.Cause(ctx))
			return nil
		case name := <-exits:
			logf("%s exited", name)
		case <-tick.C():
		}
	}
}

// componentWatch is the supervisor's memory of one component.
type componentWatch struct {
	// backoff is the least time between this start and the next.
	backoff time.Duration
	// next is the earliest time of the next restart.
	next      time.Time
	startedAt time.Time
	restarts  int
}

// superviseOnce starts each component that is not running and whose
// back-off has passed.
func (s *sim) superviseOnce(ctx context.Context, comps []component, watches map[string]*componentWatch, logf func(string, ...any), exits chan<- string) error {
	missing := false
	for _, c := range comps {
		if s.pidOf(c) == 0 {
			missing = true
			break
		}
	}
	if !missing {
		now := s.clock.Now()
		for _, w := range watches {
			if !w.startedAt.IsZero() && now.Sub(w.startedAt) > backoffReset {
				w.backoff = minBackoff
			}
		}
		return nil
	}
	unlock, err := s.lockStart(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	now := s.clock.Now()
	for _, c := range comps {
		w := watches[c.Name]
		if w == nil {
			w = &componentWatch{backoff: minBackoff}
			watches[c.Name] = w
		}
		if s.pidOf(c) != 0 {
			if !w.startedAt.IsZero() && now.Sub(w.startedAt) > backoffReset {
				w.backoff = minBackoff
			}
			continue
		}
		if now.Before(w.next) {
			continue
		}
		cmd, err := startComponent(c)
		if err != nil {
			logf("restarting %s failed: %v", c.Name, err)
		} else {
			w.restarts++
			logf("%s was down; restarted it (pid %d, restart %d; should it exit, the next restart waits until %v after this one)", c.Name, cmd.Process.Pid, w.restarts, w.backoff)
			go func(name string) {
				err := cmd.Wait()
				select {
				case exits <- fmt.Sprintf("%s (pid %d): %v", name, cmd.Process.Pid, err):
				default:
				}
			}(c.Name)
		}
		w.startedAt, w.next = now, now.Add(w.backoff)
		w.backoff = min(2*w.backoff, maxBackoff)
	}
	return nil
}

// checkLiveness probes each running component and kills one that has
// failed livenessFailures probes in a row. A process stopped by a signal is
// left alone: someone stopped it on purpose (a debugger), and SIGCONT
// brings it back.
func (s *sim) checkLiveness(ctx context.Context, comps []component, watches map[string]*componentWatch, failures map[string]int, since time.Time, logf func(string, ...any)) {
	for _, c := range comps {
		pid := s.pidOf(c)
		started := since
		if w := watches[c.Name]; w != nil && w.startedAt.After(started) {
			started = w.startedAt
		}
		if pid == 0 || processStopped(pid) || s.clock.Since(started) < livenessGrace {
			delete(failures, c.Name)
			continue
		}
		if err := s.probe(ctx, c, true); err == nil {
			delete(failures, c.Name)
			continue
		}
		failures[c.Name]++
		if failures[c.Name] < livenessFailures {
			continue
		}
		logf("%s (pid %d) failed %d health checks in a row; killing it so that it restarts", c.Name, pid, failures[c.Name])
		_ = syscall.Kill(pid, syscall.SIGKILL)
		delete(failures, c.Name)
	}
}
