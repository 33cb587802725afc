package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/labfile"
)

// quietKlog keeps client-go's own logging off stderr: graders such as
// GitHub Classroom fail a test on any stderr output.
func quietKlog() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}

func (g *globals) findLab(id string) (*labfile.Lab, error) {
	fsys, where, err := g.courseFS()
	if err != nil {
		return nil, err
	}
	lab, err := course.LoadLab(fsys, id)
	var ps source.Problems
	if errors.As(err, &ps) {
		return nil, fmt.Errorf("%s has problems (run 'k8slab lint' to list them):\n%w", where, err)
	}
	return lab, err
}

func newLabsCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "labs [LAB]",
		Short: "List the hands-on labs, or one lab's tasks",
		Long: `List the hands-on labs. Given a lab id, list that lab's tasks with their ids:
the TASK that 'k8slab check LAB TASK' and '--answer TASK=ANSWER' take.`,
		Example: `  k8slab labs
  k8slab labs deployments`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: use text or json", format)
			}
			if len(args) == 1 {
				lab, err := g.findLab(args[0])
				if err != nil {
					return err
				}
				return writeLabTasks(g.out, format, lab)
			}
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			type labInfo struct {
				ID        string   `json:"id"`
				Title     string   `json:"title"`
				Module    string   `json:"module"`
				Namespace string   `json:"namespace"`
				Tasks     int      `json:"tasks"`
				TaskIDs   []string `json:"taskIds"`
				Points    int      `json:"points"`
				Features  []string `json:"features"`
			}
			var labs []labInfo
			for _, l := range course.AllLabs() {
				info := labInfo{ID: l.ID, Title: l.Title, Module: l.Module, Namespace: l.Namespace, Tasks: len(l.Tasks), Features: []string{}}
				for _, t := range l.Tasks {
					info.Points += t.Points
					info.TaskIDs = append(info.TaskIDs, t.ID)
				}
				for _, f := range l.Features {
					info.Features = append(info.Features, string(f))
				}
				labs = append(labs, info)
			}
			if format == "json" {
				enc := json.NewEncoder(g.out)
				enc.SetIndent("", "  ")
				return enc.Encode(labs)
			}
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTITLE\tMODULE\tTASKS\tFEATURES")
			for _, l := range labs {
				features := strings.Join(l.Features, ",")
				if features == "" {
					features = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", l.ID, l.Title, l.Module, l.Tasks, features)
			}
			fmt.Fprintln(tw, "\n'k8slab labs LAB' lists a lab's tasks and their ids.")
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// writeLabTasks lists one lab's tasks with the ids check takes.
func writeLabTasks(w io.Writer, format string, lab *labfile.Lab) error {
	type taskInfo struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Points   int    `json:"points"`
		Question bool   `json:"question"`
	}
	var tasks []taskInfo
	for _, t := range lab.Tasks {
		tasks = append(tasks, taskInfo{ID: t.ID, Title: t.Title, Points: t.Points, Question: t.Question != nil})
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(tasks)
	}
	fmt.Fprintf(w, "%s (lab %s, namespace %s)\n\n", lab.Title, lab.ID, lab.Namespace)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tTITLE\tPOINTS\tKIND")
	for _, t := range tasks {
		kind := "cluster state"
		if t.Question {
			kind = "question (--answer " + t.ID + "=...)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.ID, t.Title, t.Points, kind)
	}
	return tw.Flush()
}

// checkFlags are check's options.
type checkFlags struct {
	target
	format    string
	watch     bool
	untilDone bool
	timeout   time.Duration
	answers   []string
}

// The default time limits: a single grading, and waiting with --until-done.
const (
	checkTimeout     = 30 * time.Second
	untilDoneTimeout = 10 * time.Minute
)

func newCheckCmd(g *globals) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check LAB [TASK]",
		Short: "Grade a lab against the live cluster",
		Long: `Grade a lab (or one of its tasks) by reading the live Kubernetes API. It never
reads your local progress: what counts is what the cluster holds. 'k8slab labs
LAB' lists a lab's task ids.

Exit status: 0 when every task passes, 1 when some are not done yet, 2 when
the lab could not be graded (no kubeconfig, cluster unreachable, access
forbidden, bad arguments). On a normal pass or fail nothing is written to
stderr. Every format writes a complete document even when the lab could not
be graded, with the reason in it.

Formats: text, json, junit, tap, and gradescope (Gradescope's results.json).
Each counts one test per task; a task's checks are its detail.

--watch grades again whenever the lab's objects change. Text prints each new
result under a '---' line with the time; json prints one complete JSON
document per line (JSON Lines). junit, tap and gradescope hold a single
result, so --watch refuses them: use --until-done.

--until-done watches until every task passes (exit 0) or --timeout runs out
(exit 1, or 2 if some task could not be graded), then writes the final result
once in the chosen format; text also shows each change on the way. Ctrl-C (or
SIGTERM) ends --watch and --until-done with the status of the last result.`,
		Example: `  k8slab check deployments
  k8slab check deployments scale-up --watch
  k8slab check deployments --until-done --timeout 5m -o junit > report.xml
  k8slab check explore-cluster --answer count-nodes=3
  k8slab check rolling-updates --format gradescope > results.json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			lab, err := g.findLab(args[0])
			if err != nil {
				return err
			}
			opts := checks.Options{Namespace: g.labNamespace(&f.target, lab), Answers: map[string]string{}}
			if len(args) == 2 {
				if !hasTask(lab, args[1]) {
					return fmt.Errorf("lab %s has no task %q; its tasks are: %s", lab.ID, args[1], taskIDs(lab))
				}
				opts.Tasks = []string{args[1]}
			}
			for _, a := range f.answers {
				id, val, ok := strings.Cut(a, "=")
				if !ok || !hasTask(lab, id) {
					return fmt.Errorf("--answer %q: use TASK=ANSWER with a task of lab %s (%s)", a, lab.ID, taskIDs(lab))
				}
				opts.Answers[id] = val
			}
			format, err := report.ParseFormat(f.format)
			if err != nil {
				return err
			}
			if f.watch && !f.untilDone && format.SingleDocument() {
				return fmt.Errorf("--watch --format %s: a %s document holds one result, and --watch writes one per change; "+
					"use --until-done to write the final result once, or --format json for one JSON document per line", format, format)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			run := &checkRun{g: g, lab: lab, opts: opts, format: format, watching: f.watch || f.untilDone}
			run.stream = format == report.Text && run.watching || format == report.JSON && f.watch

			cfg, err := g.restConfig(&f.target)
			if err != nil {
				return run.finish(run.ungraded(checks.Error, "not graded: no cluster to grade against", err.Error()))
			}
			if err := reach(ctx, cfg); err != nil {
				return run.finish(run.ungraded(checks.Unreachable, "not graded: the cluster could not be reached", err.Error()))
			}
			client, err := dynamic.NewForConfig(cfg)
			if err != nil {
				return err
			}
			engine := checks.NewEngine(client)
			if !run.watching {
				timeout := f.timeout
				if timeout <= 0 {
					timeout = checkTimeout
				}
				ctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				return run.finish(report.Report{LabResult: engine.Evaluate(ctx, lab, opts)})
			}
			timeout := f.timeout
			if timeout <= 0 && f.untilDone {
				timeout = untilDoneTimeout
			}
			return run.watch(ctx, engine, f.untilDone, timeout)
		},
	}
	f.target.flags(cmd)
	cmd.Flags().StringVarP(&f.format, "format", "o", "text", "text, json, junit, tap or gradescope")
	cmd.Flags().BoolVarP(&f.watch, "watch", "w", false, "keep checking and write the result whenever it changes")
	cmd.Flags().BoolVar(&f.untilDone, "until-done", false, "keep checking until every task passes or --timeout runs out, then write the final result")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "give up after this long (default 30s for one grading, 10m with --until-done, none with --watch)")
	cmd.Flags().StringArrayVar(&f.answers, "answer", nil, "answer to a question task, as TASK=ANSWER (repeatable)")
	return cmd
}

// checkRun writes one check command's results.
type checkRun struct {
	g      *globals
	lab    *labfile.Lab
	opts   checks.Options
	format report.Format
	// watching: --watch or --until-done.
	watching bool
	// stream: every result is written as it comes (text, and json as
	// JSON Lines under --watch); otherwise only the final one is.
	stream bool
}

// write writes one result in the form the run uses.
func (c *checkRun) write(r report.Report) error {
	switch {
	case c.stream && c.format == report.JSON:
		return report.WriteJSONLine(c.g.out, r)
	case c.stream:
		fmt.Fprintf(c.g.out, "--- %s\n", r.At.Local().Format("15:04:05"))
	}
	return report.Write(c.g.out, c.format, r)
}

// finish writes the final result and turns it into the exit status.
func (c *checkRun) finish(r report.Report) error {
	if err := c.write(r); err != nil {
		return err
	}
	return exitStatus(r)
}

func exitStatus(r report.Report) error {
	switch {
	case r.Problem != "" || r.Broken():
		return exitCode(2)
	case !r.Passed():
		return exitCode(1)
	}
	return nil
}

// watch grades on every change until ctx ends (Ctrl-C), the timeout runs
// out, or, with untilDone, every task passes. The exit status is always the
// last result's: stopping a watch never turns "not done" into success.
func (c *checkRun) watch(ctx context.Context, engine *checks.Engine, untilDone bool, timeout time.Duration) error {
	interrupted := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var last *report.Report
	var writeErr error
	err := engine.Watch(ctx, c.lab, c.opts, func(res checks.LabResult) {
		// A grading cut short by the end of the watch is not a result.
		if ctx.Err() != nil {
			return
		}
		last = &report.Report{LabResult: res}
		if c.stream && writeErr == nil {
			writeErr = c.write(*last)
		}
		if untilDone && res.Passed() {
			cancel()
		}
	})
	if writeErr != nil {
		return writeErr
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
		return c.finish(c.ungraded(checks.Error, "not graded", why))
	}
	if !c.stream {
		if werr := report.Write(c.g.out, c.format, *last); werr != nil {
			return werr
		}
	} else if timedOut && c.format == report.Text {
		fmt.Fprintf(c.g.out, "Stopped after --timeout %s: %s.\n", timeout, report.Verdict(*last))
	}
	if err != nil {
		fmt.Fprintln(c.g.err, "k8slab:", err)
		return exitCode(2)
	}
	return exitStatus(*last)
}

// ungraded is the result when the lab could not be graded at all: every
// selected task is marked with status and a short note, and problem (said
// once, at the top) tells why.
func (c *checkRun) ungraded(status checks.Status, note, problem string) report.Report {
	ns := c.lab.Namespace
	if c.opts.Namespace != "" {
		ns = c.opts.Namespace
	}
	r := checks.LabResult{Lab: c.lab.ID, Title: c.lab.Title, Namespace: ns, At: time.Now().UTC()}
	for _, t := range c.lab.Tasks {
		if len(c.opts.Tasks) > 0 && !slices.Contains(c.opts.Tasks, t.ID) {
			continue
		}
		r.Tasks = append(r.Tasks, checks.TaskResult{ID: t.ID, Title: t.Title, Status: status, MaxPoints: t.Points,
			Checks: []checks.CheckResult{{Name: "cluster", Status: status, Messages: []string{note}}}})
		r.MaxScore += t.Points
	}
	return report.Report{LabResult: r, Problem: problem}
}

func hasTask(lab *labfile.Lab, id string) bool {
	for _, t := range lab.Tasks {
		if t.ID == id {
			return true
		}
	}
	return false
}

func taskIDs(lab *labfile.Lab) string {
	var ids []string
	for _, t := range lab.Tasks {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, ", ")
}
