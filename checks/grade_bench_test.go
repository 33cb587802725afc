package checks_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

// gradeScript does what shell-based lab platforms do to grade the
// deployments lab: one kubectl call per check, each reading one field with
// jsonpath (or asking rollout status). cmd/k8slab's BenchmarkGradeWholeProcess
// runs it too, as a whole process.
const gradeScript = "../bench/grade-deployments.sh"

// kubectlCalls counts the kubectl calls the script makes per grading.
func kubectlCalls(b *testing.B) int {
	src, err := os.ReadFile(gradeScript)
	if err != nil {
		b.Fatal(err)
	}
	return strings.Count(string(src), "$(k ") + strings.Count(string(src), "\nk ")
}

func deploymentsLab(b *testing.B) *labfile.Lab {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		b.Fatal(err)
	}
	lab, ok := builtIn.Lab("deployments")
	if !ok {
		b.Fatal("no deployments lab")
	}
	return lab
}

// BenchmarkGradeLab grades the solved deployments lab on one simulated
// cluster, side by side: k8slab's engine against the kubectl-jsonpath
// script a shell-based grader would run. ratio = script time / engine time.
func BenchmarkGradeLab(b *testing.B) {
	lc := startLabCluster(b)
	lab := deploymentsLab(b)
	p := lc.fresh(b, lab)
	for i := range lab.Tasks {
		p.solve(b, &lab.Tasks[i])
	}
	calls := kubectlCalls(b)
	var engineTime, scriptTime time.Duration
	requests := 0
	for b.Loop() {
		start := time.Now()
		res := checks.NewEngine(lc.client).Evaluate(context.Background(), lab, checks.Options{Namespace: p.ns})
		engineTime += time.Since(start)
		if !res.Passed() {
			b.Fatalf("solved lab does not pass: %+v", res)
		}
		requests = res.APIRequests

		start = time.Now()
		cmd := exec.Command("sh", gradeScript, p.ns)
		cmd.Env = append(cmd.Environ(), "KUBECONFIG="+p.kube)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("grading script: %v\n%s", err, out)
		}
		scriptTime += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(engineTime.Microseconds())/n/1000, "ms-k8slab")
	b.ReportMetric(float64(scriptTime.Microseconds())/n/1000, "ms-kubectl-script")
	b.ReportMetric(float64(scriptTime)/float64(engineTime), "ratio")
	b.ReportMetric(float64(requests), "api-requests/grading")
	b.ReportMetric(float64(calls), "kubectl-calls/grading")
}

// BenchmarkWatchReaction measures, in --watch mode, the time from a
// 'kubectl scale' returning to the scale task's result flipping.
func BenchmarkWatchReaction(b *testing.B) {
	lc := startLabCluster(b)
	lab := deploymentsLab(b)
	p := lc.fresh(b, lab)
	for i := range lab.Tasks[:2] {
		p.solve(b, &lab.Tasks[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan checks.LabResult, 16)
	cache, err := clustercache.NewForConfig(lc.cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	go func() {
		_ = checks.NewEngine(lc.client).Watch(ctx, lab, checks.Options{Namespace: p.ns, Tasks: []string{"scale-up"}, Cache: cache}, func(r checks.LabResult) {
			results <- r
		})
	}()
	waitStatus := func(want checks.Status) {
		deadline := time.After(60 * time.Second)
		for {
			select {
			case r := <-results:
				if r.Tasks[0].Status == want {
					return
				}
			case <-deadline:
				b.Fatalf("watch never reported %s", want)
			}
		}
	}
	waitStatus(checks.Pass)
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		replicas, want := "4", checks.Fail
		if i%2 == 1 {
			replicas, want = "5", checks.Pass
		}
		cmd := exec.Command("kubectl", "scale", "deployment/web", "--replicas="+replicas)
		cmd.Env = append(cmd.Environ(), "KUBECONFIG="+p.kube)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kubectl scale: %v\n%s", err, out)
		}
		start := time.Now()
		waitStatus(want)
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-scale-to-flip")
}
