package lessons

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
)

// The regular expressions isFence and isListItem replaced: the matchers
// must agree with them on every line.
var (
	fenceRE    = regexp.MustCompile("^\\s*(```|~~~)")
	listItemRE = regexp.MustCompile(`^\s*([-*+]|\d+[.)])\s+\S`)
)

func checkMatchers(t *testing.T, line string) {
	t.Helper()
	if got, want := isFence(line), fenceRE.MatchString(line); got != want {
		t.Errorf("isFence(%q) = %v, the regular expression says %v", line, got, want)
	}
	if got, want := isListItem(line), listItemRE.MatchString(line); got != want {
		t.Errorf("isListItem(%q) = %v, the regular expression says %v", line, got, want)
	}
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, line := range []string{"", " ", "-", "- ", "- a", "-a", "  * b", "+\tc", "1. x", "12) y", "1.", "1. ", "1.x",
		"a. b", "\f- \u00a0", "- \u00a0", "\v- a", "- \v", "```", "  ~~~yaml", "``", "\t```go", "~ ~~", "0)\t\tz", "\xff", "- \xff"} {
		checkMatchers(t, line)
	}
	err := fs.WalkDir(assets.Course(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		data, err := fs.ReadFile(assets.Course(), p)
		for _, line := range strings.Split(string(data), "\n") {
			checkMatchers(t, line)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzMatchersAgreeWithRegexps(f *testing.F) {
	for _, s := range []string{"- a", "1. b", "```", " ~~~", "12)\tc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, "\n") {
			return // lines are split on it
		}
		checkMatchers(t, line)
	})
}
