package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labsession"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui"
	"github.com/k8slab/k8slab/workshop"
)

type examFlags struct {
	target
	labs     string
	tasks    int
	limit    time.Duration
	seed     int64
	allow    string
	headless bool
	until    string
	format   string
	last     bool
	// ws is set for a workshop learner, whose exam the instructor set
	// (k8slab workshop exam): its clock began at start.
	ws    *workshop.Marker
	start time.Time
}

// namespace is where lab runs in the exam: exam-<lab>, or the learner's
// own exam namespace in a workshop.
func (f *examFlags) namespace(lab *labfile.Lab) string {
	if f.ws != nil {
		return workshop.ExamNamespace(f.ws.Workshop, f.ws.Learner, lab.ID)
	}
	return exam.Namespace(lab)
}

func newExamCmd(g *globals) *cobra.Command {
	var f examFlags
	cmd := &cobra.Command{
		Use:   "exam",
		Short: "Take a timed practice exam made of lab tasks",
		Long: `Take a timed practice exam: k8slab picks --tasks tasks from the chosen labs
(weighted by their points), starts each lab afresh in a namespace of its own
(exam-<lab>), and shows a clock. There are no hints, no solutions and no
cluster map unless --allow says so; tasks are graded in the background, and
you see the grades when you finish (F) or when time runs out. The result is
saved in your progress, with the lessons to review.

In a workshop (a learner's kubeconfig), the exam is the one the instructor
set with 'k8slab workshop exam': its tasks, its clock, in your own exam
namespaces; --labs, --tasks, --time and --seed are the instructor's.
Running it again resumes it.

This is practice, not proctoring: nothing stops a determined learner from
reading the course files. While an exam runs, 'k8slab lab solve' and the
course's solution key refuse (unless --force).

A lab's tasks build on each other, so an exam takes each lab's tasks from its
first one on: it never asks a task without the tasks before it. Question
tasks are left out, and on a simulated cluster so is every task from the first
one that needs what it lacks.

The seed is printed; --seed gives the same exam again.

--headless runs the exam without a screen, for CI: it prints the tasks, grades
until every task passed (--until done) or until time runs out (--until
timeout), and writes the result in --format. Exit status as 'k8slab check':
0 every task passed, 1 some did not, 2 some could not be graded.

--last writes the last finished exam from your progress in --format (text,
json, junit or gradescope) without starting anything.`,
		Example: `  k8slab exam
  k8slab exam --labs deployments,services --tasks 4 --time 30m
  k8slab exam --seed 1234 --allow hints,live
  k8slab exam --headless --until done --time 10m --format junit > exam.xml
  k8slab exam --last --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietKlog()
			format, err := exam.ParseFormat(f.format)
			if err != nil {
				return err
			}
			loaded, err := g.loadCourse()
			if err != nil {
				return err
			}
			review := exam.ReviewFrom(loaded)
			if f.last {
				return g.lastExam(loaded, review, format)
			}
			plan, err := g.examPlan(cmd, &f, loaded)
			if err != nil {
				return err
			}
			store, _, err := g.openStore()
			if err != nil {
				return err
			}
			save := func(r exam.Result) error {
				return store.Update(func(d *progress.Data) { d.FinishExam(r.Record()) })
			}
			if f.headless {
				return g.headlessExam(cmd, &f, plan, format, review, save)
			}
			if f.until != "" || cmd.Flags().Changed("format") {
				return errors.New("--until and --format go with --headless (or --format with --last); the exam on screen shows its result itself")
			}
			allow, err := parseAllow(f.allow)
			if err != nil {
				return err
			}
			return g.examTUI(cmd, &f, loaded, store, plan, allow)
		},
	}
	f.target.flags(cmd)
	_ = cmd.Flags().MarkHidden("namespace") // each lab runs in exam-<lab>
	cmd.Flags().StringVar(&f.labs, "labs", "", "labs to pick tasks from, separated by commas (default: every lab)")
	cmd.Flags().IntVar(&f.tasks, "tasks", 5, "how many tasks the exam asks")
	cmd.Flags().DurationVar(&f.limit, "time", 60*time.Minute, "how long the exam lasts")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "pick the same tasks in the same order as an earlier exam (default: a new seed, printed)")
	cmd.Flags().StringVar(&f.allow, "allow", "", "what the exam screen may show: hints, map, live (✓ as tasks pass), separated by commas")
	cmd.Flags().BoolVar(&f.headless, "headless", false, "run without a screen (for CI)")
	cmd.Flags().StringVar(&f.until, "until", "", "with --headless: done (stop once every task passed) or timeout (run the whole --time)")
	cmd.Flags().StringVarP(&f.format, "format", "o", "text", "with --headless or --last: text, json, junit or gradescope")
	cmd.Flags().BoolVar(&f.last, "last", false, "write the last finished exam from your progress, and start nothing")
	return cmd
}

// pickLabs are the labs --labs names, or every lab of the course.
// examPlan picks the exam's tasks, or reads the one a workshop's
// instructor set.
func (g *globals) examPlan(cmd *cobra.Command, f *examFlags, loaded *course.Course) (exam.Plan, error) {
	if m := g.learner(&f.target); m != nil {
		for _, name := range []string{"labs", "tasks", "time", "seed"} {
			if cmd.Flags().Changed(name) {
				return exam.Plan{}, fmt.Errorf("--%s: in workshop %s the instructor sets the exam; run 'k8slab exam' without it", name, m.Workshop)
			}
		}
		plan, start, limit, err := g.learnerExam(cmd.Context(), &f.target, m, loaded)
		f.ws, f.start, f.limit = m, start, limit
		return plan, err
	}
	labs, err := pickLabs(loaded, f.labs)
	if err != nil {
		return exam.Plan{}, err
	}
	if f.limit <= 0 {
		return exam.Plan{}, fmt.Errorf("--time %s: give the exam some time, e.g. --time 60m", f.limit)
	}
	if !cmd.Flags().Changed("seed") {
		var b [4]byte
		_, _ = rand.Read(b[:])
		f.seed = int64(binary.BigEndian.Uint32(b[:]) % 1000000)
	}
	return exam.Pick(labs, f.tasks, f.seed, g.lacks(&f.target))
}

func pickLabs(c *course.Course, ids string) ([]*labfile.Lab, error) {
	if ids == "" {
		return c.AllLabs(), nil
	}
	var labs []*labfile.Lab
	for _, id := range strings.Split(ids, ",") {
		lab, ok := c.Lab(strings.TrimSpace(id))
		if !ok {
			var all []string
			for _, l := range c.AllLabs() {
				all = append(all, l.ID)
			}
			return nil, fmt.Errorf("--labs %s: no lab %q; the labs are: %s", ids, id, strings.Join(all, ", "))
		}
		labs = append(labs, lab)
	}
	return labs, nil
}

func parseAllow(s string) (tui.ExamAllow, error) {
	var a tui.ExamAllow
	for _, w := range strings.Split(s, ",") {
		switch strings.TrimSpace(w) {
		case "":
		case "hints":
			a.Hints = true
		case "map":
			a.Map = true
		case "live":
			a.Live = true
		default:
			return a, fmt.Errorf("--allow %q: use hints, map and live, separated by commas", s)
		}
	}
	return a, nil
}

func (g *globals) lastExam(c *course.Course, review func(*labfile.Lab) []exam.Lesson, format report.Format) error {
	store, _, err := g.openStore()
	if err != nil {
		return err
	}
	d := store.Snapshot()
	if len(d.Exams) == 0 {
		return errors.New("no finished exam in your progress yet; take one with 'k8slab exam'")
	}
	find := func(id string) *labfile.Lab { l, _ := c.Lab(id); return l }
	return exam.Write(g.out, format, exam.FromRecord(d.Exams[len(d.Exams)-1], find, review))
}

func (g *globals) headlessExam(cmd *cobra.Command, f *examFlags, plan exam.Plan, format report.Format, review func(*labfile.Lab) []exam.Lesson, save func(exam.Result) error) error {
	if f.until != "done" && f.until != "timeout" {
		return fmt.Errorf("--headless needs --until done (stop once every task passed) or --until timeout (run the whole --time)")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := g.restConfig(&f.target)
	if err != nil {
		return err
	}
	if err := clusterctl.Reach(ctx, cfg); err != nil {
		return err
	}
	h := &exam.Headless{Plan: plan, Limit: f.limit, UntilDone: f.until == "done", Format: format, Out: g.out, Review: review, Save: save,
		Namespace: f.namespace, Prepared: f.ws != nil, Start: f.start}
	if format == "text" && f.ws == nil {
		fmt.Fprintf(g.out, "Seed %d (take the same exam again with --seed %d).\n", plan.Seed, plan.Seed)
	}
	return exitWith(h.Run(ctx, cfg))
}

func (g *globals) examTUI(cmd *cobra.Command, f *examFlags, loaded *course.Course, store *progress.Store, plan exam.Plan, allow tui.ExamAllow) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(tuiMemoryLimit)
	}
	if !interactive(g) {
		return errors.New("the exam opens in a terminal, and this is not one (or TERM=dumb); for CI use 'k8slab exam --headless --until done'")
	}
	state, err := g.stateDirectory()
	if err != nil {
		return err
	}
	t := f.target
	resolve := func() clusterctl.Target { return g.resolve(&t) }
	opts := labsession.Options{Namespace: f.namespace}
	if f.ws != nil {
		// The instructor set the labs up; starting the exam screen
		// again resumes the learner's work.
		opts.Reset = func(context.Context, dynamic.Interface, *labfile.Lab, string) error { return nil }
	}
	labs := labsession.New(resolve, state, opts)
	app := tui.NewExam(tui.ExamOptions{
		Course: loaded, Store: store, Plan: plan, Limit: f.limit, Allow: allow, Start: f.start, Namespace: f.namespace,
		Labs: labs, Map: labs, NoColor: os.Getenv("NO_COLOR") != "", Context: cmd.Context(),
		// The learner's own terminal reaches the cluster; each task names
		// its namespace (t opens a shell already in it).
		TerminalCommand: `eval "$(` + clusterEnvCommand(cmd) + `)"`,
	})
	p := tea.NewProgram(app, tea.WithContext(cmd.Context()))
	_, err = p.Run()
	err = errors.Join(err, app.Flush())
	if r, ok := app.Result(); ok {
		fmt.Fprintf(g.out, "Practice exam (seed %d): %d/%d. 'k8slab exam --last --format junit' exports it; %s.\n", r.Seed, r.Score, r.MaxScore, r.Again())
	}
	return err
}

// refuseDuringExam keeps what shows or applies a solution ('what') from
// running while a practice exam is, unless force.
func (g *globals) refuseDuringExam(what string, force bool) error {
	if force {
		return nil
	}
	store, _, err := g.openStore()
	if err != nil {
		return nil // no progress, so no exam either
	}
	d := store.Snapshot()
	if m := d.RunningExam(time.Now()); m != nil {
		return fmt.Errorf("a practice exam is running (seed %d, until %s), so %s refuses until it ends; it is practice, not proctoring: pass --force if you mean it",
			m.Seed, m.Deadline.Local().Format("15:04"), what)
	}
	return nil
}

// clusterEnvCommand points a second terminal at the cluster this exam
// grades on. The exam's own --kubeconfig and --context (a workshop learner
// passes theirs) shadow the root's flags of the same name, so commandLine
// does not see them and they are added here; without them a learner's
// terminal would get the kubeconfig of a cluster k8slab made, not theirs.
func clusterEnvCommand(cmd *cobra.Command) string {
	line := commandLine(cmd.Root(), "cluster", "env")
	for _, name := range []string{"kubeconfig", "context"} {
		if f := cmd.LocalFlags().Lookup(name); f != nil && f.Changed {
			line += " --" + name + "=" + shellQuote(f.Value.String())
		}
	}
	return line
}
