// Package supervisor keeps a simulated cluster's processes running, as
// the kubelet keeps kind's control plane: a component that exits is
// restarted, with back-off, from the command line kwokctl recorded, the
// way kwokctl starts it (its own session, its log file, its pid file), and
// one that stops answering its health checks is killed so that it
// restarts. A supervisor holds an exclusive lock on its pid file for as
// long as it runs, so there is one per cluster and a stale pid file is
// never taken for a live supervisor. It also starts the detached
// supervisor process and stops it (Launch, Stop). The simulator provider
// (clusterctl/internal/sim) is the Cluster it watches.
package supervisor

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

	"k8s.io/utils/clock"
)

// Cluster is what the supervisor needs of the cluster it watches.
type Cluster interface {
	// Name is the cluster's name, for the log.
	Name() string
	// ConfigFile is kwokctl's record of the cluster; when it is gone, the
	// cluster was deleted and the supervisor stops.
	ConfigFile() string
	// PIDFile is the supervisor's pid file.
	PIDFile() string
	// Components reads the components kwokctl recorded, in its order.
	Components() ([]Component, error)
	// PIDOf returns the pid of c's live process, or 0.
	PIDOf(c Component) int
	// LockStart serialises starting components with anyone else who
	// starts them ('cluster up' repairing).
	LockStart(ctx context.Context) (unlock func(), err error)
	// Probe asks c whether it is alive.
	Probe(ctx context.Context, c Component, live bool) error
}

// Back-off between restarts of a component that keeps exiting: a restart
// comes at least MinBackoff after the previous start, then twice that,
// capped at MaxBackoff so that a component that failed while its API
// server was stalled (a closed laptop lid) is back within seconds of the
// API server answering again. A component that stayed up for backoffReset
// starts over at MinBackoff.
const (
	MinBackoff   = time.Second
	MaxBackoff   = 4 * time.Second
	backoffReset = 30 * time.Second
	// Tick is how often the supervisor looks at the processes it
	// did not start itself (kwokctl's); those it started it hears of at once.
	Tick = 250 * time.Millisecond
)

// Liveness, as the kubelet's probes do for kind's control plane: a
// component that runs but has not answered its health endpoint for
// LivenessFailures checks LivenessInterval apart is killed, so that it is
// restarted. One that started less than LivenessGrace ago is left alone.
// Variables so tests can shorten them.
var (
	LivenessInterval = 10 * time.Second
	LivenessFailures = 8
	LivenessGrace    = 2 * time.Minute
)

// Test hooks: WhileProbing runs while supervisorPID holds its shared lock
// on a pid file no supervisor holds; ProbeInTheWay runs when a starting
// supervisor finds such a probe's lock in its way; Round runs
// after each round of the supervisor's decisions, with its clock's time.
var (
	WhileProbing  = func() {}
	ProbeInTheWay = func() {}
	Round         = func(time.Time) {}
)

