// Package tui is k8slab's terminal interface: a root model that routes
// messages to one screen at a time and draws the header, status and help.
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

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
)

// Options configure the app.
type Options struct {
	Course   *course.Course
	Store    *progress.Store
	Renderer *lessons.Renderer
	// Now defaults to time.Now.
	Now func() time.Time
	// After paces the lab's retries after a failure; it defaults to
	// time.After, and tests replace it to retry without waiting.
	After func(time.Duration) <-chan time.Time
	// NoColor is set when NO_COLOR asks for no colours.
	NoColor bool
	// Start opens a screen other than home, e.g. a quiz.
	Start progress.Position
	// Cluster, when set, shows the lab cluster in the status bar and lets
	// the learner create it from the home screen.
	Cluster ClusterService
	// Labs runs labs against the cluster; without it lab screens say so.
	Labs LabService
	// TerminalCommand is the one-line command that points kubectl in the
	// learner's own terminal at a lab's cluster and namespace, shown on the
	// lab screen; nil shows only the namespace.
	TerminalCommand func(lab *labfile.Lab) string
	// Map feeds the live cluster map on the lab screen.
	Map MapService
	// Workshop is true for a workshop learner, who may not change
	// cluster-wide objects: tasks that need to say so.
	Workshop bool
	// Warning is shown in the status bar at start (e.g. a progress file that
	// was moved aside).
	Warning string
	// Context bounds every cluster call the TUI makes (lab start, reset,
	// grading, status); it defaults to context.Background. Quitting cancels
	// a context derived from it.
	Context context.Context
}

// App is the root model.
type App struct {
	c       *common
	noColor bool
	isDark  bool

	width, height int
	help          help.Model
	packed        packedHelp

	home   *homeScreen
	lesson *lessonScreen
	quiz   *quizScreen
	lab    *labScreen
	cheat  *cheatSheetScreen
	gloss  *glossaryScreen
	active screen
	// under is the screen the cheat sheet or glossary covers while one of
	// them is active (nil otherwise). It keeps receiving every message but
	// keys and pastes, so a lab keeps grading underneath.
	under screen

	status      string
	statusIsErr bool
	start       progress.Position

	cluster clusterState
	// quitting is set when the learner quit while a cluster was being
	// created: the creation is cancelled and cleaned up first.
	quitting bool
	// stop cancels the program's context.
	stop context.CancelFunc
	// lastFooter is the footer's height at the last resize.
	lastFooter int
}

// New builds the app on the home screen.
func New(o Options) *App {
	c, stop := newCommon(o.Context, o.Course, o.Store, o.Renderer, o.Now, o.After, o.NoColor)
	a := &App{c: c, stop: stop, noColor: o.NoColor, isDark: true, help: help.New(), status: o.Warning, statusIsErr: o.Warning != ""}
	a.help.Styles = c.styles.Help
	data := o.Store.Snapshot()
	a.home = newHomeScreen(c, data)
	a.lesson = newLessonScreen(c)
	a.quiz = newQuizScreen(c)
	a.lab = newLabScreen(c, o.Labs, o.Map)
	a.lab.d.workshop = o.Workshop
	a.lab.terminalCommand = o.TerminalCommand
	a.cheat = newCheatSheetScreen(c)
	a.gloss = newGlossaryScreen(c)
	c.keys.CheatSheet.SetEnabled(o.Course.CheatSheet != nil)
	c.keys.Glossary.SetEnabled(len(o.Course.Glossary) > 0)
	a.active = a.home
	a.start = o.Start
	a.cluster = newClusterState(c.ctx, o.Cluster)
	a.syncKeys()
	return a
}

// Init asks the terminal for its background so the theme can match it.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	if a.cluster.svc != nil {
		cmds = append(cmds, a.cluster.fetchStatus(), a.cluster.scheduleRefresh())
	}
	switch a.start.Screen {
	case "quiz":
		cmds = append(cmds, navigate(openQuizMsg{a.start.ID}))
	case "lesson":
		cmds = append(cmds, navigate(openLessonMsg{a.start.ID}))
	case "lab":
		cmds = append(cmds, navigate(openLabMsg{a.start.ID}))
	}
	return tea.Batch(cmds...)
}

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	a.syncKeys()
	if h := a.footerHeight(); h != a.lastFooter {
		// A wrapped status line takes room from the screen.
		a.lastFooter = h
		a.resize()
	}
	return a, cmd
}

