package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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
	"github.com/k8slab/k8slab/tui"
)

func newQuizCmd(g *globals) *cobra.Command {
	var plain bool
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
			store, warning, err := g.openStore()
			if err != nil {
				return err
			}
			if warning != "" {
				fmt.Fprintln(g.err, "k8slab:", warning)
			}
			if plain || !interactive(g) {
				return runPlainQuiz(g.in, g.out, q, store, time.Now)
			}
			app := tui.New(tui.Options{Course: course, Store: store, NoColor: os.Getenv("NO_COLOR") != "",
				Start: progress.Position{Screen: "quiz", ID: q.ID}})
			_, err = tea.NewProgram(app, tea.WithContext(cmd.Context())).Run()
			return errors.Join(err, app.Flush())
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "ask the questions as plain lines of text instead of the full-screen interface")
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

// runPlainQuiz asks a quiz line by line. Stopping early (q or end of input)
// records nothing, so a half-finished attempt never lowers a score.
func runPlainQuiz(in io.Reader, out io.Writer, q *quiz.Quiz, store *progress.Store, now func() time.Time) error {
	data := store.Snapshot()
	attemptNo := len(data.Quizzes[q.ID].Attempts) + 1
	a := quiz.NewAttempt(q, quiz.Seed(data.LearnerID, q.ID, attemptNo))
	lines := bufio.NewScanner(in)

	fmt.Fprintf(out, "%s: %d questions, pass mark %d%%.\n", q.Title, len(q.Questions), q.PassPercent)
	fmt.Fprintln(out, "Type the number of your answer and press Enter. Type q to stop.")
	for i := range q.Questions {
		question := &q.Questions[i]
		fmt.Fprintf(out, "\nQuestion %d of %d (%s)\n%s\n", i+1, len(q.Questions), plainKind(question.Type), strings.TrimSpace(question.Prompt))
		labels := plainChoices(question, a.Order[i])
		for j, l := range labels {
			fmt.Fprintf(out, "  %d) %s\n", j+1, l)
		}
		var ans quiz.Answer
		for {
			fmt.Fprint(out, "Answer: ")
			if !lines.Scan() {
				fmt.Fprintln(out, "\nStopped; nothing was recorded.")
				return lines.Err()
			}
			text := strings.TrimSpace(lines.Text())
			if strings.EqualFold(text, "q") {
				fmt.Fprintln(out, "Stopped; nothing was recorded.")
				return nil
			}
			var problem string
			ans, problem = parsePlainAnswer(question, a.Order[i], text)
			if problem == "" {
				break
			}
			fmt.Fprintln(out, problem)
		}
		if a.Answer(i, ans) {
			fmt.Fprintln(out, "Correct.")
		} else {
			fmt.Fprintf(out, "Not quite. The answer: %s.\n", strings.Join(question.CorrectAnswerText(), "; "))
		}
		fmt.Fprintln(out, strings.TrimSpace(question.Explanation))
	}
	score := a.Score()
	verdict := "Passed"
	if !score.Passed {
		verdict = "Not passed yet; review the lessons and try again"
	}
	fmt.Fprintf(out, "\nScore: %d of %d (%d%%). %s.\n", score.Correct, score.Total, score.Percent, verdict)
	return store.Update(func(d *progress.Data) {
		d.RecordQuiz(q.ID, progress.QuizAttempt{At: now(), Correct: score.Correct, Total: score.Total, Percent: score.Percent, Passed: score.Passed})
	})
}

func plainKind(t quiz.Type) string {
	switch t {
	case quiz.MultipleChoice:
		return "select all that apply: give every number, separated by spaces"
	case quiz.TrueFalse:
		return "true or false"
	case quiz.FreeText:
		return "type the answer"
	}
	return "choose one"
}

func plainChoices(q *quiz.Question, order []int) []string {
	switch q.Type {
	case quiz.TrueFalse:
		return []string{"True", "False"}
	case quiz.FreeText:
		return nil
	}
	out := make([]string, len(order))
	for i, o := range order {
		out[i] = q.Options[o].Text
	}
	return out
}

// parsePlainAnswer turns a typed line into an answer, or says what to type.
func parsePlainAnswer(q *quiz.Question, order []int, text string) (quiz.Answer, string) {
	if text == "" {
		return quiz.Answer{}, "Please type an answer (or q to stop)."
	}
	switch q.Type {
	case quiz.FreeText:
		return quiz.Answer{Text: text}, ""
	case quiz.TrueFalse:
		switch strings.ToLower(text) {
		case "1", "t", "true", "y", "yes":
			v := true
			return quiz.Answer{Bool: &v}, ""
		case "2", "f", "false", "n", "no":
			v := false
			return quiz.Answer{Bool: &v}, ""
		}
		return quiz.Answer{}, "Please type 1 for true or 2 for false."
	}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	retry := fmt.Sprintf("Please type the numbers of every right option, from 1 to %d, separated by spaces.", len(order))
	if q.Type == quiz.SingleChoice {
		retry = fmt.Sprintf("Please type one number from 1 to %d.", len(order))
		if len(fields) != 1 {
			return quiz.Answer{}, retry
		}
	}
	var a quiz.Answer
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > len(order) {
			return quiz.Answer{}, retry
		}
		a.Choices = append(a.Choices, order[n-1])
	}
	return a, ""
}
