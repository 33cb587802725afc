package textsafe

import "testing"

func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		"deployment web is ready":  "deployment web is ready",
		"two\nlines\tand a tab":    "two\nlines\tand a tab",
		"\x1b[31mred\x1b[0m":       `\x1b[31mred\x1b[0m`,
		"\x1b]0;owned\x07 title":   `\x1b]0;owned\x07 title`,
		"over\rwrite":              `over\x0dwrite`,
		"c1 \u009b31m csi":         `c1 \x9b31m csi`,
		"ünïcödé and emoji 🚀 stay": "ünïcödé and emoji 🚀 stay",
	} {
		if got := Inert(in); got != want {
			t.Errorf("Inert(%q) = %q, want %q", in, got, want)
		}
	}
}
