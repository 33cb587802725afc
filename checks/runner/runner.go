// Package runner grades a lab the way 'k8slab check' does: once within a
// time limit, or following the cluster (watch) until every task passes
// (until done) or the time runs out. It decides what is written when, and
// what exit status a result means; the command only parses flags into a
// Check.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// The default time limits: a single grading, and waiting until done.
const (
	DefaultTimeout   = 30 * time.Second
	UntilDoneTimeout = 10 * time.Minute
)

// Exit statuses, the same in every format.
const (
	// ExitPassed: every selected task passes.
	ExitPassed = 0
	// ExitNotDone: some task is not done yet.
	ExitNotDone = 1
	// ExitNotGraded: the lab could not be graded (no cluster, unreachable,
	// forbidden, an error).
	ExitNotGraded = 2
)

// ExitStatus is what r means for a script: ExitNotGraded, ExitNotDone or
// ExitPassed.
func ExitStatus(r report.Report) int {
	switch {
	case r.Problem != "" || r.Broken():
		return ExitNotGraded
	case !r.Passed():
		return ExitNotDone
	}
	return ExitPassed
}

// Check is one grading of a lab and where its results go.
type Check struct {
	Lab     *labfile.Lab
	Options checks.Options
	Format  report.Format
	// Watch grades again whenever the lab's objects change; UntilDone
	// stops once every task passes. Either follows the cluster.
	Watch, UntilDone bool
	// Timeout; 0 means DefaultTimeout for one grading, UntilDoneTimeout
	// with UntilDone, and none with Watch alone.
	Timeout time.Duration
	// Out receives the results; Err the reason the lab could not be
	// graded, once, when the format is for machines (the text on Out
	// says it already).
	Out, Err io.Writer
	// LeftOut are the lab's tasks left out of this run, and why (see
	// Select); every result names them.
	LeftOut []report.Skipped
	// Start is when the run began (the command's start); results report
	// the time since. Zero means when Run is called.
	Start time.Time
}

// Validate refuses what cannot be written: a format holding one result
// cannot take the stream of results Watch writes.
func (c *Check) Validate() error {
	if c.Watch && !c.UntilDone && c.Format.SingleDocument() {
		return fmt.Errorf("--watch --format %s: a %s document holds one result, and --watch writes one per change; "+
			"use --until-done to write the final result once, or --format json for one JSON document per line", c.Format, c.Format)
	}
	return nil
}

// following: the run grades again on changes.
func (c *Check) following() bool { return c.Watch || c.UntilDone }

// streaming: every result is written as it comes (text, and json as
// JSON Lines under Watch); otherwise only the final one is.
func (c *Check) streaming() bool {
	return c.Format == report.Text && c.following() || c.Format == report.JSON && c.Watch
}

// Run grades against the cluster cfg, writes the results and returns the
// exit status; an error only when writing failed.
func (c *Check) Run(ctx context.Context, cfg *rest.Config) (int, error) {
	if c.Start.IsZero() {
		c.Start = time.Now()
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return c.NotGraded(checks.Error, "not graded: no client for the cluster", err.Error())
	}
	engine := checks.NewEngine(client)
	if c.Options.NodePort == 0 {
		ns := c.Options.Namespace
		if ns == "" {
			ns = c.Lab.Namespace
		}
		pctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		port, err := labenv.NodePort(pctx, client, c.Lab, ns)
		cancel()
		if err != nil {
			return c.NotGraded(checks.Unreachable, "not graded: the lab's nodePort could not be read", err.Error())
		}
		c.Options.NodePort = port
	}
	if !c.following() {
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return c.finish(c.report(engine.Evaluate(ctx, c.Lab, c.Options)))
	}
	cache, err := clustercache.NewForConfig(cfg, nil)
	if err != nil {
		return c.NotGraded(checks.Error, "not graded: no client for the cluster", err.Error())
	}
	defer cache.Close()
	timeout := c.Timeout
	if timeout <= 0 && c.UntilDone {
		timeout = UntilDoneTimeout
	}
	return c.follow(ctx, engine, cache, timeout)
}

// NotGraded writes the result of a lab that could not be graded at all
// (see Ungraded) and returns its exit status.
func (c *Check) NotGraded(status checks.Status, note, problem string) (int, error) {
	r := Ungraded(c.Lab, c.Options, status, note, problem)
	r.NotGraded = c.LeftOut
	if !c.Start.IsZero() {
		r.Elapsed = time.Since(c.Start)
	}
	return c.finish(r)
}