// syncKeys enables the bindings that make sense now, which also keeps the
// help bar truthful.
func (a *App) syncKeys() {
	a.c.keys.ClusterUp.SetEnabled(a.cluster.canCreate())
	a.c.keys.Map.SetEnabled(a.lab.mapSvc != nil)
	_, hasTimeline := a.lab.mapSvc.(TimelineService)
	a.c.keys.Timeline.SetEnabled(hasTimeline)
	a.lab.canCreateCluster = a.cluster.canCreate()
	a.lab.noCluster = a.cluster.status != nil && !a.cluster.status.Exists
	a.lab.clusterUp = a.cluster.status != nil && a.cluster.status.Reachable
	// While a lab is open the status is checked more often: it is how the
	// lab screen learns that the cluster went away or came back.
	a.cluster.fast = a.base() == a.lab
	if a.cluster.status != nil && a.cluster.status.Reachable {
		a.lab.d.provider = a.cluster.status.Provider
	}
	a.c.lacks = nil
	if a.lab.d.provider == clusterctl.Sim {
		a.c.lacks = append(a.c.lacks, labfile.SimulatedClusterLacks...)
	}
	if a.lab.d.workshop {
		a.c.lacks = append(a.c.lacks, labfile.WorkshopLearnerLacks...)
	}
}

// switchTo makes s the active screen: whatever a reference page covered
// is left, s is sized, and only then opened (it lays out for its size),
// and the place is remembered for the next start.
func (a *App) switchTo(s screen, open func() tea.Cmd, kind, id string) tea.Cmd {
	left := a.leaveUnder()
	a.active = s
	a.resize()
	return tea.Batch(left, open(), a.remember(kind, id))
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	wasReachable := a.cluster.status != nil && a.cluster.status.Reachable
	hadStatus := a.cluster.status != nil
	if cmd, ok := a.cluster.update(msg); ok {
		if _, isStatus := msg.(clusterStatusMsg); isStatus && hadStatus && a.base() == a.lab {
			if now := a.cluster.status.Reachable; now != wasReachable {
				return tea.Batch(cmd, a.lab.clusterChanged(now))
			}
		}
		if done, isDone := msg.(clusterUpDoneMsg); isDone {
			if a.quitting {
				a.stop()
				return tea.Quit
			}
			if done.err == nil && done.reason != "" {
				a.status, a.statusIsErr = "Cluster ready. In your shell: eval \"$(k8slab cluster env)\"", false
			}
			if done.err == nil && a.base() == a.lab && a.lab.d.lab != nil {
				// The lab was waiting for a cluster: start it now.
				return tea.Batch(cmd, a.lab.open(a.lab.d.lab))
			}
		}
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.help.SetWidth(max(0, msg.Width-1))
		a.resize()
		return a.active.Update(msg)

	case tea.BackgroundColorMsg:
		if msg.IsDark() != a.isDark {
			a.isDark = msg.IsDark()
			a.c.styles = NewStyles(a.isDark, a.noColor)
			a.help.Styles = a.c.styles.Help
			a.packed = packedHelp{}
			a.gloss.restyle()
			return tea.Batch(a.lesson.restyle(), a.cheat.restyle())
		}
		return nil

	case tea.KeyPressMsg:
		k := a.c.keys
		switch {
		case key.Matches(msg, k.ForceQuit):
			return a.quit()
		case a.active != a.cheat && !a.active.Typing() && key.Matches(msg, k.Quit):
			// (q closes the cheat sheet instead; the screen handles it.)
			return a.quit()
		case (a.active == a.home || a.active == a.lab) && !a.active.Typing() && key.Matches(msg, k.ClusterUp):
			a.clearStatus()
			return a.cluster.startUp()
		case !a.active.Typing() && key.Matches(msg, k.Help):
			a.help.ShowAll = !a.help.ShowAll
			a.resize()
			return nil
		}
		switch {
		case a.active.Typing():
		case key.Matches(msg, k.CheatSheet):
			a.clearStatus()
			return a.openCheatSheet()
		case key.Matches(msg, k.Glossary):
			a.clearStatus()
			return a.openGlossary(nil)
		}
		a.clearStatus()

	case tea.PasteMsg:
		return a.active.Update(msg)

	case openCheatSheetMsg:
		return a.openCheatSheet()

	case openGlossaryMsg:
		return a.openGlossary(msg.lesson)

	case closeReferenceMsg:
		a.closeReference()
		return nil

	case openLessonMsg:
		l, ok := a.c.course.Lesson(msg.id)
		if !ok {
			return nil
		}
		if a.under == a.lesson && a.lesson.lesson == l {
			a.closeReference() // the lesson is already open underneath
			return nil
		}
		return a.switchTo(a.lesson, func() tea.Cmd { return a.lesson.open(l, a.c.store.Snapshot()) }, "lesson", l.ID)

	case openQuizMsg:
		q, ok := a.c.course.Quiz(msg.id)
		if !ok {
			return nil
		}
		return a.switchTo(a.quiz, func() tea.Cmd { return a.quiz.start(q, a.c.store.Snapshot()) }, "quiz", q.ID)

	case openLabMsg:
		lab, ok := a.c.course.Lab(msg.id)
		if !ok {
			return nil
		}
		return a.switchTo(a.lab, func() tea.Cmd { return a.lab.open(lab) }, "lab", lab.ID)

	case goHomeMsg:
		a.closeReference()
		a.home.Update(progressChangedMsg{a.c.store.Snapshot()})
		switch a.active {
		case a.lesson:
			a.home.focus(lessonRow, a.lesson.lesson.ID)
		case a.quiz:
			a.home.focus(quizRow, a.quiz.attempt.Quiz.ID)
		case a.lab:
			a.home.focus(labRow, a.lab.d.lab.ID)
		}
		a.active = a.home
		a.resize()
		return nil

	case progressSavedMsg:
		if msg.err != nil {
			a.status, a.statusIsErr = "Progress not saved: "+msg.err.Error(), true
			return nil
		}
		return nil
	}
	if _, isKey := msg.(tea.KeyPressMsg); isKey || a.under == nil {
		return a.active.Update(msg)
	}
	return tea.Batch(a.active.Update(msg), a.under.Update(msg))
}

