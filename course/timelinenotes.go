package course

import (
	"fmt"
	"strings"
	"unicode/utf8"

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

type timelineEntry struct {
	Step string `yaml:"step"`
	Why  string `yaml:"why"`
	See  string `yaml:"see"`
}

// loadTimelineNotes runs after the lessons are loaded, since every 'see'
// must name one of them. Which steps the timeline tells is its own
// business: a test of the timeline holds the built-in notes to its kinds.
func (l *loader) loadTimelineNotes(c *Course) {
	file := TimelineFile
	data, ok := l.readOptional(file)
	if !ok {
		return
	}
	root, ps := source.Parse(data)
	if ps != nil {
		l.add(file, ps)
		return
	}
	var tf timelineFile
	decoded := source.Decode(root, &tf).Merge(source.CheckHeader(root, tf.Header, "TimelineNotes"))
	var ps2 source.Problems
	problem := func(line int, format string, args ...any) {
		ps2 = append(ps2, source.Problem{Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if len(source.Items(root, "notes")) == 0 {
		problem(source.Line(root, "notes"), "%s lists no notes; add them under 'notes' (step, why, see), or remove the file", file)
	}
	c.TimelineNotes = map[string]*TimelineNote{}
	first := map[string]int{}
	for i, e := range tf.Notes {
		item := source.Item(root, "notes", i)
		step, why := strings.TrimSpace(e.Step), strings.TrimSpace(e.Why)
		ok := true
		switch line := source.Line(item, "step"); {
		case step == "":
			problem(line, "note %d has no step; add 'step: KIND' (a kind of timeline step, such as schedule)", i+1)
			ok = false
		case !ident.Valid(step):
			problem(line, "step %q is not a kind of timeline step; kinds are lowercase words joined by dashes, such as schedule", step)
			ok = false
		case first[step] != 0:
			problem(line, "step %q has two notes (also at line %d); keep one", step, first[step])
			ok = false
		default:
			first[step] = line
		}
		line := source.Line(item, "why")
		switch n := utf8.RuneCountInString(why); {
		case why == "":
			problem(line, "the note on %q has no why; add 'why:' with one sentence saying why that step happens", step)
			ok = false
		case strings.Contains(why, "\n"):
			problem(line, "the note on %q spans several lines; a why is one line", step)
			ok = false
		case n > MaxDefinition:
			problem(line, "the note on %q has %d characters; keep it to %d", step, n, MaxDefinition)
			ok = false
		}
		note := &TimelineNote{Step: step, Why: why}
		if e.See != "" {
			lesson, found := c.lessonByID[e.See]
			if !found {
				problem(source.Line(item, "see"), "the note on %q names lesson %q, which is not a lesson of this course%s", step, e.See, suggestLesson(c, e.See))
				ok = false
			}
			note.See = lesson
		}
		if ok {
			c.TimelineNotes[step] = note
		}
	}
	l.add(file, decoded.Merge(ps2))
}
