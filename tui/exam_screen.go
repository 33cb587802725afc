package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/tui/stream"
)

// examTagged carries a message of one lab's streams (lab "" is the map's):
// each lab has a stream controller of its own, whose ids only it knows.
type examTagged struct {
	lab string
	msg tea.Msg
}

// examEndMsg asks the root to end the exam (the learner confirmed).
type examEndMsg struct{}

// examLab is one lab of the exam: its streams and whether it is set up.
type examLab struct {
	lab     *labfile.Lab
	streams *stream.Controller
	ready   bool
	err     error
	// nodePort is the one its grading said the lab asks for (0: not
	// graded yet): a workshop gives each learner's namespace its own.
	nodePort int
}

// examScreen is the exam: the task list, the clock in the header, and the
// task's goal (or, if allowed, the map) below. It shows no solution, and
// hints and live marks only when allowed.
type examScreen struct {
	c             *common
	o             ExamOptions
	session       *exam.Session
	width, height int
	cursor        int
	flagged       map[int]bool
	hints         map[int]int
	labs          map[string]*examLab

	goal      viewport.Model
	goalKey   renderKey
	mapView   *mapPane
	mapFeed   *stream.Controller
	showMap   bool
	finishing bool
	notice    string
}

func newExamScreen(c *common, o ExamOptions) *examScreen {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	s := &examScreen{c: c, o: o, goal: vp, flagged: map[int]bool{}, hints: map[int]int{}, labs: map[string]*examLab{},
		mapView: newMapPane(c), mapFeed: stream.New(c.ctx, stream.ClockFunc(c.after), minBackoff, maxBackoff)}
	for _, l := range o.Plan.Labs {
		s.labs[l.ID] = &examLab{lab: l, streams: stream.New(c.ctx, stream.ClockFunc(c.after), minBackoff, maxBackoff)}
	}
	c.keys.Hint.SetEnabled(o.Allow.Hints)
	c.keys.Map.SetEnabled(o.Allow.Map && o.Map != nil)
	return s
}

func tag(lab string, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		if m := cmd(); m != nil {
			return examTagged{lab: lab, msg: m}
		}
		return nil
	}
}

// begin marks the exam as running in progress, so solutions are refused
// from now on, and sets up every lab afresh; the clock starts once all
// are ready.
func (s *examScreen) begin() tea.Cmd {
	now := s.c.now()
	marker := progress.ExamMarker{Seed: s.o.Plan.Seed, StartedAt: now, Deadline: now.Add(s.o.Limit + labActionTimeout)}
	for _, l := range s.o.Plan.Labs {
		marker.Labs = append(marker.Labs, l.ID)
	}
	cmds := []tea.Cmd{s.c.saveProgress(func(d *progress.Data) { d.StartExam(marker) })}
	for _, l := range s.o.Plan.Labs {
		cmds = append(cmds, s.startLab(s.labs[l.ID]))
	}
	return tea.Batch(cmds...)
}

func (s *examScreen) startLab(l *examLab) tea.Cmd {
	if s.o.Labs == nil {
		l.err = errNoConnection
		return nil
	}
	svc, lab := s.o.Labs, l.lab
	_, cmd := l.streams.Do(stream.Action, labActionTimeout, func(ctx context.Context, id stream.ID) tea.Msg {
		return labActionDoneMsg{id: id, what: "start", err: svc.Reset(ctx, lab)}
	})
	return tag(lab.ID, cmd)
}

func (s *examScreen) watch(l *examLab) tea.Cmd {
	svc, lab := s.o.Labs, l.lab
	return tag(lab.ID, l.streams.Run(stream.Watch, func(ctx context.Context, id stream.ID, send func(tea.Msg)) tea.Msg {
		err := svc.Watch(ctx, lab, nil, func(r checks.LabResult) { send(labResultMsg{id: id, lab: lab.ID, res: r}) })
		return labWatchEndedMsg{id: id, err: err}
	}))
}

// startClock starts the session once every lab is set up, and grading.
func (s *examScreen) startClock() tea.Cmd {
	now := s.c.now()
	if !s.o.Start.IsZero() {
		now = s.o.Start
	}
	s.session = s.newSession(now)
	deadline := s.session.Deadline()
	cmds := []tea.Cmd{s.c.saveProgress(func(d *progress.Data) {
		if d.Exam != nil {
			d.Exam.StartedAt, d.Exam.Deadline = now.UTC(), deadline.UTC()
		}
	}), s.render()}
	for _, l := range s.o.Plan.Labs {
		cmds = append(cmds, s.watch(s.labs[l.ID]))
	}
	return tea.Batch(cmds...)
}

