package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// The yardsticks, kept in the repository so that they can be run by hand.
var (
	gradeScript    = filepath.Join("..", "..", "bench", "grade-deployments.sh")
	chainsawAssert = filepath.Join("..", "..", "bench", "chainsaw", "deployments-assert.yaml")
)

// chainsawVersion is the chainsaw the figures in issue 9 were taken with;
// 'make bench-tools' builds it into chainsawBin's folder.
const chainsawVersion = "v0.2.12"

// chainsawBin finds chainsaw: $K8SLAB_CHAINSAW, else where 'make
// bench-tools' puts it, else on PATH. "" when there is none.
func chainsawBin() string {
	if p := os.Getenv("K8SLAB_CHAINSAW"); p != "" {
		return p
	}
	if cache, err := clusterctl.DefaultCacheDir(); err == nil {
		p := filepath.Join(cache, "bench", "bin", "chainsaw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("chainsaw")
	return p
}

// solvedLab starts a simulated cluster, solves the deployments lab with
// the binary, and waits until 'k8slab check' passes. It returns the
// environment every graded command runs with: the cluster's kubeconfig and
// a state folder of its own.
func solvedLab(b *testing.B, bin string) []string {
	b.Helper()
	p, _ := clustertest.Start(b, "k8slab-bench")
	env := append(os.Environ(), "KUBECONFIG="+p.KubeconfigPath(), "XDG_STATE_HOME="+b.TempDir())
	solve := exec.Command(bin, "lab", "solve", "deployments")
	solve.Env = env
	if out, err := solve.CombinedOutput(); err != nil {
		b.Fatalf("lab solve: %v\n%s", err, out)
	}
	// The last task needs its replacement pod to be ready.
	deadline := time.Now().Add(90 * time.Second)
	for {
		check := exec.Command(bin, "check", "deployments")
		check.Env = env
		out, err := check.CombinedOutput()
		if err == nil {
			return env
		}
		if time.Now().After(deadline) {
			b.Fatalf("the solved lab does not pass: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// BenchmarkGradeWholeProcess grades the solved deployments lab on one
// simulated cluster as whole processes, side by side: 'k8slab check', the
// kubectl-jsonpath script a shell-based grader runs (bench/
// grade-deployments.sh), 'chainsaw assert' of the same checks, and
// 'k8slab version' as the floor of any k8slab command. Each iteration runs
// all of them, in an order that rotates, so that a noisy neighbour slows
// all alike. It reports medians, and how many times the yardsticks take
// longer than k8slab (the goal: 10 for the script, 4 for chainsaw). With
// $K8SLAB_BENCH_BASE it grades with that binary too, in the same rotation,
// and reports how many times k8slab's check takes as long as the base's.
func BenchmarkGradeWholeProcess(b *testing.B) {
	bin := releaseBinary(b)
	env := solvedLab(b, bin)
	type contender struct {
		name string
		run  func() sample
		runs series
	}
	contenders := []*contender{
		{name: "k8slab-check", run: func() sample { return runProcess(b, env, bin, "check", "deployments") }},
		{name: "kubectl-script", run: func() sample { return runProcess(b, env, "sh", gradeScript, "lab-deployments") }},
		{name: "k8slab-version", run: func() sample { return runProcess(b, env, bin, "version") }},
	}
	if base := baseBinary(); base != "" {
		contenders = append(contenders, &contender{name: "base-check", run: func() sample { return runProcess(b, env, base, "check", "deployments") }})
	}
	if cs := chainsawBin(); cs == "" {
		b.Logf("chainsaw not found, so its column is left out: 'make bench-tools' builds chainsaw %s (it needs the Go module proxy), or set K8SLAB_CHAINSAW", chainsawVersion)
	} else {
		contenders = append(contenders, &contender{name: "chainsaw", run: func() sample {
			return runProcess(b, env, cs, "assert", "--file", chainsawAssert, "--namespace", "lab-deployments", "--timeout", "5s")
		}})
	}
	// One unmeasured round warms kubectl's discovery cache and the page
	// cache, as on any machine that has graded before.
	for _, c := range contenders {
		c.run()
	}
	for i := 0; b.Loop(); i++ {
		for j := range contenders {
			c := contenders[(i+j)%len(contenders)]
			c.runs = append(c.runs, c.run())
		}
	}
	byName := map[string]series{}
	for _, c := range contenders {
		byName[c.name] = c.runs
		b.ReportMetric(c.runs.medianMS(), "ms-"+c.name)
		b.ReportMetric(c.runs.medianMB(), "MB-"+c.name)
	}
	check := byName["k8slab-check"].medianMS()
	b.ReportMetric(byName["kubectl-script"].medianMS()/check, "x-script/check")
	if base, ok := byName["base-check"]; ok {
		b.ReportMetric(check/base.medianMS(), "x-check/base-check")
	}
	if cs, ok := byName["chainsaw"]; ok {
		b.ReportMetric(cs.medianMS()/check, "x-chainsaw/check")
	}
}
