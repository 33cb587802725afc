package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/internal/textsafe"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/tui/stream"
)

// top is the task list and the line under it.
func (s *labScreen) top() string {
	s.tasks.notGraded = ""
	if s.err != nil && s.busy == "" {
		s.tasks.notGraded = s.unavailable()
	}
	return s.tasks.View() + s.statusLine()
}

// statusLine is the line under the tasks. It wraps: whatever it says, the
// learner needs all of it. Errors come from the cluster or the system and
// are made inert, so that no escape sequence in them reaches the terminal.
func (s *labScreen) statusLine() string {
	st := s.c.styles
	var b strings.Builder
	para := func(text string) {
		b.WriteString(lipgloss.NewStyle().Width(max(20, s.width-1)).PaddingLeft(1).Render(text) + "\n")
	}
	t := s.d.task()
	switch {
	case s.answer.open:
		b.WriteString(" " + s.answer.View() + "\n")
	case s.confirm == confirmReset:
		para(st.Wrong.Render("Reset the lab?") + s.resetPrompt)
	case s.confirm == confirmSolution:
		para(st.Wrong.Render("Show the reference solution?") + " It is marked as seen in your progress. y/n")
	case s.notice != "":
		para(st.Next.Render(s.notice))
	case s.busy != "":
		para(st.Muted.Render(s.busy + "…"))
	case s.actionErr != nil:
		para(st.Wrong.Render("The reset did not finish:") + " " + textsafe.Inert(s.actionErr.Error()) + ". Press R to try again; k8slab cluster status tells whether the cluster is healthy.")
	case s.err != nil:
		para(s.errorText())
	case t != nil && t.Question != nil && s.d.answers[t.ID] == "":
		para(st.Next.Render("Question:") + " " + labfile.ExpandNodePort(t.Question.Prompt, s.d.nodePort()) + st.Muted.Render(" · press a to answer"))
	case t != nil && t.Question != nil:
		para(st.Next.Render("Your answer:") + " " + textsafe.Inert(s.d.answers[t.ID]) + st.Muted.Render(" · press a to change it"))
	case s.done != "":
		para(st.Correct.Render(s.done))
	default:
		para(st.Muted.Render(fmt.Sprintf("%d of %d tasks done · graded live from the cluster", s.tasks.done(), len(s.d.lab.Tasks))))
	}
	if missing := s.d.missing(s.d.lab.Features); missing != "" {
		para(st.Next.Render("Note:") + " a simulated cluster runs no containers, so it cannot show " + missing + "; a kind cluster can.")
	}
	b.WriteString(s.whereLine())
	return b.String()
}

// whereLine names the lab's namespace and the command that points kubectl
// in the learner's own terminal at it: without it, kubectl there works in
// "default" and finds nothing of the lab. The command is shown verbatim,
// on a line of its own when it does not fit beside the namespace.
func (s *labScreen) whereLine() string {
	if s.namespace == "" {
		return ""
	}
	st := s.c.styles
	head := " Namespace " + st.Bold.Render(s.namespace)
	if s.command == "" {
		return head + st.Muted.Render(" · in your terminal use kubectl -n "+s.namespace) + "\n"
	}
	one := head + st.Muted.Render(" · your terminal: ") + s.command
	if lipgloss.Width(one) < s.width {
		return one + "\n"
	}
	lines := lessons.WrapCommand(s.command, s.width-4)
	return head + st.Muted.Render(" · for kubectl in your own terminal:") + "\n   " + strings.Join(lines, "\n   ") + "\n"
}

// errorText says what went wrong and what happens next.
func (s *labScreen) errorText() string {
	st := s.c.styles
	switch {
	case s.noCluster:
		return st.Wrong.Render("No lab cluster is running.") + " Press c to create one; the lab starts when it is ready."
	case errors.Is(s.err, errUnreachable):
		return st.Wrong.Render("Cannot reach the lab cluster.") + " Grading resumes by itself when it answers again."
	case s.streams.Active(stream.Retry):
		text := st.Wrong.Render(textsafe.Inert(s.err.Error())) + fmt.Sprintf(" Trying again by itself in %s; the results come back when the cluster answers.", s.streams.Backoff())
		if s.canCreateCluster {
			text += " Press c to start it."
		}
		return text
	}
	return st.Wrong.Render(textsafe.Inert(s.err.Error()))
}

// unavailable says briefly why tasks are not graded.
func (s *labScreen) unavailable() string {
	if s.noCluster {
		return "no cluster"
	}
	return "cannot reach the cluster"
}

func (s *labScreen) summary() string {
	all := s.c.store.Snapshot()
	data := all.Labs[s.d.lab.ID]
	hints, solutions := 0, 0
	for _, t := range data.Tasks {
		hints += t.HintsUsed
		if t.SolutionSeen {
			solutions++
		}
	}
	help := plural(hints, "hint")
	if solutions > 0 {
		help += " and " + plural(solutions, "solution") + " viewed"
	}
	// The course map's "Next", so the two agree.
	rows := courseRows(s.c.course)
	next := "That completes the course."
	if i := nextOf(s.c.course, all, rows, s.c.lacks); i >= 0 {
		next = "Next: " + rowTitle(s.c.course, rows[i]) + " (esc for the course map)."
		labLeft := slices.ContainsFunc(rows, func(r homeRow) bool {
			return r.kind == labRow && !rowDone(s.c.course, all, r, s.c.lacks) && !elsewhere(s.c.course, r, s.c.lacks)
		})
		if !labLeft {
			next = "That was the last lab of the course. " + next
		}
	}
	// The time runs from the lab's first opening to its last task's pass,
	// both kept in progress, so reopening a finished lab says the same.
	var finished time.Time
	for _, t := range data.Tasks {
		if t.PassedAt.After(finished) {
			finished = t.PassedAt
		}
	}
	took := ""
	if !data.StartedAt.IsZero() && !finished.IsZero() && !finished.Before(data.StartedAt) {
		took = " in " + finished.Sub(data.StartedAt).Round(time.Second).String()
	}
	return fmt.Sprintf("Lab complete%s with %s. Well done! %s", took, help, next)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
