package lessons

import (
	"regexp"
	"strings"
)

var (
	listItemRE = regexp.MustCompile(`^\s*([-*+]|\d+[.)])\s+\S`)
	fenceRE    = regexp.MustCompile("^\\s*(```|~~~)")
)

// prepareMarkdown adjusts authored Markdown for glamour, once at load time:
//
//   - It joins the wrapped lines of a list item into one. Authors wrap
//     Markdown source at 80 columns, but glamour turns a soft line break
//     inside a list item into a hard one, which leaves a stub line when the
//     item is re-wrapped to the terminal's width.
//   - It labels fenced blocks that name no language as "text". For an empty
//     name, chroma matches the name against every lexer's file-name
//     patterns, which was over 40% of the time spent rendering the course.
func prepareMarkdown(md string) string {
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	inFence, inItem := false, false
	for _, line := range lines {
		if fenceRE.MatchString(line) {
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
		case listItemRE.MatchString(line):
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
