package sim

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/supervisor"

	clocktesting "k8s.io/utils/clock/testing"
)

// fakeCluster lays out a cluster folder as kwokctl does, with components
// that are links in its bin folder (so their command lines name the
// cluster, like the real ones): "steady" runs until killed, "crashy" exits
// at once.
func fakeCluster(t *testing.T) *Cluster {
	t.Helper()
	return fakeClusterWith(t, func(bin string) string {
		return `- name: steady-one
  binary: ` + filepath.Join(bin, "steady") + `
  args: ["1000"]
- name: crashy-one
  binary: ` + filepath.Join(bin, "crashy") + `
`
	})
}

// fakeClusterWith writes the components that components(bin) lists.
func fakeClusterWith(t *testing.T, components func(bin string) string) *Cluster {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	state := t.TempDir()
	s, err := New(Options{Name: "fake", KubeconfigPath: filepath.Join(state, "kubeconfig"), WorkDir: filepath.Join(state, "sim"), CacheDir: state})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(s.clusterDir(), "bin")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"steady": "sleep", "crashy": "false"} {
		path := ""
		for _, dir := range []string{"/bin", "/usr/bin"} {
			if _, err := os.Stat(filepath.Join(dir, target)); err == nil {
				path = filepath.Join(dir, target)
				break
			}
		}
		if path == "" {
			t.Skipf("no %s", target)
		}
		if err := os.Symlink(path, filepath.Join(bin, link)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `kind: KwokConfiguration
---
kind: KwokctlConfiguration
components:
` + components(bin)
	if err := os.WriteFile(filepath.Join(s.clusterDir(), "kwok.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// By pid file, not by kwok.yaml: the test deletes that to end the
	// supervisor.
	t.Cleanup(func() {
		for _, pid := range s.dropStalePIDFiles() {
			p, _ := os.FindProcess(pid)
			_ = p.Kill()
		}
	})
	return s
}

// steppedSupervisor runs Supervise on s with a fake clock, and returns the
// clock and a step function that moves it on by d and waits for the round
// of decisions the supervisor makes at the new time: the test waits for
// the supervisor's decision, never for a time.
func steppedSupervisor(t *testing.T, s *Cluster, log *syncBuffer) (ctx context.Context, clk *clocktesting.FakeClock, step func(time.Duration), done <-chan error) {
	t.Helper()
	clk = clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s.clock = clk
	rounds := make(chan time.Time, 64)
	defer func(f func(time.Time)) { t.Cleanup(func() { supervisor.Round = f }) }(supervisor.Round)
	supervisor.Round = func(now time.Time) { rounds <- now }
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		errc <- s.Supervise(ctx, log)
	}()
	t.Cleanup(func() {
		cancel()
		for {
			select {
			case <-finished:
				return
			case <-rounds: // a round that no one waits for
			}
		}
	})
	waitRound := func(at time.Time) {
		t.Helper()
		for {
			select {
			case now := <-rounds:
				if !now.Before(at) {
					return
				}
			case <-finished:
				t.Fatalf("the supervisor stopped:\n%s", log.String())
			case <-time.After(time.Minute): // a hang, not a timing
				t.Fatalf("no supervisor round at %v:\n%s", at, log.String())
			}
		}
	}
	waitRound(clk.Now())
	step = func(d time.Duration) {
		t.Helper()
		clk.Step(d)
		waitRound(clk.Now())
	}
	return ctx, clk, step, errc
}

func TestSuperviseRestartsWithBackoffAndStops(t *testing.T) {
	s := fakeCluster(t)
	h, err := s.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.State != HealthStopped || h.Summary() != "stopped: run 'k8slab cluster up'" {
		t.Fatalf("before the supervisor: %s (%+v)", h.Summary(), h)
	}

	log := &syncBuffer{}
	ctx, _, step, done := steppedSupervisor(t, s, log)
	// The first round starts both.
	h, _ = s.Health(ctx)
	if !h.Supervised || len(h.Components) != 2 || !h.Components[0].Running {
		t.Fatalf("the supervisor's first round did not start steady-one: %+v\n%s", h, log.String())
	}
	if s.supervisorPID() != os.Getpid() {
		t.Errorf("supervisor pid = %d, want this process %d", s.supervisorPID(), os.Getpid())
	}
	steady := h.Components[0].PID

	// A second supervisor leaves the cluster to the first.
	if err := s.Supervise(ctx, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "another supervisor watches") {
		t.Errorf("second supervisor did not step aside:\n%s", log.String())
	}

	// crashy-one exits at once every time. Its restarts come 1 s after the
	// first start, then 2 s after that one (back-off 1, 2, 4 s), and never
	// sooner, however often the supervisor looks.
	restarts := func() int { return strings.Count(log.String(), "crashy-one was down") }
	for i, wait := range []time.Duration{time.Second, 2 * time.Second} {
		<-log.waitForN("crashy-one (pid", i+1) // it exited
		for range wait/supervisor.Tick - 1 {
			step(supervisor.Tick)
		}
		if n := restarts(); n != i+1 {
			t.Fatalf("crashy-one started %d times %v into a back-off of %v, want %d\n%s", n, wait-supervisor.Tick, wait, i+1, log.String())
		}
		step(supervisor.Tick)
		if n := restarts(); n != i+2 {
			t.Fatalf("crashy-one started %d times once a back-off of %v passed, want %d\n%s", n, wait, i+2, log.String())
		}
	}
	if n := strings.Count(log.String(), "steady-one was down"); n != 1 {
		t.Errorf("steady-one started %d times, want once\n%s", n, log.String())
	}
	<-log.waitForN("crashy-one (pid", 3) // it exited again
	h, _ = s.Health(ctx)
	if h.State != HealthDegraded || h.Summary() != "degraded: crashy-one is down, restarting" {
		t.Errorf("health = %q", h.Summary())
	}
	if h.Components[0].PID != steady {
		t.Errorf("steady-one's pid changed from %d to %d", steady, h.Components[0].PID)
	}

	// stopSupervisor works on an in-process supervisor through its
	// context only; here the cluster's deletion ends it, at its next look.
	if err := os.Remove(filepath.Join(s.clusterDir(), "kwok.yaml")); err != nil {
		t.Fatal(err)
	}
	s.clock.(*clocktesting.FakeClock).Step(supervisor.Tick)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "is gone; stopping") {
		t.Errorf("the supervisor did not stop for the deleted cluster:\n%s", log.String())
	}
	if s.supervisorPID() != 0 {
		t.Error("supervisor pid still recorded after it stopped")
	}
}

func TestHealthSummary(t *testing.T) {
	h := Health{State: HealthDegraded, Components: []ComponentHealth{
		{Name: "etcd", Running: true, Healthy: true},
		{Name: "kube-apiserver", Running: true, Detail: "not ready"},
		{Name: "kube-scheduler"},
	}}
	if got, want := h.Summary(), "degraded: kube-apiserver does not answer, kube-scheduler is down; run 'k8slab cluster up' to repair it"; got != want {
		t.Errorf("unsupervised: %q, want %q", got, want)
	}
	h.Supervised = true
	if got, want := h.Summary(), "degraded: kube-apiserver does not answer, kube-scheduler is down, restarting"; got != want {
		t.Errorf("supervised: %q, want %q", got, want)
	}
	// Only a silent process: neither the supervisor nor 'up' restarts it,
	// so the line promises neither.
	h.Components = h.Components[:2]
	if got, want := h.Summary(), "degraded: kube-apiserver does not answer"; got != want {
		t.Errorf("silent only: %q, want %q", got, want)
	}
}

// A component that runs but never answers its health endpoint is killed
// after supervisor.LivenessFailures failed checks, and restarted.
func TestSuperviseKillsAComponentThatNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // nothing listens there: every health check fails
	s := fakeClusterWith(t, func(bin string) string {
		return `- name: silent-one
  binary: ` + filepath.Join(bin, "steady") + `
  args: ["1000"]
  metric:
    scheme: http
    host: ` + closed + `
`
	})
	defer func(i time.Duration, f int, g time.Duration) {
		supervisor.LivenessInterval, supervisor.LivenessFailures, supervisor.LivenessGrace = i, f, g
	}(supervisor.LivenessInterval, supervisor.LivenessFailures, supervisor.LivenessGrace)
	supervisor.LivenessInterval, supervisor.LivenessFailures, supervisor.LivenessGrace = time.Second, 3, 0

	log := &syncBuffer{}
	ctx, _, step, _ := steppedSupervisor(t, s, log)
	h, _ := s.Health(ctx)
	if len(h.Components) != 1 || !h.Components[0].Running {
		t.Fatalf("silent-one not started: %+v\n%s", h, log.String())
	}
	if h.Components[0].Healthy || h.State != HealthDegraded {
		t.Fatalf("a component that does not answer is reported %s", h.Summary())
	}
	first := h.Components[0].PID
	// Two failed checks are not enough; the third kills it.
	for i := 1; i <= 3; i++ {
		step(supervisor.LivenessInterval)
		if i < 3 && strings.Contains(log.String(), "health checks in a row") {
			t.Fatalf("killed after %d failed checks, want 3:\n%s", i, log.String())
		}
	}
	<-log.waitFor("): signal: killed exited") // it exited
	step(supervisor.Tick)
	if h, _ := s.Health(ctx); len(h.Components) != 1 || !h.Components[0].Running || h.Components[0].PID == first {
		t.Fatalf("silent-one was not restarted after it was killed: %+v\n%s", h, log.String())
	}
	if !strings.Contains(log.String(), "silent-one (pid ") || !strings.Contains(log.String(), "failed 3 health checks in a row") {
		t.Errorf("log does not say why it was killed:\n%s", log.String())
	}
}

