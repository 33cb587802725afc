package tui

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/progress"
)

// LabService is what the lab screen needs from the cluster; tests give it a
// scripted fake.
type LabService interface {
	// Watch grades lab now and after every relevant change until ctx ends.
	Watch(ctx context.Context, lab *checks.Lab, answers map[string]string, onResult func(checks.LabResult)) error
	// Start creates the lab namespace and applies the setup; Reset makes it
	// afresh.
	Start(ctx context.Context, lab *checks.Lab) error
	Reset(ctx context.Context, lab *checks.Lab) error
	// Shell is the learner's shell, set up for the lab's cluster and
	// namespace.
	Shell(lab *checks.Lab) (*exec.Cmd, error)
}

type (
	labResultMsg struct {
		lab string
		res checks.LabResult
	}
	labWatchStartedMsg struct {
		results <-chan tea.Msg
		cancel  context.CancelFunc
	}
	labWatchEndedMsg struct{ err error }
	labActionDoneMsg struct {
		what string
		err  error
	}
	shellExitedMsg struct{ err error }
)

type labConfirm int

const (
	confirmNone labConfirm = iota
	confirmReset
	confirmSolution
)

// labScreen shows a lab's tasks with their live state, the current task's
// goal, hints on request, and the reference solution after confirmation.
type labScreen struct {
	c             *common
	svc           LabService
	width, height int

	lab     *checks.Lab
	result  *checks.LabResult
	cursor  int
	confirm labConfirm
	busy    string
	err     error
	// watch streams results from the engine.
	results <-chan tea.Msg
	cancel  context.CancelFunc
	// goal is the rendered goal of the task under the cursor.
	goal     string
	viewport viewport.Model
	started  time.Time

	// The cluster map replaces the goal while it is shown.
	mapSvc      MapService
	showMap     bool
	mapView     *ClusterView
	mapRendered string
	mapUpdates  <-chan tea.Msg
	mapCancel   context.CancelFunc

	// Set by the root from the cluster state: whether 'c' can create a
	// cluster, and which provider runs the current one.
	canCreateCluster bool
	provider         string

	// Answers to question tasks, typed here and graded against the live
	// cluster; answering is set while the input has focus.
	answers   map[string]string
	answering bool
	input     textinput.Model
	// done is the completion summary, made once when every task passes.
	done string
}

type (
	clusterMapMsg      struct{ view ClusterView }
	mapWatchStartedMsg struct {
		updates <-chan tea.Msg
		cancel  context.CancelFunc
	}
	mapWatchEndedMsg struct{ err error }
)

func newLabScreen(c *common, svc LabService, mapSvc MapService) *labScreen {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	ti := textinput.New()
	ti.Prompt = "answer › "
	ti.CharLimit = 100
	return &labScreen{c: c, svc: svc, viewport: vp, mapSvc: mapSvc, input: ti, answers: map[string]string{}}
}

// watchMap starts the map's stream of views for the lab namespace.
func (s *labScreen) watchMap() tea.Cmd {
	svc, ns := s.mapSvc, s.lab.Namespace
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan tea.Msg, 4)
		go func() {
			err := svc.WatchMap(ctx, ns, func(v ClusterView) {
				select {
				case ch <- clusterMapMsg{v}:
				case <-ctx.Done():
				}
			})
			ch <- mapWatchEndedMsg{err}
			close(ch)
		}()
		return mapWatchStartedMsg{updates: ch, cancel: cancel}
	}
}

func (s *labScreen) stopMap() {
	if s.mapCancel != nil {
		s.mapCancel()
		s.mapCancel, s.mapUpdates = nil, nil
	}
}

// redrawMap renders the map once per change of view or size; View only
// shows the result.
func (s *labScreen) redrawMap() {
	if s.mapView == nil {
		s.mapRendered = s.c.styles.Muted.Render(" Reading the cluster…")
	} else {
		s.mapRendered = renderClusterMap(*s.mapView, s.c.styles, s.width)
	}
	if s.showMap {
		s.viewport.SetContent(s.mapRendered)
	}
}

