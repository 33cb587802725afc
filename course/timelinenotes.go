package course

import (
	"fmt"
	"strings"

	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/lessons"
)

// TimelineFile says, for each kind of step the timeline tells, why it
// happens: optional, like the glossary.
const TimelineFile = "timeline.yaml"

// TimelineNote is the course's word on one kind of timeline step.
type TimelineNote struct {
	Step string
	// Why is one sentence of at most MaxDefinition characters, so that
	// it keeps to two lines at 80 columns.
	Why string
	// See is the lesson that teaches it; nil for none.
	See *lessons.Lesson
}

// TimelineNote returns the note on a kind of step, nil for none.
func (c *Course) TimelineNote(step string) *TimelineNote {
	if c == nil {
		return nil
	}
	return c.TimelineNotes[step]
}

// TimelineWhy is the note on a kind of step as a timeline carries it
// (timeline.Annotate): the why and its lesson's title, "" for none.
func (c *Course) TimelineWhy(step string) (why, lesson string) {
	n := c.TimelineNote(step)
	if n == nil {
		return "", ""
	}
	if n.See != nil {
		lesson = n.See.Title
	}
	return n.Why, lesson
}

type timelineFile struct {
	source.Header `yaml:",inline"`
	Notes         []timelineEntry `yaml:"notes"`
}

func (f timelineFile) header() source.Header    { return f.Header }
func (f timelineFile) entries() []timelineEntry { return f.Notes }

type timelineEntry struct {
	Step string `yaml:"step"`
	Why  string `yaml:"why"`
	See  string `yaml:"see"`
}

// loadTimelineNotes runs after the lessons are loaded, since every 'see'
// must name one of them. Which steps the timeline tells is its own
// business: a test of the timeline holds the built-in notes to its kinds.
func (l *loader) loadTimelineNotes(c *Course) {
	spec := listSpec{file: TimelineFile, kind: "TimelineNotes", key: "notes",
		none: fmt.Sprintf("%s lists no notes; add them under 'notes' (step, why, see), or remove the file", TimelineFile)}
	first := map[string]int{}
	loadList[timelineFile](l, c, spec, func(i int, e timelineEntry, p *listEntry) {
		if c.TimelineNotes == nil {
			c.TimelineNotes = map[string]*TimelineNote{}
		}
		step, why := strings.TrimSpace(e.Step), strings.TrimSpace(e.Why)
		ok := true
		switch line := p.line("step"); {
		case step == "":
			p.problem(line, "note %d has no step; add 'step: KIND' (a kind of timeline step, such as schedule)", i+1)
			ok = false
		case !ident.Valid(step):
			p.problem(line, "step %q is not a kind of timeline step; kinds are lowercase words joined by dashes, such as schedule", step)
			ok = false
		case first[step] != 0:
			p.problem(line, "step %q has two notes (also at line %d); keep one", step, first[step])
			ok = false
		default:
			first[step] = line
		}
		subject := fmt.Sprintf("the note on %q", step)
		if !p.oneLine("why", why, subject,
			subject+" has no why; add 'why:' with one sentence saying why that step happens",
			subject+" spans several lines; a why is one line") {
			ok = false
		}
		note := &TimelineNote{Step: step, Why: why}
		if lesson, found := p.see(e.See, subject); found {
			note.See = lesson
		} else {
			ok = false
		}
		if ok {
			c.TimelineNotes[step] = note
		}
	})
}
