package lessons

import (
	"strings"
)

// isFence reports whether line opens or closes a fenced block: ``` or ~~~
// after any blanks (what `^\s*(```|~~~)` matched). Matched by hand: the two
// regular expressions this and isListItem replace cost the TUI's first
// frame 36 M instructions (12%) over the course's 54 files.
func isFence(line string) bool {
	rest := strings.TrimLeft(line, blanks)
	return strings.HasPrefix(rest, "```") || strings.HasPrefix(rest, "~~~")
}

// isListItem reports whether line begins a list item: a bullet (-, * or +)
// or a number and '.' or ')', after any blanks, then blanks and some text
// (what `^\s*([-*+]|\d+[.)])\s+\S` matched).
func isListItem(line string) bool {
	rest := strings.TrimLeft(line, blanks)
	switch {
	case rest == "":
		return false
	case strings.IndexByte("-*+", rest[0]) >= 0:
		rest = rest[1:]
	default:
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		if digits == 0 || digits == len(rest) || (rest[digits] != '.' && rest[digits] != ')') {
			return false
		}
		rest = rest[digits+1:]
	}
	text := strings.TrimLeft(rest, blanks)
	return len(text) < len(rest) && text != ""
}

// blanks are what \s matches in Go's regular expressions.
const blanks = "\t\n\f\r "

// prepareMarkdown adjusts authored Markdown once at load time:
//
//   - It joins the wrapped lines of a list item into one, as the renderer
//     re-wraps items to the terminal's width anyway.
//   - It labels fenced blocks that name no language as "text", which the
//     renderer shows without highlighting. (Both began as work-arounds for
//     glamour.)
func prepareMarkdown(md string) string {
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	inFence, inItem := false, false
	for _, line := range lines {
		if isFence(line) {
			if !inFence && (strings.TrimSpace(line) == "```" || strings.TrimSpace(line) == "~~~") {
				line += "text"
			}
			inFence = !inFence
			inItem = false
			out = append(out, line)
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case inFence:
		case trimmed == "":
			inItem = false
		case isListItem(line):
			inItem = true
		case inItem && line != trimmed && len(out) > 0:
			out[len(out)-1] = strings.TrimRight(out[len(out)-1], " ") + " " + trimmed
			continue
		default:
			inItem = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
