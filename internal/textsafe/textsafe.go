// Package textsafe makes text that came from a cluster safe to print: an
// object's annotation, an event or an error message may hold terminal
// escape sequences, which must show as text and never move the cursor,
// recolour the screen or retitle the window.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
)

// Inert returns s with every control character (escape, bell, carriage
// return, the C1 range) written out as a visible \x.. escape; newlines and
// tabs are kept. Text without control characters comes back unchanged.
func Inert(s string) string {
	if !strings.ContainsFunc(s, unsafe) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteRune(r)
		case unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafe(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}
