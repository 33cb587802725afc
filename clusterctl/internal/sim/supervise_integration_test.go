package sim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/kubeapi"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"github.com/k8slab/k8slab/internal/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// simBinDir finds the simulator's binaries for tests (clustertest.BinDir
// cannot be used here: it imports clusterctl, which imports this package).
// In CI missing binaries fail the test instead of skipping it.
func simBinDir(t testing.TB) string {
	t.Helper()
	dir := DefaultBinDir()
	if !HasBinaries(dir) {
		if os.Getenv("CI") != "" {
			t.Fatalf("simulator binaries missing in %s; .ci/run must run 'make sim' first", dir)
		}
		t.Skipf("simulator binaries not in %s; run 'make sim'", dir)
	}
	return dir
}

// syncBuffer is the supervisor's log, read by the test while it writes.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []logWaiter
}

type logWaiter struct {
	text string
	n    int
	ch   chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.waiters = slices.DeleteFunc(b.waiters, func(w logWaiter) bool {
		if strings.Count(b.buf.String(), w.text) >= w.n {
			close(w.ch)
			return true
		}
		return false
	})
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns a channel closed once the log holds text: the event a
// test waits for, rather than a time.
func (b *syncBuffer) waitFor(text string) <-chan struct{} { return b.waitForN(text, 1) }

// waitForN returns a channel closed once the log holds text n times.
func (b *syncBuffer) waitForN(text string, n int) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan struct{})
	if strings.Count(b.buf.String(), text) >= n {
		close(ch)
	} else {
		b.waiters = append(b.waiters, logWaiter{text, n, ch})
	}
	return ch
}

