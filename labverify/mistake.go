package labverify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// mistakes makes every mistake of every task, Config.Jobs at a time,
// and reports their failures in the lab's order whatever order they end
// in.
func (v *verifier) mistakes(ctx context.Context) {
	type job struct {
		i        int
		m        labfile.Mistake
		nodePort bool
	}
	var jobs []job
	for i, task := range v.tasks {
		if task.Question != nil {
			continue
		}
		for _, m := range task.Mistakes {
			jobs = append(jobs, job{i, m, v.mayHoldNodePort(i, m)})
		}
	}
	n := v.cfg.Jobs
	if n < 1 || v.nodes != nil || labenv.ClusterScopedSetupShared(v.lab) {
		n = 1
	}
	v.progress("every mistake fails with its message (%d at a time)", min(n, max(len(jobs), 1)))
	// The mistakes that may hold a nodePort go one after the other in a
	// single slot, started first as together they are likely the longest.
	var chains [][]int
	var held []int
	for k, j := range jobs {
		if j.nodePort && n > 1 {
			held = append(held, k)
		} else {
			chains = append(chains, []int{k})
		}
	}
	if len(held) > 0 {
		chains = append([][]int{held}, chains...)
	}
	results := make([][]Failure, len(jobs))
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, chain := range chains {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			for _, k := range chain {
				results[k] = v.mistake(ctx, jobs[k].i, jobs[k].m)
			}
		}()
	}
	wg.Wait()
	for _, fs := range results {
		v.rep.Failures = append(v.rep.Failures, fs...)
	}
}

// mayHoldNodePort says whether mistake m of task i may make a Service
// with a nodePort: its steps, the earlier tasks' solutions or the lab's
// setup mention one. Such mistakes are made one at a time, as a nodePort
// is unique in the whole cluster.
func (v *verifier) mayHoldNodePort(i int, m labfile.Mistake) bool {
	texts := []string{v.lab.Setup}
	for _, prev := range v.tasks[:i] {
		for _, st := range prev.Solution {
			texts = append(texts, st.Run, st.Apply)
		}
	}
	for _, st := range m.Steps {
		texts = append(texts, st.Run, st.Apply)
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), "nodeport") || strings.Contains(t, labfile.NodePortPlaceholder) {
			return true
		}
	}
	return false
}

// mistake makes mistake m of task i after the earlier tasks' solutions and
// requires a failure that says what m promises; it returns the failures.
func (v *verifier) mistake(ctx context.Context, i int, m labfile.Mistake) (failures []Failure) {
	task := v.tasks[i]
	// Where a proof's time goes, mistake by mistake.
	start := time.Now()
	defer func() {
		v.progress("mistake %q of task %s took %s", m.Name, task.ID, time.Since(start).Round(time.Second))
	}()
	fail := func(taskID, msg string) {
		failures = append(failures, Failure{Lab: v.lab.ID, Task: taskID, Mistake: m.Name, Phase: "mistake", Message: msg})
	}
	for _, prev := range v.tasks[:i] {
		if v.isUnsolved(prev.ID) {
			return nil // reported once already, as the solution failure
		}
	}
	r, err := v.fresh(ctx)
	if err != nil {
		fail(task.ID, err.Error())
		return failures
	}
	defer v.drop(ctx, r.ns)
	for _, prev := range v.tasks[:i] {
		if _, err := r.solve(ctx, prev); err != nil {
			fail(prev.ID, "preparing the mistake: "+err.Error())
			v.markUnsolved(prev.ID)
			return failures
		}
	}
	if err := r.steps(ctx, m.Steps); err != nil {
		fail(task.ID, "a step of the mistake failed: "+err.Error())
		return failures
	}
	// The mistake is proven once its message shows and nothing beyond its
	// requirement fails. Waiting for both, not the message alone, matters
	// on a loaded machine: the message may show before a controller has
	// written what another check grades from (an Event, a status), and
	// that check's failure then is not the mistake's doing.
	want := labfile.ExpandNodePort(m.Expect, r.port)
	var last checks.TaskResult
	var others []string
	caught := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, v.cfg.MistakeTimeout, true, func(context.Context) (bool, error) {
		last = r.evaluate(ctx, task, "") // ctx: see solve
		if last.Status == checks.Pass || !hasMessage(last, want) {
			return false, nil
		}
		others = brokenBeyond(task, m, last)
		return len(others) == 0, nil
	}) == nil
	if caught {
		return failures
	}
	if last.Status != checks.Pass && len(others) > 0 && hasMessage(last, want) {
		fail(task.ID, fmt.Sprintf("breaks more than requirement %q: check %s failed too; a requirement's mistake must break it alone, or the requirement must list those checks",
			m.Breaks, strings.Join(others, ", ")))
		return failures
	}
	if last.Status == checks.Pass {
		fail(task.ID, "the checks accept this mistake")
		return failures
	}
	fail(task.ID, fmt.Sprintf("want a failure saying %q, got %s", want, describe(last)))
	return failures
}