func (s *labScreen) open(lab *checks.Lab) tea.Cmd {
	s.stop()
	s.lab, s.result, s.cursor, s.confirm, s.err, s.busy = lab, nil, 0, confirmNone, nil, ""
	s.answers, s.answering = map[string]string{}, false
	s.started = s.c.now()
	if s.svc == nil {
		s.err = fmt.Errorf("no cluster connection")
		return s.renderGoal()
	}
	s.busy = "Preparing the lab namespace"
	svc := s.svc
	start := func() tea.Msg { return labActionDoneMsg{what: "start", err: svc.Start(context.Background(), lab)} }
	return tea.Batch(start, s.renderGoal())
}

// watch starts the result stream; results arrive without any key press.
func (s *labScreen) watch() tea.Cmd {
	lab, svc := s.lab, s.svc
	answers := make(map[string]string, len(s.answers))
	for k, v := range s.answers {
		answers[k] = v
	}
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan tea.Msg, 8)
		go func() {
			err := svc.Watch(ctx, lab, answers, func(r checks.LabResult) {
				select {
				case ch <- labResultMsg{lab: lab.ID, res: r}:
				case <-ctx.Done():
				}
			})
			ch <- labWatchEndedMsg{err: err}
			close(ch)
		}()
		return labWatchStartedMsg{results: ch, cancel: cancel}
	}
}

func (s *labScreen) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel, s.results = nil, nil
	}
	s.stopMap()
	s.showMap, s.mapView = false, nil
}

func (s *labScreen) task() *checks.Task {
	if s.lab == nil || s.cursor >= len(s.lab.Tasks) {
		return nil
	}
	return &s.lab.Tasks[s.cursor]
}

func (s *labScreen) taskResult(i int) *checks.TaskResult {
	if s.result == nil {
		return nil
	}
	for j := range s.result.Tasks {
		if s.result.Tasks[j].ID == s.lab.Tasks[i].ID {
			return &s.result.Tasks[j]
		}
	}
	return nil
}

func (s *labScreen) hintsUsed(data progress.Data) int {
	return data.Labs[s.lab.ID].Tasks[s.task().ID].HintsUsed
}

func (s *labScreen) goalWidth() int { return max(20, min(s.width, 100)) }

// renderGoal renders the current task's goal, hints shown so far and, when
// revealed, the solution, as Markdown in a command.
func (s *labScreen) renderGoal() tea.Cmd {
	t := s.task()
	if t == nil || s.width == 0 {
		return nil
	}
	st := s.c.store.Snapshot().Labs[s.lab.ID].Tasks[t.ID]
	var md strings.Builder
	md.WriteString("## " + t.Title + "\n\n" + strings.TrimSpace(t.Goal) + "\n")
	if missing := s.missing(t.Features); missing != "" {
		md.WriteString("\n**Note:** this task needs " + missing + ", which a simulated cluster cannot show; do it on a kind cluster.\n")
	}
	for i := 0; i < st.HintsUsed && i < len(t.Hints); i++ {
		fmt.Fprintf(&md, "\n**Hint %d.** %s\n", i+1, strings.TrimSpace(t.Hints[i]))
	}
	if st.SolutionSeen {
		md.WriteString("\n**Reference solution** (marked as seen in your progress):\n\n```sh\n")
		for _, step := range t.Solution {
			if step.Run != "" {
				md.WriteString(step.Run + "\n")
			} else {
				md.WriteString("kubectl apply -f - <<'EOF'\n" + strings.TrimSpace(step.Apply) + "\nEOF\n")
			}
		}
		md.WriteString("```\n")
	}
	k := renderKey{id: s.lab.ID + "/" + t.ID + fmt.Sprintf("/%d/%v", st.HintsUsed, st.SolutionSeen), width: s.goalWidth(), style: s.c.styles.Markdown}
	renderer, text := s.c.renderer, md.String()
	return func() tea.Msg {
		out, err := renderer.Render(text, k.style, k.width)
		return lessonRenderedMsg{key: k, content: strings.Trim(out, "\n"), err: err}
	}
}

