// Package wordwrap breaks text into lines at spaces only. Course text,
// check messages and timeline steps carry commands and object names
// (kubectl apply --server-side, web-69c6f74b8b-2pmpm) that a learner
// copies, so a line never breaks inside a word, not even at a hyphen.
package wordwrap

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Lines breaks text at spaces into lines at most width cells wide, as the
// terminal counts them; a word wider than that keeps a line of its own.
// Runs of spaces and newlines count as one space.
func Lines(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}
