package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/quiz"
)

// quizScreen runs one attempt at a quiz: a question at a time, immediate
// feedback with the explanation, then the score.
type quizScreen struct {
	c             *common
	width, height int

	attempt *quiz.Attempt
	current int
	// cursor is the focused option in display order.
	cursor int
	// chosen marks options (in display order) ticked in a multiple-choice
	// question.
	chosen map[int]bool
	input  answerBox
	phase  quizPhase
	lastOK bool
	// confirmLeave is set after one "back" mid-quiz; a second one leaves.
	confirmLeave bool
	// notice explains why a key did nothing, until the next key.
	notice   string
	finished quiz.Score
}

type quizPhase int

const (
	asking quizPhase = iota
	feedback
	finished
)

func newQuizScreen(c *common) *quizScreen {
	return &quizScreen{c: c, input: newAnswerBox("› ", "type your answer", 200)}
}

// start begins a new attempt; the shuffle depends on the learner and on how
// many attempts they made before.
func (s *quizScreen) start(q *quiz.Quiz, data progress.Data) tea.Cmd {
	n := len(data.Quizzes[q.ID].Attempts) + 1
	s.attempt = quiz.NewAttempt(q, quiz.Seed(data.LearnerID, q.ID, n))
	s.current = 0
	s.phase = asking
	s.confirmLeave = false
	return s.resetQuestion()
}

func (s *quizScreen) question() *quiz.Question { return &s.attempt.Quiz.Questions[s.current] }

func (s *quizScreen) resetQuestion() tea.Cmd {
	s.cursor = 0
	s.chosen = map[int]bool{}
	s.input.Reset()
	if s.phase == asking && s.question().Type == quiz.FreeText {
		return s.input.Focus()
	}
	s.input.Blur()
	return nil
}

// choices are the labels in display order.
func (s *quizScreen) choices() []string {
	q := s.question()
	if q.Type == quiz.TrueFalse {
		return []string{"True", "False"}
	}
	out := make([]string, 0, len(q.Options))
	for _, i := range s.attempt.Order[s.current] {
		out = append(out, q.Options[i].Text)
	}
	return out
}

func (s *quizScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.input.SetWidth(max(10, min(w, 80)-6))
}

func (s *quizScreen) Typing() bool {
	return s.phase == asking && s.question().Type == quiz.FreeText
}

func (s *quizScreen) Update(msg tea.Msg) tea.Cmd {
	if s.attempt == nil {
		return nil
	}
	km, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		if s.Typing() {
			return s.input.Update(msg) // e.g. a bracketed paste
		}
		return nil
	}
	k := s.c.keys
	back := k.Back
	if s.Typing() {
		back = k.Cancel // Backspace edits the answer
	}
	if s.phase != finished && key.Matches(km, back) {
		if s.confirmLeave || (s.current == 0 && s.phase == asking) {
			return navigate(goHomeMsg{})
		}
		s.confirmLeave = true
		return nil
	}
	s.confirmLeave = false
	s.notice = ""
	switch s.phase {
	case asking:
		return s.updateAsking(km)
	case feedback:
		if key.Matches(km, k.Continue) {
			return s.advance()
		}
	case finished:
		switch {
		case key.Matches(km, k.Retake):
			data := s.c.store.Snapshot()
			return s.start(s.attempt.Quiz, data)
		case key.Matches(km, k.Back), key.Matches(km, k.Continue):
			return navigate(goHomeMsg{})
		}
	}
	return nil
}

