package lessons

import (
	"regexp"
	"strings"
	"sync"
)

// Compiled on first use, not while the program starts.
var (
	listItemRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([-*+]|\d+[.)])\s+\S`) })
	fenceRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^\\s*(```|~~~)") })
)

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
		if fenceRE().MatchString(line) {
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
		case listItemRE().MatchString(line):
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
