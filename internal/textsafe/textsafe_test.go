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

func TestFind(t *testing.T) {
	for in, want := range map[string]int{
		"plain text\nand\ttabs":     -1,
		"windows\r\nlines\r\n":      -1,
		"ünï \x1b[31m":              6,
		"bare\rreturn":              4,
		"bell\a":                    4,
		"line\u2028separator":       4,
		"c1 \u009b31m csi, after ü": 3,
	} {
		if got, _ := Find(in); got != want {
			t.Errorf("Find(%q) = %d, want %d", in, got, want)
		}
	}
}