// report is one grading as this run writes it.
func (c *Check) report(res checks.LabResult) report.Report {
	r := report.Report{LabResult: res, NotGraded: c.LeftOut}
	if !c.Start.IsZero() {
		r.Elapsed = res.At.Add(res.Duration).Sub(c.Start)
	}
	return r
}

// sayWhy writes, once, why r could not be graded to Err, for formats a
// program reads: a CI log then shows the reason next to exit status 2,
// not only inside the XML or JSON.
func (c *Check) sayWhy(r report.Report) {
	if c.Format == report.Text || c.Err == nil || ExitStatus(r) != ExitNotGraded {
		return
	}
	fmt.Fprintf(c.Err, "k8slab: could not grade lab %s (exit status %d): %s\n", r.Lab, ExitNotGraded, r.Reason())
}

// write writes one result in the form the run uses.
func (c *Check) write(r report.Report) error {
	switch {
	case c.streaming() && c.Format == report.JSON:
		return report.WriteJSONLine(c.Out, r)
	case c.streaming():
		fmt.Fprintf(c.Out, "--- %s\n", r.At.Local().Format("15:04:05"))
	}
	return report.Write(c.Out, c.Format, r)
}

// finish writes the final result and turns it into the exit status.
func (c *Check) finish(r report.Report) (int, error) {
	if err := c.write(r); err != nil {
		return ExitNotGraded, err
	}
	c.sayWhy(r)
	return ExitStatus(r), nil
}

// follow grades on every change until ctx ends (Ctrl-C), the timeout
// runs out, or, with UntilDone, every task passes. The exit status is
// always the last result's: stopping a watch never turns "not done" into
// success.
func (c *Check) follow(ctx context.Context, engine *checks.Engine, cache *clustercache.Cache, timeout time.Duration) (int, error) {
	interrupted := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	opts := c.Options
	opts.Cache = cache
	var last *report.Report
	var writeErr error
	// settled: when each task reached the status it has now.
	settled := map[string]time.Duration{}
	status := map[string]checks.Status{}
	err := engine.Watch(ctx, c.Lab, opts, func(res checks.LabResult) {
		// A grading cut short by the end of the watch is not a result.
		if ctx.Err() != nil {
			return
		}
		r := c.report(res)
		for _, t := range res.Tasks {
			if s, ok := status[t.ID]; !ok || s != t.Status {
				status[t.ID], settled[t.ID] = t.Status, r.Elapsed
			}
		}
		r.Settled = maps.Clone(settled)
		last = &r
		if c.streaming() && writeErr == nil {
			writeErr = c.write(*last)
		}
		if c.UntilDone && res.Passed() {
			cancel()
		}
	})
	if writeErr != nil {
		return ExitNotGraded, writeErr
	}
	timedOut := interrupted.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	if last == nil {
		why := "stopped before the first grading"
		if timedOut {
			why = fmt.Sprintf("no grading finished within --timeout %s", timeout)
		}
		if err != nil {
			why = err.Error()
		}
		return c.NotGraded(checks.Error, "not graded", why)
	}
	if !c.streaming() {
		// The final document's time is the whole wait.
		last.Elapsed = time.Since(c.Start)
		if werr := report.Write(c.Out, c.Format, *last); werr != nil {
			return ExitNotGraded, werr
		}
	} else if timedOut && c.Format == report.Text {
		fmt.Fprintf(c.Out, "Stopped after --timeout %s: %s.\n", timeout, report.Verdict(*last))
	}
	if err != nil {
		fmt.Fprintln(c.Err, "k8slab:", err)
		return ExitNotGraded, nil
	}
	c.sayWhy(*last)
	return ExitStatus(*last), nil
}

// The values of --tasks that choose tasks by how they are graded.
const (
	OnlyManifests = string(labfile.GradedFromManifests)
	OnlyLive      = string(labfile.GradedLive)
)

