package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/checks/runner"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/course/catalog"
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
				return catalog.WriteTasks(g.out, format, lab)
			}
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			return catalog.WriteLabs(g.out, format, course.AllLabs())
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// checkFlags are check's options.
type checkFlags struct {
	target
	format    string
	watch     bool
	untilDone bool
	timeout   time.Duration
	answers   []string
	tasks     string
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
be graded, with the reason in it; json, junit, tap and gradescope also say
the reason once on stderr, so a CI log shows it.

--tasks manifests grades only the tasks that applying manifests completes
(each lab file marks its tasks 'grading: manifests' or 'live'; 'k8slab labs
LAB' shows them): a CI assignment that applies a student's files grades those.
--tasks live grades the others, --tasks ID,ID the tasks named. Every report
lists the tasks left out, with why, and they count in no score. On a
simulated cluster a task that needs what it lacks (a NodePort reachable from
your machine, running containers) is not graded either.

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
  k8slab check three-tier --tasks manifests --until-done -o junit > grade.xml
  k8slab check explore-cluster --answer count-nodes=3
  k8slab check rolling-updates --format gradescope > results.json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			quietKlog()
			lab, err := g.findLab(args[0])
			if err != nil {
				return err
			}
			tasks := strings.Join(lab.TaskIDs(), ", ")
			run := &runner.Check{Lab: lab, Watch: f.watch, UntilDone: f.untilDone, Timeout: f.timeout, Out: g.out, Err: g.err, Start: start,
				Options: checks.Options{Namespace: g.labNamespace(&f.target, lab), Answers: map[string]string{}}}
			only := f.tasks
			if len(args) == 2 {
				if lab.Task(args[1]) == nil {
					return fmt.Errorf("lab %s has no task %q; its tasks are: %s", lab.ID, args[1], tasks)
				}
				if only != "" {
					return fmt.Errorf("give either TASK (%s) or --tasks %s, not both", args[1], only)
				}
				only = args[1]
			}
			// A task needing what the cluster or the learner lacks is not
			// graded: on a simulated cluster typing the expected text
			// would pass it, and a workshop learner cannot do it.
			learner := g.learner(&f.target) != nil
			lacks := g.lacks(&f.target)
			selectTasks := func(lacks []labfile.Feature) ([]string, error) {
				ids, left, err := runner.Select(lab, only, lacks, learner)
				run.Options.Tasks, run.LeftOut = ids, left
				if len(args) == 2 {
					// One task asked for by name: the others are not news.
					run.LeftOut = slices.DeleteFunc(left, func(k report.Skipped) bool { return k.ID != args[1] })
				}
				return ids, err
			}
			ids, err := selectTasks(lacks)
			if err != nil {
				return err
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
			if len(ids) == 0 {
				return exitWith(run.NothingToGrade())
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, err := g.restConfig(&f.target)
			if err != nil {
				return exitWith(run.NotGraded(checks.Error, "not graded: no cluster to grade against", err.Error()))
			}
			if err := clusterctl.Reach(ctx, cfg); err != nil {
				return exitWith(run.NotGraded(checks.Unreachable, "not graded: the cluster could not be reached", err.Error()))
			}
			// Reached through a kubeconfig (a CI job's), the simulator is
			// known by its nodes: say at once what it cannot grade,
			// rather than failing it after the whole --timeout (#22).
			if !g.resolve(&f.target).Simulated() && clusterctl.RunsOnSimulator(ctx, cfg) {
				if ids, _ = selectTasks(append(lacks, labfile.SimulatedClusterLacks...)); len(ids) == 0 {
					return exitWith(run.NothingToGrade())
				}
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
	cmd.Flags().StringVar(&f.tasks, "tasks", "", "grade only these tasks: manifests (what applying manifests completes, for CI), live, or task ids separated by commas")
	return cmd
}

// exitWith turns a grading's exit status into the command's.
func exitWith(status int, err error) error {
	if err != nil || status == runner.ExitPassed {
		return err
	}
	return exitCode(status)
}
