package textsafe

import "strings"

// Find returns the byte index of the first character Inert would escape,
// and that character, or -1. A carriage return that ends a line (CRLF) is
// not counted, so that files written on Windows pass.
func Find(s string) (int, rune) {
	for i, r := range s {
		if r == '\r' && strings.HasPrefix(s[i+1:], "\n") {
			continue
		}
		if unsafe(r) {
			return i, r
		}
	}
	return -1, 0
}
