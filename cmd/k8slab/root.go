package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labsession"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui"
	"github.com/k8slab/k8slab/workshop"
)

// globals are the flags every command shares.
type globals struct {
	contentDir string
	stateDir   string
	// start opens the TUI on a screen other than home ('lab open').
	start progress.Position
	// tui is the cluster the course's labs use (a workshop learner's
	// kubeconfig, for one).
	tui target

	in       io.Reader
	out, err io.Writer
}

func newRootCmd(in io.Reader, out, errOut io.Writer) *cobra.Command {
	g := &globals{in: in, out: out, err: errOut}
	root := &cobra.Command{
		Use:   "k8slab",
		Short: "Learn Kubernetes in your terminal",
		Long: `k8slab is an interactive Kubernetes course in your terminal: short lessons,
quizzes with explanations, and hands-on labs checked against a live cluster.

Run it with no arguments to open the course. Your progress is saved as you go
(see 'k8slab progress'), so you can stop and come back at any time.`,
		Example: `  k8slab                              open the course
  k8slab lessons                      list the lessons
  k8slab lessons show control-plane   print one lesson
  k8slab --content ./my-course        open a course from a folder`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runTUI(cmd)
		},
	}
	// Flag descriptions wrap at 80 columns instead of running off the
	// edge of a narrow terminal.
	root.SetUsageTemplate(strings.NewReplacer(
		".LocalFlags.FlagUsages", ".LocalFlags.FlagUsagesWrapped 80",
		".InheritedFlags.FlagUsages", ".InheritedFlags.FlagUsagesWrapped 80",
	).Replace(root.UsageTemplate()))
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&g.contentDir, "content", "", "load the course from this folder instead of the built-in one")
	// Persistent, so that 'k8slab --kubeconfig FILE lab open LAB' works as
	// the help says; a command with a --kubeconfig of its own (check, lab
	// start) takes the value into its own, whichever side it is written.
	root.PersistentFlags().StringVar(&g.tui.kubeconfig, "kubeconfig", "", "kubeconfig the course's labs use (a workshop gives each learner one)")
	root.PersistentFlags().StringVar(&g.tui.context, "context", "", "kubeconfig context the course's labs use")
	root.PersistentFlags().StringVar(&g.stateDir, "state-dir", "", "keep progress here (default $XDG_STATE_HOME/k8slab or ~/.local/state/k8slab)")
	root.AddCommand(
		newLessonsCmd(g),
		newQuizCmd(g),
		newLintCmd(g),
		newClusterCmd(g),
		newLabsCmd(g),
		newCheckCmd(g),
		newLabCmd(g),
		newWorkshopCmd(g),
		newProgressCmd(g),
		newExamCmd(g),
		newVersionCmd(g),
	)
	// Groups of commands (lab, cluster) show their help when run alone,
	// and a mistyped subcommand gets suggestions rather than that help.
	for _, c := range root.Commands() {
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = unknownCommand
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
	}
	// Descriptions are wrapped when help is shown, not on every start.
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		wrapLong(c)
		help(c, args)
	})
	return root
}

// wrapLong wraps a command's description at 80 columns, so that no help
// text runs off a narrow terminal whoever wrote it.
func wrapLong(c *cobra.Command) {
	lines := strings.Split(c.Long, "\n")
	for i, l := range lines {
		lines[i] = ansi.Wordwrap(l, 80, "")
	}
	c.Long = strings.Join(lines, "\n")
}

// unknownCommand rejects words that name no command, suggesting those one
// or two edits away or that the word begins (chek → check, lesson →
// lessons). (cobra suggests only when the root takes no action of its
// own; this root opens the course.)
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return fmt.Errorf("%s\n\nRun '%s --help' for the commands", msg, cmd.CommandPath())
}

// loadCourse loads and validates the course once; every command works from
// the result.
func (g *globals) loadCourse(opts ...course.Option) (*course.Course, error) {
	fsys, where, err := g.courseFS()
	if err != nil {
		return nil, err
	}
	c, err := course.Load(fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s has problems (run 'k8slab lint' to list them):\n%w", where, err)
	}
	return c, nil
}

// courseFS is the built-in course, or the --content folder, and how to
// name it in errors.
func (g *globals) courseFS() (fs.FS, string, error) {
	if g.contentDir == "" {
		return assets.Course(), "the built-in course", nil
	}
	st, err := os.Stat(g.contentDir)
	if err != nil || !st.IsDir() {
		return nil, "", fmt.Errorf("--content %s: not a folder; point it at a folder that holds %s", g.contentDir, course.CourseFile)
	}
	return os.DirFS(g.contentDir), g.contentDir, nil
}

