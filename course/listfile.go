package course

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/lessons"
	"go.yaml.in/yaml/v3"
)

// A list file is an optional course file that lists entries, each of which
// may name the lesson that teaches it with 'see': the glossary and the
// timeline notes. loadList does what every such file needs (read it,
// parse and decode it, check its header and that its list is not empty)
// and hands each entry to the caller, which checks the entry's own fields
// with listEntry's helpers. Its problems reach the loader with file and
// line, the same as every other file's.

// listFile is the decoded form of a list file: its header and entries.
type listFile[E any] interface {
	header() source.Header
	entries() []E
}

// listSpec names a list file and what to say when it lists nothing.
type listSpec struct {
	// file is its name at the course's root; kind, its header's kind.
	file, kind string
	// key is the list's field ("terms", "notes").
	key string
	// none is the problem of a file whose list is empty.
	none string
}

// loadList loads the list file spec names, decoded as F, and calls each
// with every entry. It runs after the lessons are loaded, since every
// 'see' must name one of them.
func loadList[F listFile[E], E any](l *loader, c *Course, spec listSpec, each func(i int, e E, p *listEntry)) {
	data, ok := l.readOptional(spec.file)
	if !ok {
		return
	}
	root, ps := source.Parse(data)
	if ps != nil {
		l.add(spec.file, ps)
		return
	}
	var f F
	decoded := source.Decode(root, &f)
	decoded = decoded.Merge(source.CheckHeader(root, f.header(), spec.kind))
	p := &listEntry{c: c}
	if len(source.Items(root, spec.key)) == 0 {
		p.problem(source.Line(root, spec.key), "%s", spec.none)
	}
	for i, e := range f.entries() {
		p.node = source.Item(root, spec.key, i)
		each(i, e, p)
	}
	// A field that failed to decode is not also reported as missing.
	l.add(spec.file, decoded.Merge(p.problems))
}

// listEntry checks the entry of a list file that loadList is at, and
// collects the problems of all of them.
type listEntry struct {
	c        *Course
	node     *yaml.Node
	problems source.Problems
}

func (p *listEntry) problem(line int, format string, args ...any) {
	p.problems = append(p.problems, source.Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// line is the line of the entry's field key (of the entry, without one).
func (p *listEntry) line(key string) int { return source.Line(p.node, key) }

// oneLine checks text, the entry's field key, which must be one line of
// at most MaxDefinition characters, so that it keeps to two lines at 80
// columns. missing and several are the problems of an empty text and of
// one that spans lines; subject names the entry in "SUBJECT has N
// characters". It reports whether the text is good.
func (p *listEntry) oneLine(key, text, subject, missing, several string) bool {
	line := p.line(key)
	switch n := utf8.RuneCountInString(text); {
	case text == "":
		p.problem(line, "%s", missing)
	case strings.Contains(text, "\n"):
		p.problem(line, "%s", several)
	case n > MaxDefinition:
		p.problem(line, "%s has %d characters; keep it to %d", subject, n, MaxDefinition)
	default:
		return true
	}
	return false
}

// see is the lesson id, the entry's 'see' ("" for none), names; subject
// names the entry in "SUBJECT names lesson ...". It reports whether the
// id is "" or a lesson of the course.
func (p *listEntry) see(id, subject string) (*lessons.Lesson, bool) {
	if id == "" {
		return nil, true
	}
	lesson, found := p.c.lessonByID[id]
	if !found {
		p.problem(p.line("see"), "%s names lesson %q, which is not a lesson of this course%s", subject, id, suggestLesson(p.c, id))
	}
	return lesson, found
}