func (s *labScreen) SetSize(w, h int) {
	resized := s.width != w
	s.width, s.height = w, h
	s.viewport.SetWidth(w)
	s.viewport.SetHeight(max(1, h-s.taskListHeight()-1))
	if resized && s.showMap {
		s.redrawMap()
	}
}

func (s *labScreen) taskListHeight() int {
	if s.lab == nil {
		return 0
	}
	return len(s.lab.Tasks) + 2
}

func (s *labScreen) Typing() bool { return s.answering }

func (s *labScreen) Title() string {
	if s.lab == nil {
		return ""
	}
	return "Lab: " + s.lab.Title
}

func (s *labScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return s.renderGoal()
	case lessonRenderedMsg:
		if t := s.task(); t == nil || !strings.HasPrefix(msg.key.id, s.lab.ID+"/"+t.ID+"/") {
			return nil
		}
		s.goal = msg.content
		if !s.showMap {
			s.viewport.SetContent(msg.content)
		}
		return nil
	case mapWatchStartedMsg:
		s.mapUpdates, s.mapCancel = msg.updates, msg.cancel
		return listen(s.mapUpdates)
	case clusterMapMsg:
		s.mapView = &msg.view
		s.redrawMap()
		return listen(s.mapUpdates)
	case mapWatchEndedMsg:
		s.mapUpdates, s.mapCancel = nil, nil
		if msg.err != nil {
			s.err = msg.err
		}
		return nil
	case labActionDoneMsg:
		s.busy = ""
		if msg.err != nil {
			s.err = msg.err
			return nil
		}
		s.err = nil
		if s.results == nil {
			return s.watch()
		}
		return nil
	case labWatchStartedMsg:
		s.results, s.cancel = msg.results, msg.cancel
		return listen(s.results)
	case labResultMsg:
		if s.lab == nil || msg.lab != s.lab.ID {
			return nil
		}
		s.result = &msg.res
		s.done = ""
		if msg.res.Passed() {
			s.done = s.summary()
		}
		return tea.Batch(listen(s.results), s.recordPasses(msg.res))
	case labWatchEndedMsg:
		s.results, s.cancel = nil, nil
		if msg.err != nil {
			s.err = msg.err
		}
		return nil
	case shellExitedMsg:
		// Back from the shell: the watch has kept grading, so the state is
		// current; restart it if it had stopped.
		if s.results == nil && s.svc != nil {
			return s.watch()
		}
		return nil
	case tea.KeyPressMsg:
		return s.handleKey(msg)
	}
	return nil
}

// recordPasses notes newly passed tasks in progress, with when.
func (s *labScreen) recordPasses(res checks.LabResult) tea.Cmd {
	data := s.c.store.Snapshot()
	var newly []string
	for _, t := range res.Tasks {
		if t.Status == checks.Pass && data.Labs[res.Lab].Tasks[t.ID].PassedAt.IsZero() {
			newly = append(newly, t.ID)
		}
	}
	if len(newly) == 0 {
		return nil
	}
	lab, at := res.Lab, s.c.now()
	return s.c.saveProgress(func(d *progress.Data) {
		for _, id := range newly {
			d.UpdateTask(lab, id, func(t *progress.TaskState) { t.PassedAt = at.UTC() })
		}
	})
}

