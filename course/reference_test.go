package course_test

import (
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

func TestLoadGlossaryAndCheatSheet(t *testing.T) {
	c, err := course.Load(courseFS(t, map[string]string{
		"glossary.yaml": `apiVersion: k8slab.dev/v1alpha1
kind: Glossary
terms:
  - term: node
    definition: A machine that runs pods.
    see: second
  - term: Annotation
    definition: A note on an object.
  - term: kubectl
    definition: The command-line client.
    see: first
  - term: label
    definition: A key-value pair on an object.
    see: first
`,
		"cheatsheet.md": "---\nid: sheet\ntitle: kubectl cheat sheet\n---\n\n## Look\n\n```\nkubectl get pods\n```\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	for _, term := range c.Glossary {
		terms = append(terms, term.Term)
	}
	// Sorted whatever the file's order, ignoring case.
	if got := strings.Join(terms, ","); got != "Annotation,kubectl,label,node" {
		t.Errorf("glossary terms = %s", got)
	}
	first, _ := c.Lesson("first")
	second, _ := c.Lesson("second")
	if c.Glossary[0].See != nil || c.Glossary[3].See != second {
		t.Errorf("see not resolved: %+v %+v", c.Glossary[0], c.Glossary[3])
	}
	var intro []string
	for _, term := range c.TermsIntroducedIn(first) {
		intro = append(intro, term.Term)
	}
	if got := strings.Join(intro, ","); got != "kubectl,label" {
		t.Errorf("terms introduced in the first lesson = %s", got)
	}
	cs := c.CheatSheet
	if cs == nil || cs.Title != "kubectl cheat sheet" || cs.File != "cheatsheet.md" {
		t.Fatalf("cheat sheet = %+v", cs)
	}
	// Unnamed fences are labelled, as in lessons (see lessons.prepareMarkdown).
	if !strings.HasPrefix(cs.Body, "\n## Look") || !strings.Contains(cs.Body, "```text\nkubectl get pods") {
		t.Errorf("cheat sheet body = %q", cs.Body)
	}
}

// Both are optional: a course without them loads, with neither.
func TestGlossaryAndCheatSheetAreOptional(t *testing.T) {
	c, err := course.Load(courseFS(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Glossary != nil || c.CheatSheet != nil {
		t.Errorf("glossary %v, cheat sheet %v; want none", c.Glossary, c.CheatSheet)
	}
}

func TestBuiltInGlossaryAndCheatSheet(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Glossary) < 50 || c.CheatSheet == nil {
		t.Fatalf("built-in course: %d terms, cheat sheet %v", len(c.Glossary), c.CheatSheet)
	}
	linked := 0
	for _, term := range c.Glossary {
		if term.See != nil {
			linked++
		}
	}
	if linked < len(c.Glossary)*3/4 {
		t.Errorf("only %d of %d terms name the lesson that introduces them", linked, len(c.Glossary))
	}
}

func TestLoadTimelineNotes(t *testing.T) {
	c, err := course.Load(courseFS(t, map[string]string{
		"timeline.yaml": `apiVersion: k8slab.dev/v1alpha1
kind: TimelineNotes
notes:
  - step: schedule
    why: The scheduler picks a node.
    see: first
  - step: serve
    why: Ready pods get traffic.
`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := c.Lesson("first")
	if n := c.TimelineNote("schedule"); n == nil || n.Why != "The scheduler picks a node." || n.See != first {
		t.Errorf("schedule note = %+v", n)
	}
	if n := c.TimelineNote("serve"); n == nil || n.See != nil {
		t.Errorf("serve note = %+v", n)
	}
	if c.TimelineNote("stop") != nil {
		t.Error("a step with no note has one")
	}
}

// Every problem of a timeline.yaml is reported with its line.
func TestTimelineNotesProblems(t *testing.T) {
	_, err := course.Load(courseFS(t, map[string]string{
		"timeline.yaml": `apiVersion: k8slab.dev/v1alpha1
kind: TimelineNotes
notes:
  - step: schedule
    why: The scheduler picks a node.
    see: frist
  - step: schedule
    why: Again.
  - step: Serve Now
    why: x
  - step: stop
    why: ` + strings.Repeat("long ", 40) + `
`,
	}))
	if err == nil {
		t.Fatal("a bad timeline.yaml loaded")
	}
	for _, want := range []string{
		`timeline.yaml:6: the note on "schedule" names lesson "frist", which is not a lesson of this course (did you mean "first"?)`,
		`timeline.yaml:7: step "schedule" has two notes (also at line 4); keep one`,
		`timeline.yaml:9: step "Serve Now" is not a kind of timeline step`,
		`timeline.yaml:12: the note on "stop" has 199 characters; keep it to 160`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