// Select chooses the tasks of lab a run grades. only is what --tasks
// gave: "" for every task, "manifests" or "live" for the tasks marked so,
// or task ids separated by commas. lacks are the features the cluster
// does not have (labfile.SimulatedClusterLacks on a simulated one) or the
// learner cannot use (labfile.WorkshopLearnerLacks for a workshop
// learner, who is one): a task that needs one is never graded, since it
// could pass only by luck or by typing the expected answer. Every task
// left out comes back in left, with why.
func Select(lab *labfile.Lab, only string, lacks []labfile.Feature, learner bool) (ids []string, left []report.Skipped, err error) {
	want := func(t *labfile.Task) (bool, string) { return true, "" }
	switch only {
	case "":
	case OnlyManifests, OnlyLive:
		if !lab.MarksGrading() {
			return nil, nil, fmt.Errorf("--tasks %s: lab %s does not say which tasks applying manifests completes (its tasks have no 'grading'); name the tasks instead, --tasks %s",
				only, lab.ID, strings.Join(lab.TaskIDs(), ","))
		}
		want = func(t *labfile.Task) (bool, string) {
			switch {
			case string(t.Grading) == only:
				return true, ""
			case only == OnlyManifests:
				return false, "it needs actions on the live cluster (grading: live), and --tasks manifests grades only what applying manifests completes"
			}
			return false, "applying manifests completes it (grading: manifests), and --tasks live grades only the others"
		}
	default:
		named := strings.Split(only, ",")
		for i, id := range named {
			named[i] = strings.TrimSpace(id)
			if lab.Task(named[i]) == nil {
				return nil, nil, fmt.Errorf("--tasks %q: lab %s has no task %q; give manifests, live, or task ids separated by commas from: %s",
					only, lab.ID, named[i], strings.Join(lab.TaskIDs(), ", "))
			}
		}
		want = func(t *labfile.Task) (bool, string) {
			return slices.Contains(named, t.ID), "not among --tasks " + only
		}
	}
	for i := range lab.Tasks {
		t := &lab.Tasks[i]
		ok, why := want(t)
		if missing := lab.Lacking(t, lacks); ok && len(missing) > 0 {
			var needs []string
			for _, f := range missing {
				needs = append(needs, f.Describe())
			}
			ok, why = false, "it needs "+strings.Join(needs, " and ")+", which a simulated cluster lacks: it is graded on a kind cluster only"
			if learner && !slices.ContainsFunc(missing, func(f labfile.Feature) bool { return !slices.Contains(labfile.WorkshopLearnerLacks, f) }) {
				why = "it needs " + strings.Join(needs, " and ") + ", which a workshop learner does not have: your instructor shows it, and it is not graded for you"
			}
		}
		if ok {
			ids = append(ids, t.ID)
			continue
		}
		left = append(left, report.Skipped{ID: t.ID, Title: t.Title, Points: t.Points, Reason: why})
	}
	return ids, left, nil
}

// NothingToGrade writes the result of a run that left every task out
// (see Select): nothing was graded, which is not a pass.
func (c *Check) NothingToGrade() (int, error) {
	ns := c.Lab.Namespace
	if c.Options.Namespace != "" {
		ns = c.Options.Namespace
	}
	var why []string
	for _, k := range c.LeftOut {
		why = append(why, k.ID+": "+k.Reason)
	}
	r := report.Report{LabResult: checks.LabResult{Lab: c.Lab.ID, Title: c.Lab.Title, Namespace: ns, At: time.Now().UTC()},
		NotGraded: c.LeftOut, Problem: "no task of lab " + c.Lab.ID + " is left to grade: " + strings.Join(why, "; ")}
	if !c.Start.IsZero() {
		r.Elapsed = time.Since(c.Start)
	}
	return c.finish(r)
}

// Ungraded is the result when the lab could not be graded at all: every
// selected task is marked with status and a short note, and problem (said
// once, at the top) tells why.
func Ungraded(lab *labfile.Lab, opts checks.Options, status checks.Status, note, problem string) report.Report {
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	r := checks.LabResult{Lab: lab.ID, Title: lab.Title, Namespace: ns, At: time.Now().UTC()}
	for _, t := range lab.Tasks {
		if len(opts.Tasks) > 0 && !slices.Contains(opts.Tasks, t.ID) {
			continue
		}
		r.Tasks = append(r.Tasks, checks.TaskResult{ID: t.ID, Title: t.Title, Status: status, MaxPoints: t.Points,
			Checks: []checks.CheckResult{{Name: "cluster", Status: status, Messages: []string{note}}}})
		r.MaxScore += t.Points
	}
	return report.Report{LabResult: r, Problem: problem}
}
