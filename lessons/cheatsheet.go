package lessons

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/k8slab/k8slab/internal/source"
)

// CheatSheetWidth is the widest line a cheat sheet's code block may have.
// Code is never re-wrapped, and the renderer's margins take the rest of 80
// columns, so a wider line would be cut off in an 80-column terminal.
const CheatSheetWidth = 76

// CheatSheet is a page of Markdown shown over any screen.
type CheatSheet struct {
	Title string
	// Body is the Markdown after the front matter.
	Body string
	File string
}

type cheatSheetFront struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
}

// ParseCheatSheet splits a cheat sheet into its front matter (a title) and
// Markdown body, and checks that its code fits an 80-column terminal.
// Problem lines are lines of the whole file.
func ParseCheatSheet(data []byte) (*CheatSheet, source.Problems) {
	fm, ps := splitFrontMatter(data, "a cheat sheet", "a title")
	if ps != nil {
		return nil, ps
	}
	var front cheatSheetFront
	root, perr := source.Parse(fm.yaml)
	if perr != nil {
		return nil, perr.InFile("", 1)
	}
	ps = source.Decode(root, &front).InFile("", 1)
	if strings.TrimSpace(front.Title) == "" {
		ps = ps.Merge(source.Problems{{Line: 1, Message: "front matter has no title"}})
	}
	if strings.TrimSpace(fm.body) == "" {
		ps = append(ps, source.Problem{Line: fm.end + 1, Message: "the cheat sheet has no text after its front matter"})
	}
	inFence := false
	for i, line := range strings.Split(fm.body, "\n") {
		if isFence(line) {
			inFence = !inFence
			continue
		}
		if n := utf8.RuneCountInString(strings.TrimRight(line, " \r")); inFence && n > CheatSheetWidth {
			ps = append(ps, source.Problem{Line: fm.end + 2 + i, Message: fmt.Sprintf("this code line is %d characters wide; code is not re-wrapped, so keep it to %d (split a command with a trailing \\)", n, CheatSheetWidth)})
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return &CheatSheet{Title: front.Title, Body: prepareMarkdown(fm.body)}, nil
}