func (s *labScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	if s.answering {
		switch {
		case key.Matches(msg, k.Submit):
			s.answering = false
			s.input.Blur()
			s.answers[s.task().ID] = strings.TrimSpace(s.input.Value())
			// Grade with the new answer: restart the watch with it.
			if s.cancel != nil {
				s.cancel()
				s.cancel, s.results = nil, nil
			}
			if s.svc != nil {
				return s.watch()
			}
			return nil
		case msg.String() == "esc":
			s.answering = false
			s.input.Blur()
			return nil
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	}
	if s.confirm != confirmNone {
		what := s.confirm
		s.confirm = confirmNone
		if key.Matches(msg, k.Yes) {
			switch what {
			case confirmReset:
				s.busy = "Resetting the lab"
				lab, svc := s.lab, s.svc
				return func() tea.Msg { return labActionDoneMsg{what: "reset", err: svc.Reset(context.Background(), lab)} }
			case confirmSolution:
				return s.update(func(t *progress.TaskState) { t.SolutionSeen = true })
			}
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		if s.cursor > 0 {
			s.cursor--
			return s.renderGoal()
		}
	case key.Matches(msg, k.Down):
		if s.lab != nil && s.cursor < len(s.lab.Tasks)-1 {
			s.cursor++
			return s.renderGoal()
		}
	case key.Matches(msg, k.PageDown):
		s.viewport.PageDown()
	case key.Matches(msg, k.PageUp):
		s.viewport.PageUp()
	case key.Matches(msg, k.Hint):
		t := s.task()
		if t != nil && s.hintsUsed(s.c.store.Snapshot()) < len(t.Hints) {
			return s.update(func(ts *progress.TaskState) { ts.HintsUsed++ })
		}
	case key.Matches(msg, k.Solution):
		if s.task() != nil && len(s.task().Solution) > 0 {
			s.confirm = confirmSolution
		}
	case key.Matches(msg, k.Reset):
		if s.svc != nil {
			s.confirm = confirmReset
		}
	case key.Matches(msg, k.Shell):
		if s.svc == nil {
			return nil
		}
		cmd, err := s.svc.Shell(s.lab)
		if err != nil {
			s.err = err
			return nil
		}
		return tea.ExecProcess(cmd, func(err error) tea.Msg { return shellExitedMsg{err} })
	case key.Matches(msg, k.Answer):
		if t := s.task(); t != nil && t.Question != nil {
			s.answering = true
			s.input.SetValue(s.answers[t.ID])
			s.input.SetWidth(max(10, min(s.width, 80)-12))
			return s.input.Focus()
		}
	case key.Matches(msg, k.Map):
		if s.mapSvc == nil {
			return nil
		}
		s.showMap = !s.showMap
		if !s.showMap {
			s.viewport.SetContent(s.goal)
			return nil
		}
		s.redrawMap()
		if s.mapUpdates == nil {
			return s.watchMap()
		}
	case key.Matches(msg, k.Back):
		s.stop()
		return navigate(goHomeMsg{})
	}
	return nil
}

// update changes the current task's progress and re-renders its goal.
func (s *labScreen) update(change func(*progress.TaskState)) tea.Cmd {
	lab, task := s.lab.ID, s.task().ID
	save := s.c.saveProgress(func(d *progress.Data) { d.UpdateTask(lab, task, change) })
	return tea.Batch(save, s.renderGoal())
}

func (s *labScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.confirm != confirmNone {
		return []key.Binding{k.Yes, k.No}
	}
	if s.answering {
		return []key.Binding{k.Submit, k.ForceQuit}
	}
	keys := []key.Binding{k.Up, k.Down, k.Hint}
	if t := s.task(); t != nil && t.Question != nil {
		keys = append(keys, k.Answer)
	}
	return append(keys, k.ClusterUp, k.Shell, k.Map, k.Reset, k.Back, k.Help)
}

func (s *labScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Hint, k.Solution}, {k.Shell, k.Map, k.Reset}, {k.Back, k.Quit, k.Help}}
}

var taskMarks = map[checks.Status]string{
	checks.Pass: "✓", checks.Fail: "✗", checks.Missing: "·",
	checks.Forbidden: "!", checks.Unreachable: "!", checks.Error: "!",
}

