package lessons_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/lessons"
)

var inlineCodeRE = regexp.MustCompile("`([^`]+)`")

// Every lesson of the course, rendered at 80 columns without colour, is
// kept in testdata/course (UPDATE_GOLDEN=1 rewrites them), so that a change
// to the renderer shows as a diff of what learners read. Each rendering is
// also checked for what must hold whatever the layout: no line wider than
// the screen, every inline code span whole on one line, and every line of
// every code block there as written, or broken only where it says so.
func TestEveryLessonRendering(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	r := lessons.NewRenderer()
	for _, l := range c.AllLessons() {
		out, err := r.Render(l.Body, lessons.NoColor, 80)
		if err != nil {
			t.Fatal(err)
		}
		plain := ansi.Strip(out)
		for i, line := range strings.Split(plain, "\n") {
			if w := ansi.StringWidth(line); w > 80 {
				t.Errorf("%s: line %d is %d cells wide: %q", l.ID, i, w, line)
			}
		}
		prose, code := splitFences(l.Body)
		for _, m := range inlineCodeRE.FindAllStringSubmatch(strings.ReplaceAll(prose, "\n", " "), -1) {
			span := m[1]
			if len(span) > 2 && span[0] == ' ' && span[len(span)-1] == ' ' {
				span = span[1 : len(span)-1] // as CommonMark does
			}
			if len(span) <= 76 && !strings.Contains(plain, "`"+span+"`") {
				t.Errorf("%s: inline code %q is not shown whole", l.ID, span)
			}
		}
		// Undo the renderer's marked breaks; what is left must hold
		// every code line as written.
		joined := regexp.MustCompile(`↩\n *| \\\n *`).ReplaceAllString(plain, " ")
		joined = strings.Join(strings.Fields(joined), " ")
		for _, line := range code {
			want := strings.Join(strings.Fields(strings.TrimSuffix(line, `\`)), " ")
			if want != "" && !strings.Contains(joined, want) && !strings.Contains(strings.ReplaceAll(joined, " ", ""), strings.ReplaceAll(want, " ", "")) {
				t.Errorf("%s: code line %q is not shown as written", l.ID, line)
			}
		}

		golden := filepath.Join("testdata", "course", l.ID+".golden")
		if os.Getenv("UPDATE_GOLDEN") != "" {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(plain), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
		}
		if plain != string(want) {
			t.Errorf("%s renders differently from %s; if that is intended, UPDATE_GOLDEN=1 rewrites it and the diff shows the change", l.ID, golden)
		}
	}
}

// splitFences returns a Markdown document's text outside fenced code
// blocks, and the lines inside them.
func splitFences(md string) (prose string, code []string) {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			in = !in
			continue
		}
		if in {
			code = append(code, line)
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String(), code
}