// Component is one entry of kwokctl's recorded configuration: how to run it
// and where it answers.
type Component struct {
	Name    string   `json:"name"`
	Binary  string   `json:"binary"`
	Args    []string `json:"args"`
	WorkDir string   `json:"workDir"`
	Envs    []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"envs"`
	Metric *struct {
		Scheme string `json:"scheme"`
		Host   string `json:"host"`
	} `json:"metric"`
}

// processName is the base name kwokctl uses for the component's pid and
// log files.
func (c Component) processName() string {
	base := filepath.Base(c.Binary)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func (c Component) PIDFile() string { return filepath.Join(c.WorkDir, "pids", c.processName()+".pid") }
func (c Component) LogFile() string { return filepath.Join(c.WorkDir, "logs", c.processName()+".log") }

// Start starts c as kwokctl would: in its own session (so a
// terminal's hang-up does not reach it), output appended to its log file,
// its pid in its pid file. The caller must hold the start lock.
func Start(c Component) (*exec.Cmd, error) {
	if err := os.MkdirAll(filepath.Dir(c.LogFile()), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(c.PIDFile()), 0o700); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(c.LogFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(c.Binary, c.Args...)
	cmd.Dir = c.WorkDir
	cmd.Env = os.Environ()
	for _, e := range c.Envs {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", c.Name, err)
	}
	if err := os.WriteFile(c.PIDFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	awaitCommandLine(cmd.Process.Pid)
	return cmd, nil
}

// awaitCommandLine waits until pid's command line can be read. cmd.Start
// returns once execve has passed the point of no return, but the kernel
// sets up the new program's arguments a little later; until then
// /proc/PID/cmdline is empty, and whoever tells a component's process by
// its command line (the next round, 'cluster status') would take a
// component just started for one that is down and start it twice. Seen on
// a loaded machine. The wait ends when the arguments are there or the
// process is gone (an exit at once is the back-off's business).
func awaitCommandLine(pid int) {
	for range 10000 { // microseconds normally; a bound for a frozen machine
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(raw) > 0 || zombie(pid) {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// zombie reports whether pid has exited and waits to be reaped: its
// command line is empty for good.
func zombie(pid int) bool {
	return procState(pid) == 'Z'
}

// procState is the state letter of /proc/PID/stat, or 0.
func procState(pid int) byte {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may hold anything, so read after the
	// last ')'.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2]
	}
	return 0
}

// Stopped reports whether pid is stopped by a signal (SIGSTOP,
// Ctrl-Z): it lives but cannot answer.
func Stopped(pid int) bool {
	return procState(pid) == 'T'
}

// PID returns the pid of the supervisor that holds the pid file at path,
// -1 when one holds it but has not written its pid yet, or 0. A supervisor
// holds an exclusive lock on its pid file while it runs, so a file left by
// one that died (or by a previous boot) does not count.
func PID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		WhileProbing()
		return 0 // nobody holds it
	}
	raw, _ := io.ReadAll(f)
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return -1 // running, still writing its pid
	}
	return pid
}

// lockFile takes the exclusive lock a running supervisor holds
// on its pid file, and reports false when another supervisor holds it.
// supervisorPID's probes hold a shared lock for a moment; one of them in
// the way is waited out, never taken for a supervisor, or a probe at the
// wrong moment (ensureSupervisor's own, say) would leave the cluster with
// none. A shared lock of our own tells the two apart: it is refused only
// while an exclusive one is held.
func lockFile(ctx context.Context, f *os.File) (bool, error) {
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
		ProbeInTheWay()
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

// Run watches cluster c until ctx ends or the cluster is deleted, and
// restarts every component that exits, with back-off. It returns at once,
// without error, when another supervisor holds c's pid file. Its decisions
// are made from clk's time; progress goes to log.
func Run(ctx context.Context, s Cluster, clk clock.WithTicker, log io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(log, clk.Now().UTC().Format(time.RFC3339)+" "+format+"\n", args...)
	}
	f, err := os.OpenFile(s.PIDFile(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if held, err := lockFile(ctx, f); err != nil {
		return fmt.Errorf("locking %s: %w", s.PIDFile(), err)
	} else if !held {
		logf("another supervisor watches cluster %q; leaving it to that one", s.Name())
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
	defer os.Remove(s.PIDFile())
	logf("supervising simulated cluster %q (pid %d)", s.Name(), os.Getpid())

	watches := map[string]*componentWatch{}
	exits := make(chan string, 16)
	tick := clk.NewTicker(Tick)
	defer tick.Stop()
	var (
		comps     []Component
		seen      os.FileInfo
		lastErr   string
		lastProbe = clk.Now()
		since     = clk.Now()
		failures  = map[string]int{}
	)
	for {
		// A tick that comes late (the machine slept) is just a tick: every
		// decision below is made from what runs now. The whole round
		// decides at one time, the one Round reports: a clock that moves
		// during the round (a test's step) must not make a round that
		// decided before it look as if it decided after.
		now := clk.Now()
		st, err := os.Stat(s.ConfigFile())
		if err != nil {
			logf("cluster %q is gone; stopping", s.Name())
			return nil
		}
		if seen == nil || !st.ModTime().Equal(seen.ModTime()) || st.Size() != seen.Size() {
			comps, err = s.Components()
			seen = st
		}
		if err == nil {
			err = superviseOnce(ctx, s, now, comps, watches, logf, exits)
		}
		if err == nil && now.Sub(lastProbe) >= LivenessInterval {
			// A long gap means this process was frozen too (the machine
			// slept): the silence may be ours, so count afresh.
			if now.Sub(lastProbe) > 3*LivenessInterval {
				clear(failures)
			}
			checkLiveness(ctx, s, now, comps, watches, failures, since, logf)
			lastProbe = now
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
		Round(now)
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
func superviseOnce(ctx context.Context, s Cluster, now time.Time, comps []Component, watches map[string]*componentWatch, logf func(string, ...any), exits chan<- string) error {
	missing := false
	for _, c := range comps {
		if s.PIDOf(c) == 0 {
			missing = true
			break
		}
	}
	if !missing {
		for _, w := range watches {
			if !w.startedAt.IsZero() && now.Sub(w.startedAt) > backoffReset {
				w.backoff = MinBackoff
			}
		}
		return nil
	}
	unlock, err := s.LockStart(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, c := range comps {
		w := watches[c.Name]
		if w == nil {
			w = &componentWatch{backoff: MinBackoff}
			watches[c.Name] = w
		}
		if s.PIDOf(c) != 0 {
			if !w.startedAt.IsZero() && now.Sub(w.startedAt) > backoffReset {
				w.backoff = MinBackoff
			}
			continue
		}
		if now.Before(w.next) {
			continue
		}
		cmd, err := Start(c)
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
		w.backoff = min(2*w.backoff, MaxBackoff)
	}
	return nil
}

// checkLiveness probes each running component and kills one that has
// failed LivenessFailures probes in a row. A process stopped by a signal is
// left alone: someone stopped it on purpose (a debugger), and SIGCONT
// brings it back.
func checkLiveness(ctx context.Context, s Cluster, now time.Time, comps []Component, watches map[string]*componentWatch, failures map[string]int, since time.Time, logf func(string, ...any)) {
	for _, c := range comps {
		pid := s.PIDOf(c)
		started := since
		if w := watches[c.Name]; w != nil && w.startedAt.After(started) {
			started = w.startedAt
		}
		if pid == 0 || Stopped(pid) || now.Sub(started) < LivenessGrace {
			delete(failures, c.Name)
			continue
		}
		if err := s.Probe(ctx, c, true); err == nil {
			delete(failures, c.Name)
			continue
		}
		failures[c.Name]++
		if failures[c.Name] < LivenessFailures {
			continue
		}
		logf("%s (pid %d) failed %d health checks in a row; killing it so that it restarts", c.Name, pid, failures[c.Name])
		_ = syscall.Kill(pid, syscall.SIGKILL)
		delete(failures, c.Name)
	}
}

// Launch starts the supervisor process argv in dir, detached, with its
// output appended to logFile, unless a supervisor already holds pidFile;
// it returns once the new one holds it.
func Launch(argv []string, dir, pidFile, logFile string) error {
	if PID(pidFile) != 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	// Its own session: closing the terminal that ran 'cluster up' must not
	// end it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the cluster's supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	for PID(pidFile) == 0 {
		select {
		case err := <-exited:
			return fmt.Errorf("the cluster's supervisor exited at once (%v); see %s", err, logFile)
		case <-deadline:
			return fmt.Errorf("the cluster's supervisor did not start; see %s", logFile)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Stop ends the supervisor that holds pidFile, so that it does not
// restart what 'cluster down' stops, and waits until it is gone.
func Stop(pidFile string) error {
	pid := PID(pidFile)
	if pid == 0 {
		return nil
	}
	for i := 0; pid < 0; i++ { // it is just starting; wait for its pid
		if i == 250 {
			return fmt.Errorf("the cluster's supervisor holds %s but wrote no pid there", pidFile)
		}
		time.Sleep(20 * time.Millisecond)
		pid = PID(pidFile)
	}
	if pid == 0 {
		return nil
	}
	if pid == os.Getpid() {
		// Run runs in this process (a test): only its context can end it.
		return errors.New("the cluster's supervisor runs in this process; cancel its context first")
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; PID(pidFile) != 0; i++ {
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