// startSupervisor runs Supervise in-process until the returned stop is
// called (or the test ends).
func startSupervisor(t *testing.T, s *Cluster, log *syncBuffer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Supervise(ctx, log); err != nil {
			t.Errorf("supervise: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// backWithin is what a learner is promised: a component that dies or
// stalls is back, and the cluster healthy, within 30 s. It bounds the
// waits below; how long each took is logged, not asserted tighter, since
// a kube-apiserver starts in 3 s on a quiet laptop and in over 10 s on two
// cores at load 10.
const backWithin = 30 * time.Second

// waitHealth polls the cluster's health until ok accepts it, for at most
// bound, and returns how long it took. The bounds are promises, not speed
// measurements.
func waitHealth(t *testing.T, s *Cluster, bound time.Duration, what string, ok func(Health) bool) time.Duration {
	t.Helper()
	start := time.Now()
	var last Health
	for time.Since(start) < bound {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h, err := s.Health(ctx)
		cancel()
		if err == nil && ok(h) {
			return time.Since(start)
		}
		last = h
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v; last health: %s %+v", what, bound, last.Summary(), last.Components)
	return 0
}

func healthy(h Health) bool { return h.State == HealthHealthy }

func pidsOf(h Health) map[string]int {
	m := map[string]int{}
	for _, c := range h.Components {
		m[c.Name] = c.PID
	}
	return m
}

// TestSimSupervisorHealsEveryFault runs the faults of a learner's laptop
// against a simulated cluster and its supervisor: each component killed in
// turn, the API server stalled for 20 s, every process gone, and a
// component down while no supervisor runs. After each the cluster must be
// whole again, with its objects.
func TestSimSupervisorHealsEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	bin := simBinDir(t)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := New(Options{Name: "k8slab-heal", KubeconfigPath: filepath.Join(state, "kubeconfig"), WorkDir: filepath.Join(state, "sim"), CacheDir: t.TempDir(), BinDir: bin, Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int // every component pid, to check none outlives down
	t.Cleanup(func() { _ = s.Delete(context.Background(), nil) })
	if err := s.Create(ctx, nil); err != nil {
		t.Fatalf("up: %v", err)
	}
	log := &syncBuffer{}
	stop := startSupervisor(t, s, log)
	defer func() {
		if t.Failed() {
			t.Logf("supervisor log:\n%s", log.String())
		}
	}()
	waitHealth(t, s, time.Minute, "healthy after up", healthy)
	// The liveness question must get "yes" from every healthy component,
	// or the supervisor would kill healthy components every 80 s.
	comps, err := s.components()
	if err != nil || len(comps) != 5 {
		t.Fatalf("components: %d, %v", len(comps), err)
	}
	for _, c := range comps {
		if err := s.probe(ctx, c, true); err != nil {
			t.Errorf("liveness probe of healthy %s: %v", c.Name, err)
		}
	}

	restCfg, err := kubeapi.RESTConfig(s.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(restCfg)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"}}
	cctx, ccancel := context.WithTimeout(ctx, kube.RequestTimeout)
	_, err = cs.CoreV1().ConfigMaps("default").Create(cctx, cm, metav1.CreateOptions{})
	ccancel()
	if err != nil {
		t.Fatal(err)
	}

	current := func() Health {
		h, err := s.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range h.Components {
			if c.PID > 0 {
				seen = append(seen, c.PID)
			}
		}
		return h
	}

	// Each component killed in turn: restarted and healthy within the
	// promise.
	for _, name := range []string{"kube-scheduler", "kube-controller-manager", "kwok-controller", "etcd", "kube-apiserver"} {
		before := pidsOf(current())
		if before[name] == 0 {
			t.Fatalf("%s has no process before the kill", name)
		}
		if err := syscall.Kill(before[name], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		took := waitHealth(t, s, backWithin, name+" killed", func(h Health) bool {
			now := pidsOf(h)
			return healthy(h) && now[name] != 0 && now[name] != before[name]
		})
		t.Logf("SIGKILL %s: healthy again after %v", name, took.Round(10*time.Millisecond))
		current()
	}

	// The API server stalled for 20 s, as when a laptop's lid closes: the
	// components that give up meanwhile are restarted, and all is healthy
	// within 30 s of it resuming.
	before := pidsOf(current())
	apiserver := before["kube-apiserver"]
	if err := syscall.Kill(apiserver, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = syscall.Kill(apiserver, syscall.SIGCONT)
		}
	}()
	waitHealth(t, s, backWithin, "degraded while the API server is stopped", func(h Health) bool {
		return h.State == HealthDegraded && strings.Contains(h.Summary(), "kube-apiserver does not answer")
	})
	time.Sleep(20 * time.Second)
	if err := syscall.Kill(apiserver, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	took := waitHealth(t, s, backWithin, "healthy after a 20 s stall", healthy)
	after := pidsOf(current())
	var restarted []string
	for name, pid := range before {
		if after[name] != pid {
			restarted = append(restarted, name)
		}
	}
	t.Logf("SIGSTOP kube-apiserver 20 s: healthy %v after SIGCONT; restarted meanwhile: %v", took.Round(10*time.Millisecond), restarted)

	// A component down with no supervisor: health says degraded and who,
	// and Up repairs it instead of calling it already running.
	stop()
	h := current()
	if h.Supervised {
		t.Fatal("health says supervised after the supervisor stopped")
	}
	if err := syscall.Kill(pidsOf(h)["kube-scheduler"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, s, backWithin, "degraded with the scheduler down", func(h Health) bool {
		return h.State == HealthDegraded && h.Summary() == "degraded: kube-scheduler is down; run 'k8slab cluster up' to repair it"
	})
	var steps []string
	progress := func(st problem.Step) {
		if st.State == problem.StepStarted {
			steps = append(steps, st.Name)
		}
	}
	if err := s.Create(ctx, progress); err != nil {
		t.Fatalf("up on a degraded cluster: %v", err)
	}
	if len(steps) == 0 || steps[0] != "Repairing the simulated cluster (kube-scheduler)" {
		t.Errorf("repair steps = %q", steps)
	}
	if h := current(); !healthy(h) {
		t.Fatalf("after repairing up: %s", h.Summary())
	}

	// Every process gone (a reboot): stopped, then back with its objects.
	for _, pid := range pidsOf(current()) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitHealth(t, s, backWithin, "stopped after every process was killed", func(h Health) bool {
		return h.State == HealthStopped && h.Summary() == "stopped: run 'k8slab cluster up'"
	})
	start := time.Now()
	if err := s.Create(ctx, nil); err != nil {
		t.Fatalf("up after a 'reboot': %v", err)
	}
	t.Logf("all processes killed: 'up' brought the cluster back in %v", time.Since(start).Round(10*time.Millisecond))
	cctx, ccancel = context.WithTimeout(ctx, kube.RequestTimeout)
	got, err := cs.CoreV1().ConfigMaps("default").Get(cctx, "survivor", metav1.GetOptions{})
	ccancel()
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("the config map did not survive: %v %v", got, err)
	}
	if h := current(); !healthy(h) {
		t.Fatalf("after up: %s", h.Summary())
	}

	if err := s.Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, pid := range seen {
		if processAlive(pid) && s.ownsProcess(pid) {
			t.Errorf("process %d still runs after down", pid)
		}
	}
	if _, err := os.Stat(s.clusterDir()); !os.IsNotExist(err) {
		t.Errorf("cluster folder left after down: %v", err)
	}
}