func (s *examScreen) newSession(start time.Time) *exam.Session {
	session := exam.NewSession(s.o.Plan, start, s.o.Limit)
	session.Namespaces = s.o.Namespace
	return session
}

// ticked follows a second of the clock; over when time has run out.
func (s *examScreen) ticked() (tea.Cmd, bool) {
	return nil, s.session != nil && s.session.Over(s.c.now())
}

// end stops every stream and grades the exam.
func (s *examScreen) end(why string) exam.Result {
	for _, l := range s.labs {
		l.streams.StopAll()
	}
	s.mapFeed.StopAll()
	now := s.c.now()
	if s.session == nil {
		// Time ran out, or the learner left, before the labs were ready.
		s.session = s.newSession(now)
	}
	if why == exam.EndedTime {
		now = s.session.Deadline()
	}
	return s.session.Result(now, why, exam.ReviewFrom(s.c.course))
}

func (s *examScreen) confirming() bool { return s.finishing }

func (s *examScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return s.render()
	case examTagged:
		if msg.lab == "" {
			return s.handleMap(msg.msg)
		}
		if l := s.labs[msg.lab]; l != nil {
			return s.handleLab(l, msg.msg)
		}
	case lessonRenderedMsg:
		if msg.key == s.goalKey {
			s.goal.SetContent(msg.content)
			if msg.err != nil {
				s.goal.SetContent(s.c.styles.Error.Render("The task could not be rendered: " + msg.err.Error()))
			}
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

// handleLab takes a message of one lab's streams; one of a stream no
// longer current is dropped.
func (s *examScreen) handleLab(l *examLab, msg tea.Msg) tea.Cmd {
	c := l.streams
	switch msg := msg.(type) {
	case stream.Started:
		return tag(l.lab.ID, c.Attach(msg))
	case stream.RetryMsg:
		if !c.Current(stream.Retry, msg.ID) {
			return nil
		}
		c.Stop(stream.Retry)
		if !l.ready {
			return s.startLab(l)
		}
		return s.watch(l)
	case labActionDoneMsg:
		if !c.Done(stream.Action, msg.id) {
			return nil
		}
		if msg.err != nil {
			l.err = msg.err
			return tag(l.lab.ID, c.RetryLater())
		}
		l.ready, l.err = true, nil
		c.ResetBackoff()
		for _, other := range s.labs {
			if !other.ready {
				return nil
			}
		}
		return s.startClock()
	case labResultMsg:
		if !c.Current(stream.Watch, msg.id) {
			return nil
		}
		l.err = nil
		if !reachable(msg.res) {
			l.err = errUnreachable
		}
		s.session.Record(msg.res, s.c.now())
		listen := tag(l.lab.ID, c.Listen(stream.Watch))
		if msg.res.NodePort != 0 && msg.res.NodePort != l.nodePort {
			l.nodePort = msg.res.NodePort
			return tea.Batch(listen, s.render())
		}
		return listen
	case labWatchEndedMsg:
		if !c.Done(stream.Watch, msg.id) {
			return nil
		}
		if msg.err != nil {
			l.err = msg.err
		}
		return tag(l.lab.ID, c.RetryLater())
	case shellReadyMsg:
		if !c.Done(stream.Shell, msg.id) {
			return nil
		}
		if msg.err != nil {
			l.err = msg.err
			return nil
		}
		return tea.ExecProcess(msg.cmd, func(err error) tea.Msg { return shellExitedMsg{err} })
	}
	return nil
}

func (s *examScreen) handleMap(msg tea.Msg) tea.Cmd {
	c := s.mapFeed
	switch msg := msg.(type) {
	case stream.Started:
		return tag("", c.Attach(msg))
	case clusterMapMsg:
		if c.Current(stream.Map, msg.id) {
			s.mapView.show(&msg.view)
			return tag("", c.Listen(stream.Map))
		}
	case mapWatchEndedMsg:
		if c.Done(stream.Map, msg.id) && msg.err != nil {
			s.notice = "The map stopped: " + msg.err.Error()
		}
	}
	return nil
}

func (s *examScreen) item() exam.Item { return s.o.Plan.Items[s.cursor] }

func (s *examScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	s.notice = ""
	if s.finishing {
		switch {
		case key.Matches(msg, k.Yes):
			s.finishing = false
			return navigate(examEndMsg{})
		case key.Matches(msg, k.No):
			s.finishing = false
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Finish), key.Matches(msg, k.Quit):
		s.finishing = true
	case key.Matches(msg, k.Up):
		return s.move(-1)
	case key.Matches(msg, k.Down):
		return s.move(1)
	case key.Matches(msg, k.Flag):
		s.flagged[s.cursor] = !s.flagged[s.cursor]
	case key.Matches(msg, k.Hint):
		t := s.item().Task
		if s.hints[s.cursor] >= len(t.Hints) {
			s.notice = "No more hints for this task."
			return nil
		}
		s.hints[s.cursor]++
		return s.render()
	case key.Matches(msg, k.Map):
		return s.toggleMap()
	case key.Matches(msg, k.Shell):
		return s.shell()
	default:
		if s.showMap {
			return s.mapView.Update(msg)
		}
		scrollPage(&s.goal, k, msg)
	}
	return nil
}

func (s *examScreen) move(d int) tea.Cmd {
	next := s.cursor + d
	if next < 0 || next >= len(s.o.Plan.Items) {
		return nil
	}
	s.cursor = next
	s.goal.GotoTop()
	if s.showMap {
		return tea.Batch(s.render(), s.watchMap())
	}
	return s.render()
}

func (s *examScreen) toggleMap() tea.Cmd {
	s.showMap = !s.showMap
	if !s.showMap {
		s.mapFeed.StopAll()
		return nil
	}
	return s.watchMap()
}

func (s *examScreen) watchMap() tea.Cmd {
	svc, lab := s.o.Map, s.item().Lab
	s.mapView.show(nil)
	return tag("", s.mapFeed.Run(stream.Map, func(ctx context.Context, id stream.ID, send func(tea.Msg)) tea.Msg {
		err := svc.WatchMap(ctx, lab, func(v clusterview.View) { send(clusterMapMsg{id: id, view: v}) })
		return mapWatchEndedMsg{id: id, err: err}
	}))
}

func (s *examScreen) shell() tea.Cmd {
	if s.o.Labs == nil {
		return nil
	}
	l := s.labs[s.item().Lab.ID]
	svc, lab := s.o.Labs, l.lab
	_, cmd := l.streams.Do(stream.Shell, labActionTimeout, func(_ context.Context, id stream.ID) tea.Msg {
		c, err := svc.Shell(lab)
		return shellReadyMsg{id: id, cmd: c, err: err}
	})
	return tag(lab.ID, cmd)
}

// render renders the task's goal, its namespace and the hints shown, as
// Markdown in a command.
func (s *examScreen) render() tea.Cmd {
	if s.width == 0 || len(s.o.Plan.Items) == 0 {
		return nil
	}
	it := s.item()
	var md strings.Builder
	fmt.Fprintf(&md, "## %s\n\n%s\n\n", it.Task.Title, strings.TrimSpace(it.Task.Goal))
	ns := exam.Namespace(it.Lab)
	if s.o.Namespace != nil {
		ns = s.o.Namespace(it.Lab) // a workshop's: the learner's own
	}
	fmt.Fprintf(&md, "Work in namespace `%s` (lab %s): press t for a shell there, or use `kubectl -n %s`.\n", ns, it.Lab.ID, ns)
	for i := 0; i < s.hints[s.cursor] && i < len(it.Task.Hints); i++ {
		fmt.Fprintf(&md, "\n**Hint %d.** %s\n", i+1, strings.TrimSpace(it.Task.Hints[i]))
	}
	// The nodePort its grading reports; until then, on the learner's
	// own cluster, the course's, and in a workshop none yet (each
	// learner's namespace has its own).
	port := s.labs[it.Lab.ID].nodePort
	if port == 0 && s.o.Plan.Workshop == "" {
		port = labfile.DefaultNodePort
	}
	text := md.String()
	if port != 0 {
		text = labfile.ExpandNodePort(text, port)
	} else {
		text = strings.ReplaceAll(text, labfile.NodePortPlaceholder, "(your nodePort, shown once the lab is graded)")
	}
	s.goalKey = renderKey{id: fmt.Sprintf("exam/%d/%d/%d", s.cursor, s.hints[s.cursor], port), width: max(20, min(s.width, 100)), style: s.c.styles.Markdown}
	k, renderer := s.goalKey, s.c.renderer
	return func() tea.Msg {
		out, err := renderer.Render(text, k.style, k.width)
		return lessonRenderedMsg{key: k, content: strings.Trim(out, "\n"), err: err}
	}
}

func (s *examScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.layout()
}

// layout gives the pane what the task list and notice leave.
func (s *examScreen) layout() {
	ph := max(1, s.height-lipgloss.Height(s.top())-1)
	s.goal.SetWidth(s.width)
	s.goal.SetHeight(ph)
	s.mapView.SetSize(s.width, ph)
}

func (s *examScreen) Title() string {
	return fmt.Sprintf("Practice exam · seed %d", s.o.Plan.Seed)
}

// clock is the header's right side: the time left.
func (s *examScreen) clock() string {
	st := s.c.styles
	if s.session == nil {
		return st.Muted.Render("clock starts when the labs are ready")
	}
	left := s.session.Remaining(s.c.now())
	style := st.Bold
	if left < 5*60e9 {
		style = st.Wrong
	}
	return style.Render("⏱ " + exam.Clock(left) + " left")
}

// top is the task list and the line under it.
func (s *examScreen) top() string {
	st := s.c.styles
	var b strings.Builder
	for i, it := range s.o.Plan.Items {
		cur, mark := "  ", "  "
		if i == s.cursor {
			cur = st.Selected.Render("▸ ")
		}
		if s.flagged[i] {
			mark = st.Next.Render("⚑ ")
		}
		if s.o.Allow.Live && s.session != nil && s.session.Passed(it) {
			mark = st.Done.Render("✓ ")
		}
		right := fmt.Sprintf("%s · %d pt", it.Lab.ID, it.Task.Points)
		if it.Task.Points != 1 {
			right += "s"
		}
		left := fmt.Sprintf("%s%s%d. %s", cur, mark, i+1, it.Task.Title)
		left = truncate(left, s.width-lipgloss.Width(right)-2)
		if i == s.cursor {
			left = st.Bold.Render(left)
		}
		b.WriteString(left + pad(s.width, lipgloss.Width(left), lipgloss.Width(right)) + st.Muted.Render(right) + "\n")
	}
	b.WriteString(s.line())
	return b.String()
}

// line says what is going on: a confirmation, labs being set up, a
// problem, or what the screen shows.
func (s *examScreen) line() string {
	st := s.c.styles
	wrap := func(style lipgloss.Style, text string) string {
		return style.Render(lipgloss.Wrap(text, max(20, s.width-2), ""))
	}
	switch {
	case s.finishing:
		return wrap(st.Next, " Finish the exam now? It is graded as the cluster stands, and the clock stops. (y/n)")
	case s.notice != "":
		return wrap(st.Muted, " "+s.notice)
	}
	var starting []string
	for _, l := range s.o.Plan.Labs {
		el := s.labs[l.ID]
		if el.err != nil {
			return wrap(st.Error, fmt.Sprintf("Lab %s: %v (trying again)", l.ID, el.err))
		}
		if !el.ready {
			starting = append(starting, exam.Namespace(l))
		}
	}
	if len(starting) > 0 {
		return wrap(st.Muted, " Setting up "+strings.Join(starting, ", ")+" afresh…")
	}
	if s.o.TerminalCommand != "" {
		return s.terminalLine()
	}
	return ""
}

// terminalLine shows the command for the learner's own terminal verbatim:
// beside its label when it fits, else on lines of its own, broken only
// between words with a shell continuation so that it still pastes whole
// (a workshop learner's kubeconfig path makes it longer than 80 columns).
func (s *examScreen) terminalLine() string {
	st := s.c.styles
	one := " Your own terminal: " + s.o.TerminalCommand
	if lipgloss.Width(one) < s.width {
		return st.Muted.Render(one)
	}
	lines := lessons.WrapCommand(s.o.TerminalCommand, max(20, s.width-4))
	return st.Muted.Render(" Your own terminal:") + "\n   " + strings.Join(lines, "\n   ")
}

func (s *examScreen) View() string {
	top := s.top()
	pane := s.goal.View()
	if s.showMap {
		pane = s.mapView.View()
	}
	return top + "\n\n" + pane
}

func (s *examScreen) Typing() bool { return false }

func (s *examScreen) ShortHelp() []key.Binding {
	return flatten(s.ShortHelpLines())
}

func (s *examScreen) ShortHelpLines() [][]key.Binding {
	k := s.c.keys
	if s.finishing {
		return [][]key.Binding{{k.Yes, k.No}}
	}
	return [][]key.Binding{{k.Up, k.Down, k.Flag, k.Shell, k.Hint, k.Map}, {k.PageDown, k.Finish, k.Help}}
}

func (s *examScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down}, {k.PageUp, k.PageDown}, {k.Flag, k.Shell, k.Hint, k.Map}, {k.Finish, k.Quit, k.Help}}
}