// base is the screen the learner is on, under the cheat sheet or glossary
// if one of them is open.
func (a *App) base() screen {
	if a.under != nil {
		return a.under
	}
	return a.active
}

// openCheatSheet opens the cheat sheet, or closes it when it is open: the
// same key toggles it.
func (a *App) openCheatSheet() tea.Cmd {
	if a.c.course.CheatSheet == nil {
		return nil
	}
	if a.active == a.cheat {
		a.closeReference()
		return nil
	}
	if a.under == nil {
		a.under = a.active
	}
	over := a.under.Title()
	if a.under == a.home {
		over = "the course map"
	}
	a.active = a.cheat
	a.resize()
	return a.cheat.open(over)
}

func (a *App) openGlossary(scope *lessons.Lesson) tea.Cmd {
	if len(a.c.course.Glossary) == 0 {
		return nil
	}
	if a.under == nil {
		a.under = a.active
	}
	// Opening a lesson from the glossary would end a quiz attempt that is
	// still under way; the learner leaves the quiz first, on purpose.
	blocked := ""
	if a.under == a.quiz && a.quiz.attempt != nil && a.quiz.phase != finished {
		blocked = "A quiz is under way: esc returns to it; leave it to open lessons."
	}
	a.active = a.gloss
	a.resize()
	return a.gloss.open(scope, blocked)
}

// closeReference returns from the cheat sheet or glossary to the screen
// it covered.
func (a *App) closeReference() {
	if a.under == nil {
		return
	}
	a.active, a.under = a.under, nil
	a.resize()
}

// leaveUnder closes the cheat sheet or glossary for good, leaving the
// screen it covered the way that screen's own "back" would: a lesson saves
// its place, a lab stops grading.
func (a *App) leaveUnder() tea.Cmd {
	under := a.under
	a.under = nil
	switch under {
	case a.lesson:
		return a.lesson.leave(false)
	case a.lab:
		a.lab.stop()
	}
	return nil
}