// stateDirectory is where k8slab keeps progress, kubeconfigs and the record
// of clusters it created.
func (g *globals) stateDirectory() (string, error) {
	if g.stateDir != "" {
		return g.stateDir, nil
	}
	return progress.DefaultDir()
}

func (g *globals) openStore() (*progress.Store, string, error) {
	dir, err := g.stateDirectory()
	if err != nil {
		return nil, "", err
	}
	return progress.Open(dir)
}

// openStoreWarned opens the progress store for a command that prints, and
// says on stderr what opening it warned of (a damaged file set aside).
func (g *globals) openStoreWarned() (*progress.Store, error) {
	store, warning, err := g.openStore()
	if err == nil && warning != "" {
		fmt.Fprintln(g.err, "k8slab:", warning)
	}
	return store, err
}

// tuiMemoryLimit is a soft limit on the TUI's Go memory. Most of its heap
// is transient (an informer's first list, rendered frames), and the
// default collector lets the heap grow to twice what is live before it
// runs; near this limit it collects sooner instead, which keeps a laptop's
// memory for the cluster. It is soft: a bigger live heap is still served.
// GOMEMLIMIT, when set, wins.
//
// With the cluster map open on 300 pods about 11 MB is live once the
// lists are in, so the collector has room under 28 MiB; the binary's own
// pages are some 30 MB of the resident set, which no limit touches.
// BenchmarkLabMap300Pods (medians of 15): peak RSS 56.7 MB at 28 MiB,
// 63.8 MB without a limit. On a namespace that had seen more churn, 32
// MiB peaked at 62 MB and 40 MiB at 67 MB; 24 MiB saved 0.5 MB more than
// 28 for more collections.
const tuiMemoryLimit = 28 << 20

// commandLine is a k8slab command with the global flags this run was given
// (course, cluster, state folder), so it acts on what this run does.
func commandLine(root *cobra.Command, args ...string) string {
	words := append([]string{"k8slab"}, args...)
	root.PersistentFlags().Visit(func(f *pflag.Flag) {
		words = append(words, "--"+f.Name+"="+shellQuote(f.Value.String()))
	})
	return strings.Join(words, " ")
}

func (g *globals) runTUI(cmd *cobra.Command) error {
	quietKlog() // client-go must not write over the screen
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(tuiMemoryLimit)
	}
	if !interactive(g) {
		return errors.New("the course opens in a terminal, and this is not one (or TERM=dumb); " +
			"without one, use 'k8slab lessons show ID' to read and 'k8slab quiz ID --plain' for quizzes")
	}
	opts := []course.Option{course.CompileLabsLazily()}
	if g.contentDir == "" {
		// The built-in course is proven whole by the tests; a --content
		// one is read whole, so that all its problems show at once.
		opts = append(opts, course.DeferQuizzes())
	}
	loaded, err := g.loadCourse(opts...)
	if err != nil {
		return err
	}
	store, warning, err := g.openStore()
	if err != nil {
		return err
	}
	state, err := g.stateDirectory()
	if err != nil {
		return err
	}
	t := g.tui
	var revive sync.Once
	resolve := func() clusterctl.Target {
		tg := g.resolve(&t)
		// After a reboot, the first lab action brings k8slab's simulated
		// cluster back, as any other command that needs it does.
		revive.Do(func() { g.reviveRecorded(tg) })
		return tg
	}
	sessionOpts := labsession.Options{Namespace: func(lab *labfile.Lab) string { return g.labNamespace(&t, lab) }}
	learner := g.learner(&t) != nil
	sessionOpts.Reset = workshop.ResetFor(learner)
	if learner {
		sessionOpts.Lacks = labfile.WorkshopLearnerLacks
	}
	labs := labsession.New(resolve, state, sessionOpts)
	app := tui.New(tui.Options{
		Course:  loaded,
		Store:   store,
		NoColor: os.Getenv("NO_COLOR") != "",
		Warning: warning,
		Cluster: clusterctl.NewManager(g.resolve(&t).Config),
		Labs:    labs,
		Map:     labs,
		// The same cluster and course as this TUI, so the namespace
		// and cluster the command picks are the lab screen's.
		TerminalCommand: func(lab *labfile.Lab) string {
			return `eval "$(` + commandLine(cmd.Root(), "cluster", "env", "--lab", lab.ID) + `)"`
		},
		Workshop: learner,
		Start:    g.start,
		// Cluster calls end with the program, on quit or on a signal.
		Context: cmd.Context(),
	})
	p := tea.NewProgram(app, tea.WithContext(cmd.Context()))
	_, err = p.Run()
	return errors.Join(err, app.Flush())
}
