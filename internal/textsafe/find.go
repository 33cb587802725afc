package textsafe

import "unicode/utf8"

// Find returns the byte index of the first character Inert would escape,
// and that character, or -1. A carriage return that ends a line (CRLF) is
// not counted, so that files written on Windows pass.
//
// Every course file goes through Find at load, most of it ASCII, so ASCII
// is judged a byte at a time; decoding each rune was a tenth of the TUI's
// start-up instructions.
func Find(s string) (int, rune) {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if (b < 0x20 || b == 0x7f) && b != '\n' && b != '\t' && (b != '\r' || i+1 >= len(s) || s[i+1] != '\n') {
				return i, rune(b)
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if unsafe(r) {
			return i, r
		}
		i += w
	}
	return -1, 0
}
