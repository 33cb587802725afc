package course

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/lessons"
)

// The course's reference material, both optional: a course given with
// --content may have neither.
const (
	GlossaryFile   = "glossary.yaml"
	CheatSheetFile = "cheatsheet.md"
)

// MaxDefinition is the longest glossary definition, in characters: the
// glossary promises one line per term, which this keeps to two lines of
// an 80-column terminal.
const MaxDefinition = 160

// Term is one glossary entry.
type Term struct {
	Term       string
	Definition string
	// See is the lesson that introduces the term; nil for a term no lesson
	// introduces (e.g. one the course only mentions).
	See *lessons.Lesson
}

// TermsIntroducedIn returns the glossary terms whose lesson is l, in
// glossary order.
func (c *Course) TermsIntroducedIn(l *lessons.Lesson) []*Term {
	var out []*Term
	for _, t := range c.Glossary {
		if t.See == l {
			out = append(out, t)
		}
	}
	return out
}

type glossaryFile struct {
	source.Header `yaml:",inline"`
	Terms         []glossaryEntry `yaml:"terms"`
}

type glossaryEntry struct {
	Term       string `yaml:"term"`
	Definition string `yaml:"definition"`
	See        string `yaml:"see"`
}

// loadGlossary runs after the lessons are loaded, since every 'see' must
// name one of them.
func (l *loader) loadGlossary(c *Course) {
	file := GlossaryFile
	data, ok := l.readOptional(file)
	if !ok {
		return
	}
	root, ps := source.Parse(data)
	if ps != nil {
		l.add(file, ps)
		return
	}
	var gf glossaryFile
	decoded := source.Decode(root, &gf).Merge(source.CheckHeader(root, gf.Header, "Glossary"))
	var ps2 source.Problems
	problem := func(line int, format string, args ...any) {
		ps2 = append(ps2, source.Problem{Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if len(source.Items(root, "terms")) == 0 {
		problem(source.Line(root, "terms"), "the glossary lists no terms; add them under 'terms' (term, definition, see), or remove %s", file)
	}
	first := map[string]int{}
	for i, e := range gf.Terms {
		item := source.Item(root, "terms", i)
		term, def := strings.TrimSpace(e.Term), strings.TrimSpace(e.Definition)
		ok := true
		switch termLine := source.Line(item, "term"); {
		case term == "":
			problem(termLine, "entry %d has no term; add 'term: NAME'", i+1)
			ok = false
		case first[strings.ToLower(term)] != 0:
			problem(termLine, "term %q is listed twice (also at line %d); keep one entry", term, first[strings.ToLower(term)])
			ok = false
		default:
			first[strings.ToLower(term)] = termLine
		}
		name := term
		if name == "" {
			name = fmt.Sprintf("entry %d", i+1)
		}
		defLine := source.Line(item, "definition")
		switch n := utf8.RuneCountInString(def); {
		case def == "":
			problem(defLine, "%q has no definition; add 'definition:' with one line saying what it is", name)
			ok = false
		case strings.Contains(def, "\n"):
			problem(defLine, "the definition of %q spans several lines; a glossary definition is one line", name)
			ok = false
		case n > MaxDefinition:
			problem(defLine, "the definition of %q has %d characters; keep it to %d", name, n, MaxDefinition)
			ok = false
		}
		t := &Term{Term: term, Definition: def}
		if e.See != "" {
			lesson, found := c.lessonByID[e.See]
			if !found {
				problem(source.Line(item, "see"), "%q names lesson %q, which is not a lesson of this course%s", name, e.See, suggestLesson(c, e.See))
				ok = false
			}
			t.See = lesson
		}
		if ok {
			c.Glossary = append(c.Glossary, t)
		}
	}
	// A field that failed to decode is not also reported as missing.
	l.add(file, decoded.Merge(ps2))
	// Shown sorted whatever the file's order, so a reader finds a term.
	sort.SliceStable(c.Glossary, func(i, j int) bool {
		return strings.ToLower(c.Glossary[i].Term) < strings.ToLower(c.Glossary[j].Term)
	})
}

// suggestLesson names the lesson id closest to a mistyped one.
func suggestLesson(c *Course, id string) string {
	best, bestDist := "", 4
	for other := range c.lessonByID {
		if d := source.EditDistance(id, other); d < bestDist || (d == bestDist && other < best) {
			best, bestDist = other, d
		}
	}
	if best == "" {
		return "; 'see' takes a lesson id from a lesson's front matter"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func (l *loader) loadCheatSheet(c *Course) {
	file := CheatSheetFile
	data, ok := l.readOptional(file)
	if !ok {
		return
	}
	cs, ps := lessons.ParseCheatSheet(data)
	if len(ps) > 0 {
		l.add(file, ps)
		return
	}
	cs.File = file
	c.CheatSheet = cs
}
