package wordwrap

import (
	"slices"
	"testing"
)

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		text  string
		width int
		want  []string
	}{
		// A command and a pod name stay whole, though a break at their
		// hyphens would fill the line better.
		{"run kubectl apply --server-side -f web.yaml", 20, []string{"run kubectl apply", "--server-side -f", "web.yaml"}},
		{"delete web-69c6f74b8b-2pmpm now", 12, []string{"delete", "web-69c6f74b8b-2pmpm", "now"}},
		// Wide runes count as two cells each, as the terminal draws them.
		{"日本 語", 4, []string{"日本", "語"}},
		{"a  b\nc", 80, []string{"a b c"}},
		{"", 10, []string{""}},
	} {
		if got := Lines(tc.text, tc.width); !slices.Equal(got, tc.want) {
			t.Errorf("Lines(%q, %d) = %q, want %q", tc.text, tc.width, got, tc.want)
		}
	}
}
