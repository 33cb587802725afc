package tui

import (
	"context"
	"strings"
	"time"

	"github.com/k8slab/k8slab/internal/wordwrap"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/timeline"
	"github.com/k8slab/k8slab/tui/stream"
)

// TimelineService feeds the timeline pane: it calls onChange with the
// last actions after every change, until ctx ends. The lab service that
// feeds the map offers it too, from the same cache.
type TimelineService interface {
	WatchTimeline(ctx context.Context, lab *labfile.Lab, onChange func([]timeline.Action)) error
}

type (
	timelineMsg struct {
		id   stream.ID
		acts []timeline.Action
	}
	timelineEndedMsg struct {
		id  stream.ID
		err error
	}
)

// timelinePane shows what the cluster did after each change the learner
// made, newest first, in place of the goal while it is shown. It is drawn
// once per update or resize; View only shows the result.
type timelinePane struct {
	*scrollPane
	acts   []timeline.Action
	loaded bool
}

func newTimelinePane(c *common) *timelinePane {
	p := &timelinePane{}
	p.scrollPane = newScrollPane(c, p.render)
	p.redraw()
	return p
}

// show sets the actions to draw; nil while the cluster is being read.
func (p *timelinePane) show(acts []timeline.Action, loaded bool) {
	// Each step of a kind the course explains carries its why.
	timeline.Annotate(acts, p.c.course.TimelineWhy)
	p.acts, p.loaded = acts, loaded
	p.redraw()
}

func (p *timelinePane) render(width int) string {
	// The clock the screen runs on (tests fix it) says which time zone.
	return renderTimeline(p.acts, p.loaded, p.c.styles, width, p.c.now().Location())
}

// renderTimeline draws the newest action first, each step wrapped under
// its offset so that nothing is cut at 80 columns. The first step of each
// kind that has a why is followed by it: why that happens, and the
// lesson that teaches it (timeline.Annotate).
func renderTimeline(acts []timeline.Action, loaded bool, s *Styles, width int, loc *time.Location) string {
	if !loaded {
		return s.Muted.Render(" Reading the cluster…")
	}
	if len(acts) == 0 {
		return s.Muted.Render(wrapIndent("No change yet. Run a kubectl command against the lab and watch what the cluster does.", width, " "))
	}
	var b strings.Builder
	told := map[string]bool{}
	for i := len(acts) - 1; i >= 0; i-- {
		a := acts[i]
		for k, l := range wordwrap.Lines(timeline.ActionLine(a, loc), max(10, width-2)) {
			lead := " "
			if k > 0 {
				lead = "   "
			}
			b.WriteString(lead + s.Bold.Render(l) + "\n")
		}
		for _, st := range a.Steps {
			off := timeline.Offset(st)
			// The offset column is as wide as the widest one in use,
			// "+0.02 s" or "+12 s", and wrapped text keeps to its right.
			lines := wordwrap.Lines(stepText(st), max(10, width-12))
			for k, l := range lines {
				lead := "   " + s.Muted.Render(padRight(off, 9))
				if k > 0 {
					lead = strings.Repeat(" ", 12)
				}
				b.WriteString(lead + l + "\n")
			}
			if st.Why != "" && !told[st.Kind] {
				told[st.Kind] = true
				for _, l := range wordwrap.Lines(timeline.WhyLine(st), max(10, width-12)) {
					b.WriteString(strings.Repeat(" ", 12) + s.Muted.Render(l) + "\n")
				}
			}
		}
		if i > 0 {
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(1, w-ansi.StringWidth(s)))
}

// stepText is a step without its offset, as the headless timeline says it.
func stepText(st timeline.Step) string {
	return strings.TrimPrefix(timeline.StepLine(st), timeline.Offset(st)+" ")
}

func (p *timelinePane) ShortHelp() []key.Binding {
	return []key.Binding{p.c.keys.Timeline, p.c.keys.PageDown}
}
func (p *timelinePane) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

// toggleTimeline shows or hides the timeline in place of the goal (and
// of the map), starting its stream the first time.
func (s *labScreen) toggleTimeline() tea.Cmd {
	svc, ok := s.mapSvc.(TimelineService)
	if !ok {
		return nil
	}
	s.showTimeline = !s.showTimeline
	if !s.showTimeline {
		s.goal.refresh()
		return nil
	}
	s.showMap = false
	if !s.streams.Active(stream.Timeline) {
		lab := s.d.lab
		return s.streams.Run(stream.Timeline, func(ctx context.Context, id stream.ID, send func(tea.Msg)) tea.Msg {
			err := svc.WatchTimeline(ctx, lab, func(acts []timeline.Action) { send(timelineMsg{id: id, acts: acts}) })
			return timelineEndedMsg{id: id, err: err}
		})
	}
	return nil
}

// handleTimeline handles the timeline stream's messages; ok reports
// whether msg was one.
func (s *labScreen) handleTimeline(msg tea.Msg) (tea.Cmd, bool) {
	c := s.streams
	switch msg := msg.(type) {
	case timelineMsg:
		if c.Current(stream.Timeline, msg.id) {
			s.timeline.show(msg.acts, true)
			return c.Listen(stream.Timeline), true
		}
		return nil, true
	case timelineEndedMsg:
		if c.Done(stream.Timeline, msg.id) && msg.err != nil {
			s.err = msg.err
		}
		return nil, true
	}
	return nil, false
}
