package ident

import (
	"regexp"
	"testing"
)

// TestValidIsTheRegexp compares Valid with the expression it spells out
// on every string of up to four characters from a mix of allowed and
// refused ones.
func TestValidIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	alphabet := []string{"a", "z", "0", "9", "-", "A", "_", ".", " ", "é", "\n", "`", "{", "/", ":"}
	var try func(s string, n int)
	try = func(s string, n int) {
		if got, want := Valid(s), re.MatchString(s); got != want {
			t.Fatalf("Valid(%q) = %v, the expression says %v", s, got, want)
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			try(s+c, n-1)
		}
	}
	try("", 4)
}