func (s *labScreen) View() string {
	if s.lab == nil {
		return ""
	}
	st := s.c.styles
	var b strings.Builder
	done := 0
	for i, t := range s.lab.Tasks {
		mark, style, note := "…", st.Muted, "checking"
		if r := s.taskResult(i); r != nil {
			mark, note = taskMarks[r.Status], ""
			switch {
			case r.Status == checks.Pass:
				style, note = st.Done, "done"
				done++
			case r.Status.Broken():
				style = st.Wrong
			default:
				style = st.Muted
			}
			if r.Status != checks.Pass {
				note = firstMessage(r)
			}
		}
		cursor := "  "
		title := t.Title
		if i == s.cursor {
			cursor = st.Selected.Render("›") + " "
			title = st.Selected.Render(title)
		}
		line := fmt.Sprintf(" %s%s %s", cursor, style.Render(mark), title)
		if note != "" {
			line += "  " + st.Muted.Render(truncate(note, max(10, s.width-len(t.Title)-10)))
		}
		b.WriteString(line + "\n")
	}
	switch {
	case s.answering:
		b.WriteString(" " + s.input.View() + "\n")
	case s.task() != nil && s.task().Question != nil && s.answers[s.task().ID] == "":
		b.WriteString(" " + st.Next.Render("Question:") + " " + truncate(s.task().Question.Prompt, max(10, s.width-30)) + st.Muted.Render(" · press a to answer") + "\n")
	case s.confirm == confirmReset:
		b.WriteString(" " + st.Wrong.Render("Reset the lab?") + " Its namespace is deleted and set up again. y/n\n")
	case s.confirm == confirmSolution:
		b.WriteString(" " + st.Wrong.Render("Show the reference solution?") + " It is marked as seen in your progress. y/n\n")
	case s.busy != "":
		b.WriteString(" " + st.Muted.Render(s.busy+"…") + "\n")
	case s.err != nil:
		line := " " + st.Wrong.Render(firstLine(s.err.Error()))
		if s.canCreateCluster {
			line = " " + st.Wrong.Render("No lab cluster is running.") + " Press c to create one; the lab starts when it is ready."
		}
		b.WriteString(line + "\n")
	case s.done != "":
		b.WriteString(" " + st.Correct.Render(s.done) + "\n")
	default:
		b.WriteString(" " + st.Muted.Render(fmt.Sprintf("%d of %d tasks done · graded live from the cluster", done, len(s.lab.Tasks))) + "\n")
	}
	if missing := s.missingFeatures(); missing != "" {
		b.WriteString(" " + st.Next.Render("Note:") + " a simulated cluster runs no containers, so it cannot show " + missing + "; a kind cluster can.\n")
	}
	b.WriteString("\n" + s.viewport.View())
	return b.String()
}

// missingFeatures names what the lab needs that a simulated cluster lacks.
func (s *labScreen) missingFeatures() string {
	if s.lab == nil {
		return ""
	}
	return s.missing(s.lab.Features)
}

// missing names the features in fs that a simulated cluster lacks.
func (s *labScreen) missing(fs []checks.Feature) string {
	if s.provider != "sim" {
		return ""
	}
	var out []string
	for _, f := range fs {
		switch f {
		case checks.Containers:
			out = append(out, "running containers (logs, exec)")
		case checks.Storage:
			out = append(out, "bound volumes")
		case checks.NodePortFromHost:
			out = append(out, "a NodePort from your machine")
		}
	}
	return strings.Join(out, ", ")
}

func (s *labScreen) summary() string {
	data := s.c.store.Snapshot().Labs[s.lab.ID]
	hints := 0
	for _, t := range data.Tasks {
		hints += t.HintsUsed
	}
	next := "That was the last lab of the course."
	for i, m := range s.c.course.Modules {
		if m.ID == s.lab.Module && i+1 < len(s.c.course.Modules) && len(s.c.course.Modules[i+1].Lessons) > 0 {
			next = "Next: " + s.c.course.Modules[i+1].Lessons[0].Title + " (esc for the course map)."
		}
	}
	return fmt.Sprintf("Lab complete in %s with %d hint(s). Well done! %s", s.c.now().Sub(s.started).Round(time.Second), hints, next)
}

func firstMessage(r *checks.TaskResult) string {
	for _, c := range r.Checks {
		if c.Status != checks.Pass && len(c.Messages) > 0 {
			return c.Messages[0]
		}
	}
	return string(r.Status)
}
