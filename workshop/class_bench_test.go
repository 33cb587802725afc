package workshop_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
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

// BenchmarkClassGrading grades a whole class from a cold start (new
// clients, informers listing everything) to the first full table, for
// growing classes on one simulated cluster, then times how long a
// learner's change takes to reach the live table.
func BenchmarkClassGrading(b *testing.B) {
	p, dir := clustertest.Start(b, "k8slab-class")
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
			if prepared < size {
				start := time.Now()
				plan := workshop.Plan{Name: "bench", Learners: workshop.LearnerIDs(size), Labs: labs}
				if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: dir + "/kubeconfigs", Parallel: 16, Force: true}); err != nil {
					b.Fatal(err)
				}
				work(b, admin, plan.Learners[prepared:])
				b.Logf("class of %d ready in %s", size, time.Since(start).Round(time.Millisecond))
				prepared = size
			}
			var first, live time.Duration
			var requests, watches int64
			var peak uint64
			for b.Loop() {
				runtime.GC()
				cnt := &counter{}
				cfg := rest.CopyConfig(rc)
				cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { cnt.next = rt; return cnt })
				c, err := workshop.NewClients(cfg)
				if err != nil {
					b.Fatal(err)
				}
				stop := make(chan struct{})
				peakCh := peakHeap(stop)
				f, l := firstAndLive(b, c, admin, labs, size)
				close(stop)
				first += f
				live += l
				requests += cnt.requests.Load()
				watches += cnt.watches.Load()
				peak = max(peak, <-peakCh)
			}
			n := float64(b.N)
			b.ReportMetric(float64(first.Milliseconds())/n, "ms-first-table")
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
func firstAndLive(b *testing.B, c, admin workshop.Clients, labs []*labfile.Lab, size int) (first, live time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	learner := workshop.LearnerIDs(size)[1]
	ns := workshop.LabNamespace("bench", learner, "pods")
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
	return first, live
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
		b.Fatal(err)
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
