package textsafe

import (
	"strings"
	"testing"
)

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

// findByRune is Find as it was before its ASCII fast path: the reference
// the fast path must agree with on any input, valid UTF-8 or not.
func findByRune(s string) (int, rune) {
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

// TestFindAgreesWithRuneLoop tries every string of up to two bytes, and
// every byte after the lead bytes of U+0080..U+009F and U+2028/U+2029,
// before and after ASCII text.
func TestFindAgreesWithRuneLoop(t *testing.T) {
	try := func(s string) {
		gi, gr := Find(s)
		wi, wr := findByRune(s)
		if gi != wi || gr != wr {
			t.Fatalf("Find(%q) = %d, %U; the rune loop says %d, %U", s, gi, gr, wi, wr)
		}
	}
	for a := range 256 {
		try(string([]byte{byte(a)}))
		for b := range 256 {
			try(string([]byte{byte(a), byte(b)}))
			try("ok " + string([]byte{byte(a), byte(b)}) + "\r\n")
			try(string([]byte{0xe2, byte(a), byte(b)}))
			try("é" + string([]byte{0xe2, 0x80, byte(b)}) + "x")
		}
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{"plain", "a\r\nb", "\r", "ü\u2028", "\xc2\x9b", "\xe2\x80\xa9", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gi, gr := Find(s)
		wi, wr := findByRune(s)
		if gi != wi || gr != wr {
			t.Fatalf("Find(%q) = %d, %U; the rune loop says %d, %U", s, gi, gr, wi, wr)
		}
	})
}
