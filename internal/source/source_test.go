package source

import "testing"

// Course text is drawn in a terminal: a control character is refused
// whether it is in the raw file or made by a quoted string's escape, and
// the problem names the line it is on.
func TestParseRefusesControlCharacters(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		line int
	}{
		{"title: plain\nhint: \"\\e[31mred\"\n", 2},
		{"a: 1\nb: \x1b[2J\n", 2},
		{"goal: |\n  fine\n  bell \a here\n", 3},
		{"title: 'single \u0085 quoted'\n", 1},
	} {
		_, ps := Parse([]byte(tc.yaml))
		if len(ps) != 1 || ps[0].Line != tc.line {
			t.Errorf("Parse(%q) = %v, want one problem on line %d", tc.yaml, ps, tc.line)
		}
	}
	if _, ps := Parse([]byte("title: \"tab\\there\"\r\ngoal: |\r\n  two\r\n  lines\r\n")); ps != nil {
		t.Errorf("tabs, newlines and CRLF line ends were refused: %v", ps)
	}
}
