// Package plain asks a quiz as plain lines of text, for screen readers,
// simple terminals and pipes: the one front end besides the full-screen
// interface.
package plain

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
)

// Run asks quiz q line by line on in and out and records the result in
// store. Stopping early (q or end of input)
// records nothing, so a half-finished attempt never lowers a score.
func Run(in io.Reader, out io.Writer, q *quiz.Quiz, store *progress.Store, now func() time.Time) error {
	data := store.Snapshot()
	attemptNo := len(data.Quizzes[q.ID].Attempts) + 1
	a := quiz.NewAttempt(q, quiz.Seed(data.LearnerID, q.ID, attemptNo))
	lines := bufio.NewScanner(in)

	fmt.Fprintf(out, "%s: %d questions, pass mark %d%%.\n", q.Title, len(q.Questions), q.PassPercent)
	fmt.Fprintln(out, "Type the number of your answer and press Enter. Type q to stop.")
	for i := range q.Questions {
		question := &q.Questions[i]
		fmt.Fprintf(out, "\nQuestion %d of %d (%s)\n%s\n", i+1, len(q.Questions), kindHint(question.Type), strings.TrimSpace(question.Prompt))
		labels := choices(question, a.Order[i])
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
			ans, problem = parseAnswer(question, a.Order[i], text)
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

func kindHint(t quiz.Type) string {
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

func choices(q *quiz.Question, order []int) []string {
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

// parseAnswer turns a typed line into an answer, or says what to type.
func parseAnswer(q *quiz.Question, order []int, text string) (quiz.Answer, string) {
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