// A process of another cluster whose folder name starts with this one's
// (k8slab and k8slab-2) is not this cluster's: after a reboot its pid may
// sit in this cluster's pid file, and 'cluster down' would kill it.
func TestOwnsProcessMatchesTheClusterFolderExactly(t *testing.T) {
	s := fakeCluster(t)
	// A shell that waits on its input, started from a link in dir's bin
	// folder, with args after the script's name: its command line is the
	// link, then args, as a component's is.
	start := func(dir string, args ...string) int {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o700); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "bin", "waiter")
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink("/bin/sh", link); err != nil {
				t.Fatal(err)
			}
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(link, append([]string{"-c", "read line", "waiter"}, args...)...)
		cmd.Stdin = r
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		t.Cleanup(func() { w.Close(); _ = cmd.Wait() })
		return cmd.Process.Pid
	}
	other := s.clusterDir() + "-2"
	for name, tc := range map[string]struct {
		pid  int
		want bool
	}{
		"own binary":                  {start(s.clusterDir()), true},
		"own folder in a flag":        {start(other, "--data-dir="+s.clusterDir()+"/etcd"), true},
		"own folder as an argument":   {start(other, s.clusterDir()), true},
		"other cluster's binary":      {start(other), false},
		"other cluster's folder flag": {start(other, "--data-dir="+other+"/etcd"), false},
		"own folder inside another":   {start(other, "/elsewhere"+s.clusterDir()), false},
	} {
		if got := s.ownsProcess(tc.pid); got != tc.want {
			t.Errorf("%s: ownsProcess = %v, want %v (%q)", name, got, tc.want, readCmdline(tc.pid))
		}
	}
}

