package main

import (
	"errors"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz/plain"
	"github.com/k8slab/k8slab/tui"
)

func newQuizCmd(g *globals) *cobra.Command {
	var plainText bool
	cmd := &cobra.Command{
		Use:   "quiz ID",
		Short: "Take a module's quiz",
		Long: `Take a quiz. It opens in the full-screen interface, or with --plain (or when
the terminal cannot show it) as plain lines of text that work with screen
readers and simple terminals: each question is printed, and you type the
number of your answer, or the answer itself. The result is saved to your
progress. A quiz is named by its module's number in 'k8slab lessons', or by
its id (the module's id).`,
		Example: `  k8slab quiz 2
  k8slab quiz architecture --plain`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			q, err := course.FindQuiz(args[0])
			if err != nil {
				return err
			}
			store, err := g.openStoreWarned()
			if err != nil {
				return err
			}
			if plainText || !interactive(g) {
				return plain.Run(g.in, g.out, q, store, time.Now)
			}
			app := tui.New(tui.Options{Course: course, Store: store, NoColor: os.Getenv("NO_COLOR") != "",
				Start: progress.Position{Screen: "quiz", ID: q.ID}})
			_, err = tea.NewProgram(app, tea.WithContext(cmd.Context())).Run()
			return errors.Join(err, app.Flush())
		},
	}
	cmd.Flags().BoolVar(&plainText, "plain", false, "ask the questions as plain lines of text instead of the full-screen interface")
	return cmd
}

// interactive reports whether the full-screen interface can run.
func interactive(g *globals) bool {
	in, ok1 := g.in.(*os.File)
	out, ok2 := g.out.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd()) && os.Getenv("TERM") != "dumb"
}
