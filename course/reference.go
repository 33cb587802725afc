package course

import (
	"fmt"
	"sort"
	"strings"

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

func (f glossaryFile) header() source.Header    { return f.Header }
func (f glossaryFile) entries() []glossaryEntry { return f.Terms }

type glossaryEntry struct {
	Term       string `yaml:"term"`
	Definition string `yaml:"definition"`
	See        string `yaml:"see"`
}

// loadGlossary runs after the lessons are loaded, since every 'see' must
// name one of them.
func (l *loader) loadGlossary(c *Course) {
	spec := listSpec{file: GlossaryFile, kind: "Glossary", key: "terms",
		none: fmt.Sprintf("the glossary lists no terms; add them under 'terms' (term, definition, see), or remove %s", GlossaryFile)}
	first := map[string]int{}
	loadList[glossaryFile](l, c, spec, func(i int, e glossaryEntry, p *listEntry) {
		term, def := strings.TrimSpace(e.Term), strings.TrimSpace(e.Definition)
		ok := true
		switch termLine := p.line("term"); {
		case term == "":
			p.problem(termLine, "entry %d has no term; add 'term: NAME'", i+1)
			ok = false
		case first[strings.ToLower(term)] != 0:
			p.problem(termLine, "term %q is listed twice (also at line %d); keep one entry", term, first[strings.ToLower(term)])
			ok = false
		default:
			first[strings.ToLower(term)] = termLine
		}
		name := term
		if name == "" {
			name = fmt.Sprintf("entry %d", i+1)
		}
		q := fmt.Sprintf("%q", name)
		if !p.oneLine("definition", def, "the definition of "+q,
			q+" has no definition; add 'definition:' with one line saying what it is",
			"the definition of "+q+" spans several lines; a glossary definition is one line") {
			ok = false
		}
		t := &Term{Term: term, Definition: def}
		if lesson, found := p.see(e.See, q); found {
			t.See = lesson
		} else {
			ok = false
		}
		if ok {
			c.Glossary = append(c.Glossary, t)
		}
	})
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
