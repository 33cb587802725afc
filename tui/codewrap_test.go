package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// Code is shown as written at 80x24 (issue 22.2): a shell command too wide
// for the screen breaks at a space with " \", never at a hyphen or inside
// a token, a line with no such space is cut at the edge with "↩", and
// inline code is never split.
func TestLessonCodeIsNeverRewrapped(t *testing.T) {
	f := newFixture(t)
	tm := f.start(t, 80, 24, true)
	waitFor(t, tm, "Next:")
	press(tm, "j", "enter")
	waitFor(t, tm, "Short and sweet.")
	waitFor(t, tm, "before you apply")
	screen := finalScreen(t, tm)
	checkWidth(t, screen, 80)
	flat := strings.Join(strings.Fields(screen), " ")
	for _, want := range []string{
		"kubectl run tmp --rm -it --image=busybox:1.36 --restart=Never -- nslookup \\ web.lab-services.svc.cluster.local",
		"`kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml`",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	// The jsonpath has no space to break at: cut at the edge, marked, and
	// whole once the marker is taken out.
	joined := regexp.MustCompile(`↩\n *`).ReplaceAllString(screen, "")
	if !strings.Contains(screen, "↩") || !strings.Contains(joined, "'{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}'") {
		t.Errorf("the jsonpath is not shown whole with a continuation mark:\n%s", screen)
	}
	golden.RequireEqual(t, screen)
}

// A reference solution written as a heredoc shows its YAML as written
// (issue 22.1): indentation kept, no stray "\" lines, no line split.
func TestLabHeredocSolutionShownAsWritten(t *testing.T) {
	f := newFixture(t)
	labs := newFakeLabs()
	tm := f.startLab(t, labs, 80, 24, true)
	waitFor(t, tm, "graded live")
	press(tm, "j")
	waitFor(t, tm, "## Scale to five")
	press(tm, "S", "y")
	waitFor(t, tm, "Reference solution")
	waitFor(t, tm, "kubectl apply -f - <<'EOF'")
	press(tm, "space")
	waitFor(t, tm, "- containerPort: 80")
	screen := finalScreen(t, tm)
	checkWidth(t, screen, 80)
	for _, want := range []string{
		"\n              image: nginx:1.27\n              ports:\n                - containerPort: 80\n    EOF\n",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the heredoc is not shown as written; want\n%s\nin\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "\\\n") {
		t.Errorf("a heredoc line was continued with \\:\n%s", screen)
	}
	golden.RequireEqual(t, screen)
}

func checkWidth(t *testing.T, screen string, width int) {
	t.Helper()
	for i, line := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Errorf("line %d is %d cells wide: %q", i, w, line)
		}
	}
}
