package workshop_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// counter counts API requests and the watches among them.
type counter struct {
	requests, watches atomic.Int64
	next              http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	if r.URL.Query().Get("watch") == "true" {
		c.watches.Add(1)
	}
	return c.next.RoundTrip(r)
}

// counted returns clients whose requests cnt counts.
func counted(b *testing.B, rc *rest.Config, cnt *counter) workshop.Clients {
	cfg := rest.CopyConfig(rc)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { cnt.next = rt; return cnt })
	c, err := workshop.NewClients(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// cpu is CPU time used so far by this process (the k8slab side: clients,
// informers, grading) and by the simulated cluster's API server. Wall
// times on a loaded machine mostly measure the load; CPU time measures
// the work, so old and new code compare on it.
type cpu struct{ self, apiserver time.Duration }

func cpuNow(b *testing.B, apiserverPID int) cpu {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu{self: self, apiserver: procCPU(b, apiserverPID)}
}

// procCPU reads a process's user and system time from /proc (in clock
// ticks of 10 ms, USER_HZ on Linux).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of stat.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("reading /proc/%d/stat: %q", pid, raw)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// apiserverPID finds the simulated cluster's API server from the pid
// file the simulator keeps in the state folder.
func apiserverPID(b *testing.B, state string) int {
	files, _ := filepath.Glob(filepath.Join(state, "sim", "clusters", "*", "pids", "kube-apiserver.pid"))
	if len(files) != 1 {
		b.Fatalf("want one kube-apiserver pid file under %s, found %v", state, files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		b.Fatal(err)
	}
	return pid
}

// peakHeap samples the heap until stop is closed and returns its peak.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// Learners' work, applied directly as the instructor: every even learner
// has finished the pods lab and started the deployments lab.
const (
	podsDone = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
    - name: nginx
      image: nginx:1.27
`
	deploymentStarted = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
`
)

// BenchmarkClassGrading measures, for classes of 20, 100 and 500 learners
// on one simulated cluster, what issue #21 asks: how long workshop init
// takes, and how long the instructor's table takes from a cold start (new
// clients, informers listing everything) to its first full render; then
// how long a learner's change takes to reach the live table.
//
// The class grows on one cluster: init for 100 adds 80 learners to the
// 20 there and re-applies the 20 (server-side apply, unchanged), as an
// instructor growing a class would. Labs are set up on first open, so
// init makes each learner's fence and no lab objects; every even learner
// has then done the pods lab and started the deployments lab.
//
// Besides wall times, which on a loaded machine mostly measure the load,
// it reports what does not depend on the machine: API requests, objects
// cached, allocations (-benchmem), and the CPU time used by this process
// and by the API server.
func BenchmarkClassGrading(b *testing.B) {
	p, dir := clustertest.Start(b, "k8slab-class")
	apiserver := apiserverPID(b, dir)
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		b.Fatal(err)
	}
	labs := builtIn.AllLabs()
	rc, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		b.Fatal(err)
	}
	rc.QPS, rc.Burst = 500, 1000
	// Watches must outlive a request timeout, and a loaded machine needs
	// patience; every call below has its own context deadline.
	rc.Timeout = 0
	admin, err := workshop.NewClients(rc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	prepared := 0
	for _, size := range []int{20, 100, 500} {
		b.Run(fmt.Sprintf("learners=%d", size), func(b *testing.B) {
			var initT time.Duration
			var initRequests int64
			var initCPU cpu
			if prepared < size {
				plan := workshop.Plan{Name: "bench", Learners: workshop.LearnerIDs(size), Labs: labs}
				cnt := &counter{}
				c := counted(b, rc, cnt)
				before := cpuNow(b, apiserver)
				start := time.Now()
				if _, err := workshop.Init(ctx, c, plan, workshop.InitOptions{OutDir: dir + "/kubeconfigs", Parallel: 16, Force: true}); err != nil {
					b.Fatal(err)
				}
				initT = time.Since(start)
				after := cpuNow(b, apiserver)
				initRequests = cnt.requests.Load()
				initCPU = cpu{self: after.self - before.self, apiserver: after.apiserver - before.apiserver}
				work(b, admin, plan.Learners[prepared:])
				b.Logf("init of %d learners (%d new): %s, %d API requests, CPU %s here and %s in the API server",
					size, size-prepared, initT.Round(time.Millisecond), initRequests, initCPU.self.Round(time.Millisecond), initCPU.apiserver.Round(10*time.Millisecond))
				prepared = size
			}
			var first, live time.Duration
			var firstCPU cpu
			var requests, watches int64
			var peak uint64
			for b.Loop() {
				runtime.GC()
				cnt := &counter{}
				c := counted(b, rc, cnt)
				stop := make(chan struct{})
				peakCh := peakHeap(stop)
				before := cpuNow(b, apiserver)
				f, l, fc := firstAndLive(b, c, admin, labs, size, apiserver)
				close(stop)
				first += f
				live += l
				firstCPU.self += fc.self - before.self
				firstCPU.apiserver += fc.apiserver - before.apiserver
				requests += cnt.requests.Load()
				watches += cnt.watches.Load()
				peak = max(peak, <-peakCh)
			}
			n := float64(b.N)
			if initT > 0 {
				b.ReportMetric(initT.Seconds(), "s-init")
				b.ReportMetric(float64(initRequests), "init-requests")
				b.ReportMetric(float64(initCPU.self.Milliseconds()), "ms-cpu-init")
				b.ReportMetric(float64(initCPU.apiserver.Milliseconds()), "ms-cpu-apiserver-init")
			}
			b.ReportMetric(float64(first.Milliseconds())/n, "ms-first-table")
			b.ReportMetric(float64(firstCPU.self.Milliseconds())/n, "ms-cpu-first-table")
			b.ReportMetric(float64(firstCPU.apiserver.Milliseconds())/n, "ms-cpu-apiserver-first-table")
			b.ReportMetric(float64(live.Milliseconds())/n, "ms-live-update")
			b.ReportMetric(float64(requests)/n, "requests/op")
			b.ReportMetric(float64(watches)/n, "watches/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// work puts learners' lab objects in the cluster.
func work(b *testing.B, c workshop.Clients, learners []string) {
	var wg sync.WaitGroup
	errs := make(chan error, len(learners))
	sem := make(chan struct{}, 16)
	for i, l := range learners {
		if i%2 == 1 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx := context.Background()
			// Init sets no lab up, so it does not wait for the lab
			// namespaces' service accounts, without which every pod is
			// refused (a learner's first open waits for it).
			for _, lab := range []string{"pods", "deployments"} {
				if err := labenv.WaitDefaultServiceAccount(ctx, c.Dynamic, workshop.LabNamespace("bench", l, lab)); err != nil {
					errs <- err
					return
				}
			}
			if err := labenv.ApplyYAML(ctx, c.Dynamic, workshop.LabNamespace("bench", l, "pods"), podsDone); err != nil {
				errs <- err
				return
			}
			if err := labenv.ApplyYAML(ctx, c.Dynamic, workshop.LabNamespace("bench", l, "deployments"), deploymentStarted); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// firstAndLive starts a grader, waits for the first full table, then has
// an odd learner (not done yet) create the pods lab's web pod and waits for
// the table to show the task passed.
// The CPU times it returns are read when the first table arrives.
func firstAndLive(b *testing.B, c, admin workshop.Clients, labs []*labfile.Lab, size, apiserver int) (first, live time.Duration, atFirst cpu) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	learner := workshop.LearnerIDs(size)[1]
	ns := workshop.LabNamespace("bench", learner, "pods")
	if err := labenv.WaitDefaultServiceAccount(ctx, admin.Dynamic, ns); err != nil {
		b.Fatal(err)
	}
	tables := make(chan workshop.Table, 1024)
	start := time.Now()
	done := make(chan error, 1)
	g := workshop.NewGrader(c, "bench", labs)
	go func() {
		done <- g.Run(ctx, 10*time.Millisecond, func(t workshop.Table) { tables <- t })
	}()
	var t workshop.Table
	select {
	case t = <-tables:
	case err := <-done:
		b.Fatalf("grader stopped: %v", err)
	}
	first = time.Since(start)
	atFirst = cpuNow(b, apiserver)
	syncT, gradeT := g.FirstTable()
	b.ReportMetric(float64(syncT.Milliseconds()), "ms-list-class")
	b.ReportMetric(float64(gradeT.Milliseconds()), "ms-grade-class")
	b.ReportMetric(float64(g.Objects()), "objects-cached")
	if len(t.Rows) != size {
		b.Fatalf("first table has %d learners, want %d", len(t.Rows), size)
	}
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			if c.State == "missing" || c.State == workshop.Broken {
				b.Fatalf("learner %s lab %s is %s in the first table: %+v", r.Learner, c.Lab, c.State, c.Tasks)
			}
		}
	}
	if webPassed(t, learner) {
		b.Fatal("the odd learner's web pod is left over from an earlier round")
	}
	changed := time.Now()
	if err := labenv.ApplyYAML(ctx, admin.Dynamic, ns, podsDone); err != nil {
		b.Fatal(err)
	}
	timeout := time.After(30 * time.Second)
	for live == 0 {
		select {
		case t = <-tables:
			if webPassed(t, learner) {
				live = time.Since(changed)
			}
		case <-timeout:
			b.Fatal("the live table never showed the learner's change")
		}
	}
	b.StopTimer()
	removePod(b, admin, ns, "web")
	b.StartTimer()
	return first, live, atFirst
}

func webPassed(t workshop.Table, learner string) bool {
	cell, _ := t.Cell(learner, "pods")
	for _, task := range cell.Tasks {
		if task.ID == "web-pod" {
			return task.Status == checks.Pass
		}
	}
	return false
}

// removePod deletes a pod and waits until it is gone, so every round
// starts from the same class.
func removePod(b *testing.B, c workshop.Clients, ns, name string) {
	ctx := context.Background()
	zero := int64(0)
	k := typed(b, c)
	if err := k.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		// Something else deleted it: say what the events say.
		evs, _ := k.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		var seen []string
		for _, e := range evs.Items {
			seen = append(seen, fmt.Sprintf("%s %s/%s %s: %s", e.LastTimestamp.Format(time.TimeOnly), e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
		}
		b.Fatalf("deleting pod %s/%s: %v; events there:\n%s", ns, name, err, strings.Join(seen, "\n"))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := k.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("pod %s/%s is never deleted", ns, name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