func (s *quizScreen) updateAsking(km tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	q := s.question()
	if q.Type == quiz.FreeText {
		if key.Matches(km, k.Submit) {
			if strings.TrimSpace(s.input.Value()) == "" {
				return nil
			}
			return s.submit(quiz.Answer{Text: s.input.Value()})
		}
		return s.input.Update(km)
	}
	n := len(s.choices())
	switch {
	case key.Matches(km, k.Up):
		s.cursor = (s.cursor + n - 1) % n
	case key.Matches(km, k.Down):
		s.cursor = (s.cursor + 1) % n
	case q.Type == quiz.MultipleChoice && key.Matches(km, k.Toggle):
		s.chosen[s.cursor] = !s.chosen[s.cursor]
	case key.Matches(km, k.Submit):
		if q.Type == quiz.MultipleChoice {
			if !slices.Contains(mapValues(s.chosen), true) {
				// Submitting the focused option would guess for the
				// learner; say what to do instead.
				s.notice = "Nothing ticked yet: tick each right option with space or its letter, then press enter."
				return nil
			}
			return s.submit(s.answerFromChosen())
		}
		return s.submit(s.answerFor(s.cursor))
	default:
		// A letter picks the option it labels. Letters rather than digits,
		// because options are often numbers themselves ("1", "3") and a
		// digit would then be ambiguous.
		if i, ok := optionIndex(km, n); ok {
			s.cursor = i
			if q.Type == quiz.MultipleChoice {
				s.chosen[i] = !s.chosen[i]
				return nil
			}
			return s.submit(s.answerFor(i))
		}
	}
	return nil
}

// maxLetterOptions keeps option letters clear of the quiz's other keys
// (j, k, q, x): a to i.
const maxLetterOptions = 9

func optionLetter(i int) string { return string(rune('a' + i)) }

// optionIndex is the option a key press's letter labels, if any.
func optionIndex(km tea.KeyPressMsg, n int) (int, bool) {
	if len(km.Text) != 1 || km.Mod&^tea.ModShift != 0 {
		return 0, false
	}
	i := int(km.Text[0]) - 'a'
	return i, i >= 0 && i < min(n, maxLetterOptions)
}

