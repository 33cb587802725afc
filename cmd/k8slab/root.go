package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui"
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
		Example: `  k8slab                         open the course
  k8slab lessons                 list the lessons
  k8slab lessons show pods-intro print one lesson
  k8slab --content ./my-course   open a course from a folder`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.runTUI(cmd)
		},
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&g.contentDir, "content", "", "load the course from this folder instead of the built-in one")
	root.Flags().StringVar(&g.tui.kubeconfig, "kubeconfig", "", "kubeconfig the course's labs use (a workshop gives each learner one)")
	root.Flags().StringVar(&g.tui.context, "context", "", "kubeconfig context the course's labs use")
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
		newVersionCmd(g),
	)
	return root
}

// loadCourse loads and validates the course once; every command works from
// the result.
func (g *globals) loadCourse() (*lessons.Course, error) {
	fsys := assets.Course()
	if g.contentDir != "" {
		st, err := os.Stat(g.contentDir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--content %s: not a folder; point it at a folder that holds %s", g.contentDir, lessons.CourseFile)
		}
		fsys = os.DirFS(g.contentDir)
	}
	c, err := lessons.Load(fsys)
	if err != nil {
		where := "the built-in course"
		if g.contentDir != "" {
			where = g.contentDir
		}
		return nil, fmt.Errorf("%s has problems (run 'k8slab lint' to list them):\n%w", where, err)
	}
	return c, nil
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

func (g *globals) runTUI(cmd *cobra.Command) error {
	quietKlog() // client-go must not write over the screen
	if !interactive(g) {
		return errors.New("the course opens in a terminal, and this is not one (or TERM=dumb); " +
			"without one, use 'k8slab lessons show ID' to read and 'k8slab quiz ID --plain' for quizzes")
	}
	course, err := g.loadCourse()
	if err != nil {
		return err
	}
	store, warning, err := g.openStore()
	if err != nil {
		return err
	}
	clusterCfg, err := g.clusterConfig(&clusterFlags{provider: clusterctl.Auto, name: clusterctl.DefaultName})
	if err != nil {
		return err
	}
	labs := &labService{g: g, t: g.tui}
	app := tui.New(tui.Options{
		Course:  course,
		Store:   store,
		NoColor: os.Getenv("NO_COLOR") != "",
		Warning: warning,
		Cluster: clusterctl.NewManager(clusterCfg),
		Labs:    labs,
		Map:     labs,
		Start:   g.start,
	})
	p := tea.NewProgram(app, tea.WithContext(cmd.Context()))
	_, err = p.Run()
	return errors.Join(err, app.Flush())
}
