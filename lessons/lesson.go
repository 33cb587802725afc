// Package lessons is about the Markdown pages a course is read in, lessons
// and the cheat sheet: parsing their front matter, preparing their Markdown
// and rendering it for a terminal. Loading a whole course is package course.
package lessons

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/source"
)

// Lesson is one Markdown lesson.
type Lesson struct {
	ID      string
	Title   string
	Order   int
	Minutes int
	// Module is the id of the lesson's module, set by the course loader.
	Module string
	// Body is the Markdown after the front matter.
	Body string
	// File is the lesson's path relative to the course root.
	File string
}

type frontMatter struct {
	ID      string `yaml:"id"`
	Title   string `yaml:"title"`
	Order   int    `yaml:"order"`
	Minutes int    `yaml:"minutes"`
}

var fence = []byte("---")

// splitFile is a Markdown file split at its front matter.
type splitFile struct {
	yaml []byte
	body string
	// end is the index of the closing '---' line (its line number - 1).
	end int
}

// splitFrontMatter splits a file into its front matter and Markdown body;
// fields says what the front matter must hold, for the problems.
func splitFrontMatter(data []byte, kind, fields string) (splitFile, source.Problems) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if ps := source.CheckText(string(data), 1); ps != nil {
		return splitFile{}, ps
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) == 0 || !bytes.Equal(bytes.TrimRight(lines[0], " \r\n"), fence) {
		return splitFile{}, source.Problems{{Line: 1, Message: fmt.Sprintf("%s must start with front matter: a line '---', then %s, then '---'", kind, fields)}}
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if bytes.Equal(bytes.TrimRight(lines[i], " \r\n"), fence) {
			end = i
			break
		}
	}
	if end < 0 {
		return splitFile{}, source.Problems{{Line: 1, Message: "front matter is not closed; add a line '---' after it"}}
	}
	f := splitFile{yaml: bytes.Join(lines[1:end], nil), body: string(bytes.Join(lines[end+1:], nil)), end: end}
	if len(bytes.TrimSpace(f.yaml)) == 0 {
		return splitFile{}, source.Problems{{Line: 1, Message: "front matter is empty; it needs " + fields}}
	}
	return f, nil
}

// ParseLesson splits a lesson into its front matter and Markdown body and
// validates the front matter. Problem lines are lines of the whole file.
func ParseLesson(data []byte) (*Lesson, source.Problems) {
	f, ps := splitFrontMatter(data, "a lesson", "id, title, order and minutes")
	if ps != nil {
		return nil, ps
	}
	body, end := f.body, f.end
	var fm frontMatter
	root, perr := source.Parse(f.yaml)
	if perr != nil {
		return nil, perr.InFile("", 1)
	}
	decodeProblems := source.Decode(root, &fm).InFile("", 1)
	at := func(key string) int { return source.Line(root, key) + 1 }
	switch {
	case fm.ID == "":
		ps = append(ps, source.Problem{Line: 1, Message: "front matter has no id"})
	case !ident.Valid(fm.ID):
		ps = append(ps, source.Problem{Line: at("id"), Message: fmt.Sprintf("lesson id %q must be lowercase letters, digits and dashes", fm.ID)})
	}
	if strings.TrimSpace(fm.Title) == "" {
		ps = append(ps, source.Problem{Line: 1, Message: "front matter has no title"})
	}
	if fm.Order < 1 {
		ps = append(ps, source.Problem{Line: at("order"), Message: "order must be a whole number from 1 (the lesson's place in its module)"})
	}
	if fm.Minutes < 1 {
		ps = append(ps, source.Problem{Line: at("minutes"), Message: "minutes must be a whole number from 1 (estimated reading time)"})
	}
	if strings.TrimSpace(body) == "" {
		ps = append(ps, source.Problem{Line: end + 1, Message: "the lesson has no text after its front matter"})
	}
	if ps = decodeProblems.Merge(ps); len(ps) > 0 {
		return nil, ps
	}
	return &Lesson{ID: fm.ID, Title: fm.Title, Order: fm.Order, Minutes: fm.Minutes, Body: prepareMarkdown(body)}, nil
}
