package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
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
			q, err := findQuiz(course, args[0])
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

// findQuiz finds a quiz by its module's number (as 'k8slab lessons'
// numbers them) or by its id.
func findQuiz(c *course.Course, arg string) (*quiz.Quiz, error) {
	if q, ok := c.Quiz(arg); ok {
		return q, nil
	}
	if n, err := strconv.Atoi(arg); err == nil && n >= 1 && n <= len(c.Modules) {
		m := c.Modules[n-1]
		if m.Quiz == nil {
			return nil, fmt.Errorf("module %d (%s) has no quiz; the quizzes are: %s", n, m.Title, quizList(c))
		}
		return m.Quiz, nil
	}
	return nil, fmt.Errorf("no quiz %q; the quizzes are, by module number and id: %s", arg, quizList(c))
}

func quizList(c *course.Course) string {
	var ids []string
	for i, m := range c.Modules {
		if m.Quiz != nil {
			ids = append(ids, fmt.Sprintf("%d %s", i+1, m.Quiz.ID))
		}
	}
	return strings.Join(ids, ", ")
}

// interactive reports whether the full-screen interface can run.
func interactive(g *globals) bool {
	in, ok1 := g.in.(*os.File)
	out, ok2 := g.out.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd()) && os.Getenv("TERM") != "dumb"
}