func readCmdline(pid int) string {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(raw), "\x00", " ")
}

// A status probe that holds its shared lock on the pid file just when a new
// supervisor takes the file must not make that supervisor think another
// one runs: it would exit and leave the cluster unsupervised.
func TestSupervisorIsNotPutOffByAProbe(t *testing.T) {
	s := fakeCluster(t)
	log := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	defer func() {
		cancel()
		<-finished
	}()
	met := make(chan struct{})
	var once, metOnce sync.Once
	defer func(w, p func()) { supervisor.WhileProbing, supervisor.ProbeInTheWay = w, p }(supervisor.WhileProbing, supervisor.ProbeInTheWay)
	supervisor.ProbeInTheWay = func() { metOnce.Do(func() { close(met) }) }
	supervisor.WhileProbing = func() {
		once.Do(func() {
			// The probe holds its lock: start the supervisor now, and let
			// the probe go only once the supervisor has met the lock (or
			// given up).
			go func() {
				defer close(finished)
				done <- s.Supervise(ctx, log)
			}()
			select {
			case <-met:
			case err := <-done:
				done <- err
			}
		})
	}
	// The pid file as a starting supervisor creates it, just before it
	// locks it: the moment a probe can catch.
	if err := os.WriteFile(s.supervisorFile(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if pid := s.supervisorPID(); pid != 0 {
		t.Fatalf("supervisorPID = %d before any supervisor ran", pid)
	}
	select {
	case err := <-done:
		t.Fatalf("the supervisor gave up (%v) because a probe held the pid file:\n%s", err, log.String())
	case <-log.waitFor("supervising simulated cluster"):
	case <-time.After(time.Minute): // a hang, not a timing
		t.Fatalf("the supervisor neither started nor gave up:\n%s", log.String())
	}
	if pid := s.supervisorPID(); pid != os.Getpid() {
		t.Errorf("supervisorPID = %d, want this process (%d)", pid, os.Getpid())
	}
}