func (a *App) clearStatus() {
	if !a.statusIsErr {
		a.status = ""
	}
}

const quitWhileCreating = "A cluster is being created. Press q again to stop it and quit."

// Flush writes any progress still in memory; call it after the program
// ends, since a save started just before quitting may not have run.
func (a *App) Flush() error { return a.c.store.Save() }

// remember records the screen so k8slab can reopen near it.
func (a *App) remember(screen, id string) tea.Cmd {
	return a.c.saveProgress(func(d *progress.Data) { d.Last = progress.Position{Screen: screen, ID: id} })
}

// quit saves where the reader was before leaving. While a cluster is being
// created it asks first, then cancels the creation and quits when that has
// ended: the simulated cluster deletes what it started; kind cannot be interrupted,
// so its provider deletes the node containers under it and waits for kind
// to give up, which can take a minute.
func (a *App) quit() tea.Cmd {
	if a.cluster.busy {
		if !a.quitting && a.status != quitWhileCreating {
			a.status, a.statusIsErr = quitWhileCreating, false
			return nil
		}
		a.quitting = true
		a.status = "Stopping the cluster creation and deleting what it made so far…"
		if a.cluster.cancel != nil {
			a.cluster.cancel()
		}
		return nil
	}
	// Streams and calls still running end with the program.
	a.lab.stop()
	a.stop()
	if a.base() == a.lesson {
		return tea.Sequence(a.lesson.leave(false), tea.Quit)
	}
	return tea.Quit
}

const headerHeight = 2

func (a *App) footerHeight() int {
	return lipgloss.Height(a.statusView()) + lipgloss.Height(a.helpView())
}

// statusView is the status line: the status message, else the cluster's.
// It wraps rather than cut, up to a third of the window, because it often
// says what to do (how to get a cluster, why a save failed).
func (a *App) statusView() string {
	st := a.c.styles
	text, style := a.cluster.line(st), st.Status
	if a.status != "" {
		text, style = a.status, st.Status
		if a.statusIsErr {
			style = st.Error
		}
	}
	if a.width < 4 {
		return ""
	}
	lines := strings.Split(style.Width(a.width).Render(text), "\n")
	if limit := max(1, a.height/3); len(lines) > limit {
		lines = lines[:limit]
		lines[limit-1] = ansi.Truncate(lines[limit-1], a.width-1, "…")
	}
	return strings.Join(lines, "\n")
}

func (a *App) resize() {
	if a.width == 0 {
		// No size yet: a terminal sends its colour profile first. Laying
		// the screens out in one row would scroll the course map.
		return
	}
	h := max(1, a.height-headerHeight-a.footerHeight())
	a.home.SetSize(a.width, h)
	a.lesson.SetSize(a.width, h)
	a.quiz.SetSize(a.width, h)
	a.lab.SetSize(a.width, h)
	a.cheat.SetSize(a.width, h)
	a.gloss.SetSize(a.width, h)
}

func (a *App) View() tea.View {
	v := tea.NewView("")
	v.AltScreen = true
	v.WindowTitle = "k8slab"
	if a.width == 0 {
		return v // no size yet: nothing sensible to draw
	}
	st := a.c.styles
	title := truncate(a.active.Title(), a.width-12)
	header := st.Header.Render(st.HeaderTitle.Render("k8slab") + st.Muted.Render(" · ") + title)

	bodyHeight := max(1, a.height-headerHeight-a.footerHeight())
	body := lipgloss.NewStyle().MaxHeight(bodyHeight).MaxWidth(a.width).Render(a.active.View())
	body += strings.Repeat("\n", max(0, bodyHeight-lipgloss.Height(body)))

	status := a.statusView()
	// help drops bindings that do not fit, but not when even its ellipsis
	// does not fit; truncating each line keeps narrow terminals tidy.
	helpLines := strings.Split(a.helpView(), "\n")
	for i, l := range helpLines {
		helpLines[i] = ansi.Truncate(" "+l, a.width, "…")
	}
	helpView := strings.Join(helpLines, "\n")
	v.Content = fmt.Sprintf("%s\n\n%s\n%s\n%s", header, body, status, helpView)
	return v
}