func mapValues(m map[int]bool) []bool {
	out := make([]bool, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (s *quizScreen) answerFor(display int) quiz.Answer {
	if s.question().Type == quiz.TrueFalse {
		v := display == 0
		return quiz.Answer{Bool: &v}
	}
	return quiz.Answer{Choices: []int{s.attempt.Order[s.current][display]}}
}

func (s *quizScreen) answerFromChosen() quiz.Answer {
	var a quiz.Answer
	for display, on := range s.chosen {
		if on {
			a.Choices = append(a.Choices, s.attempt.Order[s.current][display])
		}
	}
	return a
}

func (s *quizScreen) submit(a quiz.Answer) tea.Cmd {
	if s.question().Type == quiz.MultipleChoice {
		// Keep the ticks on screen with the feedback.
		s.chosen = map[int]bool{}
		for _, c := range a.Choices {
			s.chosen[slices.Index(s.attempt.Order[s.current], c)] = true
		}
	}
	s.lastOK = s.attempt.Answer(s.current, a)
	s.phase = feedback
	s.input.Blur()
	return nil
}

func (s *quizScreen) advance() tea.Cmd {
	if s.current+1 < len(s.attempt.Quiz.Questions) {
		s.current++
		s.phase = asking
		return s.resetQuestion()
	}
	s.phase = finished
	s.finished = s.attempt.Score()
	id, score, at := s.attempt.Quiz.ID, s.finished, s.c.now()
	return s.c.saveProgress(func(d *progress.Data) {
		d.RecordQuiz(id, progress.QuizAttempt{At: at, Correct: score.Correct, Total: score.Total, Percent: score.Percent, Passed: score.Passed})
	})
}

func (s *quizScreen) Title() string {
	if s.attempt == nil {
		return ""
	}
	return s.attempt.Quiz.Title
}

func (s *quizScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.attempt == nil:
		return nil
	case s.phase == finished:
		return []key.Binding{k.Retake, k.Back, k.Quit}
	case s.phase == feedback:
		return []key.Binding{k.Continue, k.Back, k.Quit}
	case s.question().Type == quiz.FreeText:
		return []key.Binding{k.Submit, k.Cancel, k.ForceQuit}
	case s.question().Type == quiz.MultipleChoice:
		return []key.Binding{s.pickKey("tick"), k.Up, k.Down, k.Toggle, k.Submit, k.Back, k.Quit}
	}
	return []key.Binding{s.pickKey("answer"), k.Up, k.Down, k.Submit, k.Back, k.Quit}
}

// ShortHelpLines adds the cheat sheet and glossary, which work whenever
// no answer is being typed.
func (s *quizScreen) ShortHelpLines() [][]key.Binding {
	lines := [][]key.Binding{s.ShortHelp()}
	if s.attempt != nil && !s.Typing() {
		lines = append(lines, []key.Binding{s.c.keys.CheatSheet, s.c.keys.Glossary})
	}
	return lines
}

func (s *quizScreen) FullHelp() [][]key.Binding { return s.ShortHelpLines() }

func (s *quizScreen) View() string {
	if s.attempt == nil {
		return ""
	}
	st := s.c.styles
	width := min(s.width, 80) - 2
	wrap := lipgloss.NewStyle().Width(width).PaddingLeft(1)
	if s.phase == finished {
		return s.scoreView(wrap)
	}
	q := s.question()
	var b strings.Builder
	total := len(s.attempt.Quiz.Questions)
	kind := map[quiz.Type]string{
		quiz.SingleChoice:   "choose one",
		quiz.MultipleChoice: "select all that apply",
		quiz.TrueFalse:      "true or false",
		quiz.FreeText:       "type the answer",
	}[q.Type]
	b.WriteString(st.Muted.Render(fmt.Sprintf(" Question %d of %d · %s", s.current+1, total, kind)))
	b.WriteString("\n\n")
	b.WriteString(wrap.Inherit(st.Prompt).Render(strings.TrimSpace(q.Prompt)))
	b.WriteString("\n\n")

	if q.Type == quiz.FreeText {
		if s.phase == asking {
			b.WriteString(" " + s.input.View())
		} else {
			b.WriteString(" › " + s.attempt.Answers[s.current].Text)
		}
	} else {
		b.WriteString(s.optionsView(width))
	}

	if s.notice != "" {
		b.WriteString("\n\n" + wrap.Inherit(st.Next).Render(s.notice))
	}
	if s.confirmLeave {
		b.WriteString("\n\n " + st.Wrong.Render("Leave the quiz?") + " Your answers so far will not be saved. Press esc again to leave.")
	}
	if s.phase == feedback {
		b.WriteString("\n\n")
		if s.lastOK {
			b.WriteString(" " + st.Correct.Render("✓ Correct."))
		} else {
			answer := strings.Join(q.CorrectAnswerText(), "; ")
			if q.Type == quiz.FreeText {
				// A typed answer is often a command or a name: shown
				// verbatim on its own line, never re-wrapped.
				b.WriteString(" " + st.Wrong.Render("✗ Not quite.") + " The answer:\n   " + st.Bold.Render(answer))
			} else {
				// Prose wraps, so the right answer is never cut at the
				// window's edge.
				b.WriteString(wrap.Render(st.Wrong.Render("✗ Not quite.") + " The answer: " + st.Bold.Render(answer)))
			}
		}
		b.WriteString("\n\n")
		b.WriteString(wrap.Inherit(st.Explanation).Render(strings.TrimSpace(q.Explanation)))
	}
	return b.String()
}

func (s *quizScreen) optionsView(width int) string {
	st := s.c.styles
	q := s.question()
	var lines []string
	for i, text := range s.choices() {
		marker := optionLetter(i) + ")"
		if i >= maxLetterOptions {
			marker = "  "
		}
		if q.Type == quiz.MultipleChoice {
			box := "[ ]"
			if s.chosen[i] {
				box = "[x]"
			}
			marker += " " + box
		}
		style := st.Option
		cursor := "  "
		if s.phase == asking && i == s.cursor {
			style, cursor = st.OptionFocus, st.OptionFocus.Render("›")+" "
		}
		suffix := ""
		if s.phase == feedback {
			right := s.choiceCorrect(i)
			picked := s.picked(i)
			switch {
			case right:
				suffix = " " + st.Correct.Render("✓")
			case picked:
				suffix = " " + st.Wrong.Render("✗")
			}
			if picked {
				cursor = "› "
			}
		}
		label := lipgloss.Wrap(text, width-8, "")
		label = strings.ReplaceAll(label, "\n", "\n"+strings.Repeat(" ", 4+len(marker)))
		lines = append(lines, " "+cursor+marker+" "+style.Render(label)+suffix)
	}
	return strings.Join(lines, "\n")
}

func (s *quizScreen) choiceCorrect(display int) bool {
	q := s.question()
	if q.Type == quiz.TrueFalse {
		return q.Answer != nil && *q.Answer == (display == 0)
	}
	return q.Options[s.attempt.Order[s.current][display]].Correct
}

func (s *quizScreen) picked(display int) bool {
	a := s.attempt.Answers[s.current]
	if a == nil {
		return false
	}
	if s.question().Type == quiz.TrueFalse {
		return a.Bool != nil && *a.Bool == (display == 0)
	}
	return slices.Contains(a.Choices, s.attempt.Order[s.current][display])
}

func (s *quizScreen) scoreView(wrap lipgloss.Style) string {
	st := s.c.styles
	sc := s.finished
	var b strings.Builder
	b.WriteString(fmt.Sprintf(" You answered %d of %d correctly: %s\n\n", sc.Correct, sc.Total, st.Bold.Render(fmt.Sprintf("%d%%", sc.Percent))))
	if sc.Passed {
		b.WriteString(" " + st.Correct.Render("Passed.") + fmt.Sprintf(" The pass mark is %d%%.", s.attempt.Quiz.PassPercent))
	} else {
		b.WriteString(wrap.Render(st.Wrong.Render("Not passed yet.") + fmt.Sprintf(" The pass mark is %d%%. %s, then retake it.", s.attempt.Quiz.PassPercent, s.reviewAdvice())))
	}
	b.WriteString("\n\n")
	for i, q := range s.attempt.Quiz.Questions {
		mark := st.Correct.Render("✓")
		if a := s.attempt.Answers[i]; a == nil || !q.Correct(*a) {
			mark = st.Wrong.Render("✗")
		}
		b.WriteString(" " + mark + " " + truncate(strings.TrimSpace(q.Prompt), max(10, s.width-6)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// pickKey describes the option letters for the help bar.
func (s *quizScreen) pickKey(what string) key.Binding {
	n := min(len(s.choices()), maxLetterOptions)
	letters := make([]string, n)
	for i := range letters {
		letters[i] = optionLetter(i)
	}
	return key.NewBinding(key.WithKeys(letters...), key.WithHelp("a-"+letters[n-1], what))
}

// reviewAdvice names the lessons behind the questions missed: the lesson a
// question names, else every lesson of the quiz's module.
func (s *quizScreen) reviewAdvice() string {
	var module *course.Module
	for _, m := range s.c.course.Modules {
		if m.Quiz == s.attempt.Quiz {
			module = m
		}
	}
	var titles []string
	all := false
	for i, q := range s.attempt.Quiz.Questions {
		if a := s.attempt.Answers[i]; a != nil && q.Correct(*a) {
			continue
		}
		l, ok := s.c.course.Lesson(q.Lesson)
		if q.Lesson == "" || !ok {
			all = true
			continue
		}
		if t := "“" + l.Title + "”"; !slices.Contains(titles, t) {
			titles = append(titles, t)
		}
	}
	if all && module != nil {
		titles = titles[:0]
		for _, l := range module.Lessons {
			titles = append(titles, "“"+l.Title+"”")
		}
	}
	switch len(titles) {
	case 0:
		return "Review the lessons"
	case 1:
		return "Review " + titles[0]
	}
	return "Review " + strings.Join(titles[:len(titles)-1], ", ") + " and " + titles[len(titles)-1]
}
