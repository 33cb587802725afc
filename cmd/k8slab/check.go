package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/checks/runner"
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
			tasks := strings.Join(lab.TaskIDs(), ", ")
			run := &runner.Check{Lab: lab, Watch: f.watch, UntilDone: f.untilDone, Timeout: f.timeout, Out: g.out, Err: g.err,
				Options: checks.Options{Namespace: g.labNamespace(&f.target, lab), Answers: map[string]string{}}}
			if len(args) == 2 {
				if lab.Task(args[1]) == nil {
					return fmt.Errorf("lab %s has no task %q; its tasks are: %s", lab.ID, args[1], tasks)
				}
				run.Options.Tasks = []string{args[1]}
			}
			for _, a := range f.answers {
				id, val, ok := strings.Cut(a, "=")
				if !ok || lab.Task(id) == nil {
					return fmt.Errorf("--answer %q: use TASK=ANSWER with a task of lab %s (%s)", a, lab.ID, tasks)
				}
				run.Options.Answers[id] = val
			}
			if run.Format, err = report.ParseFormat(f.format); err != nil {
				return err
			}
			if err := run.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, err := g.restConfig(&f.target)
			if err != nil {
				return exitWith(run.NotGraded(checks.Error, "not graded: no cluster to grade against", err.Error()))
			}
			if err := reach(ctx, cfg); err != nil {
				return exitWith(run.NotGraded(checks.Unreachable, "not graded: the cluster could not be reached", err.Error()))
			}
			return exitWith(run.Run(ctx, cfg))
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

// exitWith turns a grading's exit status into the command's.
func exitWith(status int, err error) error {
	if err != nil || status == runner.ExitPassed {
		return err
	}
	return exitCode(status)
}
