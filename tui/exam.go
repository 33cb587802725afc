package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
)

// ExamAllow is what an exam screen may show besides the tasks and the
// clock; by default nothing.
type ExamAllow struct {
	// Hints: h shows a task's hints, one by one.
	Hints bool
	// Map: m shows the cluster map of the task's lab.
	Map bool
	// Live: the task list marks each task ✓ as it passes.
	Live bool
}

// ExamOptions configure an exam.
type ExamOptions struct {
	Course *course.Course
	Store  *progress.Store
	Plan   exam.Plan
	Limit  time.Duration
	// Start, when set, is when the exam began and Namespace where each
	// lab is: a workshop's exam, whose clock the instructor started and
	// which runs in the learner's own namespaces.
	Start     time.Time
	Namespace func(*labfile.Lab) string
	Allow     ExamAllow
	// Labs starts (afresh) and grades the exam's labs, each in its exam
	// namespace; Map feeds the map when allowed.
	Labs LabService
	Map  MapService
	// TerminalCommand points the learner's own terminal at the cluster.
	TerminalCommand string
	// Now and After are the clock, which tests replace: the screen
	// redraws the time left when After says a second has passed.
	Now      func() time.Time
	After    func(time.Duration) <-chan time.Time
	NoColor  bool
	Renderer *lessons.Renderer
	Context  context.Context
}

// ExamApp is the root model of 'k8slab exam': the exam screen, then the
// result page. It has no way to the course's other screens, and no
// solution view at all.
type ExamApp struct {
	c             *common
	help          help.Model
	width, height int
	screen        *examScreen
	result        *examResult
	stop          context.CancelFunc
}

// examTickMsg is the clock's second passing.
type examTickMsg struct{}

// NewExam builds the exam, which starts its labs once the program runs.
func NewExam(o ExamOptions) *ExamApp {
	c, stop := newCommon(o.Context, o.Course, o.Store, o.Renderer, o.Now, o.After, o.NoColor)
	a := &ExamApp{c: c, help: help.New(), stop: stop}
	a.help.Styles = c.styles.Help
	a.screen = newExamScreen(c, o)
	return a
}

func (a *ExamApp) Init() tea.Cmd { return tea.Batch(a.screen.begin(), a.tick()) }

// tick waits a second of the injected clock.
func (a *ExamApp) tick() tea.Cmd {
	after := a.c.after
	return func() tea.Msg {
		<-after(time.Second)
		return examTickMsg{}
	}
}

// Result is the exam's result, once it has ended.
func (a *ExamApp) Result() (exam.Result, bool) {
	if a.result == nil {
		return exam.Result{}, false
	}
	return a.result.res, true
}

// Flush writes what progress still holds unsaved; the caller of Run
// calls it once the program has ended.
func (a *ExamApp) Flush() error { return a.c.store.Save() }

func (a *ExamApp) active() screen {
	if a.result != nil {
		return a.result
	}
	return a.screen
}

func (a *ExamApp) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.help.SetWidth(msg.Width)
		a.resize()
		return a, a.active().Update(msg)
	case examTickMsg:
		if a.result != nil {
			return a, nil
		}
		if cmd, over := a.screen.ticked(); over {
			return a, tea.Batch(cmd, a.finish(exam.EndedTime))
		}
		return a, a.tick()
	case examEndMsg:
		if a.result == nil {
			return a, a.finish(exam.EndedFinished)
		}
		return a, nil
	case progressSavedMsg:
		return a, nil
	case tea.KeyPressMsg:
		if a.result != nil && key.Matches(msg, a.c.keys.Quit) {
			a.stop()
			return a, tea.Quit
		}
		if key.Matches(msg, a.c.keys.Help) && !a.screen.confirming() {
			a.help.ShowAll = !a.help.ShowAll
			a.resize()
			return a, nil
		}
	}
	return a, a.active().Update(msg)
}

// finish ends the exam: the streams stop, the grades are made from what
// the grading saw, saved in progress, and shown.
func (a *ExamApp) finish(why string) tea.Cmd {
	res := a.screen.end(why)
	a.result = newExamResult(a.c, res)
	a.help.ShowAll = false
	a.resize()
	return a.c.saveProgress(func(d *progress.Data) { d.FinishExam(res.Record()) })
}

func (a *ExamApp) resize() {
	if a.width == 0 {
		return
	}
	h := max(1, a.height-headerHeight-lipgloss.Height(a.helpView()))
	a.active().SetSize(a.width, h)
}

func (a *ExamApp) helpView() string {
	s := a.active()
	groups := s.(helpLines).ShortHelpLines()
	if a.help.ShowAll {
		groups = s.FullHelp()
	}
	return strings.Join(packHelp(a.help, a.width, groups), "\n")
}

func (a *ExamApp) View() tea.View {
	v := tea.NewView("")
	v.AltScreen = true
	v.WindowTitle = "k8slab exam"
	if a.width == 0 {
		return v
	}
	st := a.c.styles
	left := st.HeaderTitle.Render("k8slab") + st.Muted.Render(" · ") + a.active().Title()
	right := a.screen.clock()
	if a.result != nil {
		right = ""
	}
	header := st.Header.Render(left + pad(a.width-2, lipgloss.Width(left), lipgloss.Width(right)) + right)
	helpLines := strings.Split(a.helpView(), "\n")
	for i, l := range helpLines {
		// Only a single key wider than the window is still cut.
		helpLines[i] = ansi.Truncate(" "+l, a.width, "…")
	}
	bodyHeight := max(1, a.height-headerHeight-len(helpLines))
	body := lipgloss.NewStyle().MaxHeight(bodyHeight).MaxWidth(a.width).Render(a.active().View())
	body += strings.Repeat("\n", max(0, bodyHeight-lipgloss.Height(body)))
	v.Content = fmt.Sprintf("%s\n\n%s\n%s", header, body, strings.Join(helpLines, "\n"))
	return v
}
