package assets_test

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

// glossary is the shape of assets/course/glossary.yaml.
type glossary struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Terms      []entry `yaml:"terms"`
}

type entry struct {
	Term       string `yaml:"term"`
	Definition string `yaml:"definition"`
	// See is the id of the lesson that introduces the term.
	See string `yaml:"see"`
}

func loadGlossary(t *testing.T) glossary {
	t.Helper()
	data, err := fs.ReadFile(assets.Course(), "glossary.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var g glossary
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("glossary.yaml: %v", err)
	}
	return g
}

func TestGlossaryEntriesAreWellFormed(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	g := loadGlossary(t)
	if g.APIVersion != "k8slab.dev/v1alpha1" || g.Kind != "Glossary" {
		t.Errorf("glossary.yaml: want apiVersion k8slab.dev/v1alpha1 and kind Glossary, got %q %q", g.APIVersion, g.Kind)
	}
	if len(g.Terms) < 50 {
		t.Errorf("glossary.yaml has %d terms; the course uses far more", len(g.Terms))
	}
	seen := map[string]bool{}
	for i, e := range g.Terms {
		if e.Term == "" {
			t.Errorf("glossary.yaml: entry %d has no term", i+1)
		}
		key := strings.ToLower(e.Term)
		if seen[key] {
			t.Errorf("glossary.yaml: term %q is listed twice", e.Term)
		}
		seen[key] = true
		def := strings.TrimSpace(e.Definition)
		switch {
		case def == "":
			t.Errorf("glossary.yaml: %q has no definition", e.Term)
		case strings.Contains(def, "\n"):
			t.Errorf("glossary.yaml: the definition of %q spans several lines; keep it to one", e.Term)
		case len(def) > 160:
			t.Errorf("glossary.yaml: the definition of %q has %d characters; keep it to 160", e.Term, len(def))
		}
		if e.See != "" {
			l, ok := builtIn.Lesson(e.See)
			switch {
			case !ok:
				t.Errorf("glossary.yaml: %q points to lesson %q, which does not exist", e.Term, e.See)
			case !strings.Contains(strings.ToLower(l.Body), strings.ToLower(e.Term)):
				t.Errorf("glossary.yaml: %q points to lesson %q, which never mentions it", e.Term, e.See)
			}
		}
	}
	// Sorted, so a reader (and a reviewer) finds a term quickly.
	if !slices.IsSortedFunc(g.Terms, func(a, b entry) int {
		return strings.Compare(strings.ToLower(a.Term), strings.ToLower(b.Term))
	}) {
		t.Error("glossary.yaml: keep the terms in alphabetical order")
	}
}

// syllabus is the module order of ../shared/SYLLABUS.md, with the kubectl
// and YAML module before pods, and configuration, scheduling and
// troubleshooting (issue #23) after storage, just before the capstone.
var syllabus = []string{
	"why-orchestration", "architecture", "kubectl-and-yaml", "pods",
	"deployments", "rolling-updates", "services", "declarative", "health",
	"storage", "configuration", "scheduling", "troubleshooting", "capstone",
}

func TestCourseFollowsSyllabus(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range builtIn.Modules {
		got = append(got, m.ID)
	}
	var want []string
	for _, id := range syllabus {
		if !slices.Contains(got, id) {
			t.Errorf("syllabus module %s is missing from course.yaml", id)
		}
		want = append(want, id)
	}
	if !slices.Equal(got, want) {
		t.Errorf("course modules are %v; the syllabus order is %v", got, want)
	}
	for _, m := range builtIn.Modules {
		if len(m.Lessons) == 0 || m.Quiz == nil {
			t.Errorf("module %s needs lessons and a quiz", m.ID)
		}
	}
}

// Modules 8 to 10 promise at least eight questions each, of more than one
// kind, each explaining its answer.
func TestNewModuleQuizzes(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"kubectl-and-yaml", "health", "storage", "capstone"} {
		q, ok := builtIn.Quiz(id)
		if !ok {
			t.Errorf("module %s has no quiz", id)
			continue
		}
		if len(q.Questions) < 8 {
			t.Errorf("quiz %s has %d questions; want at least 8", id, len(q.Questions))
		}
		kinds := map[string]bool{}
		for _, question := range q.Questions {
			kinds[string(question.Type)] = true
			if strings.TrimSpace(question.Explanation) == "" {
				t.Errorf("quiz %s question %s explains nothing", id, question.ID)
			}
		}
		if len(kinds) < 3 {
			t.Errorf("quiz %s uses %d kinds of question; mix at least 3", id, len(kinds))
		}
	}
}

// The cheat sheet is shown beside any screen, in a terminal that may be
// 80 columns wide; its command lines must fit without wrapping.
func TestCheatSheetFits(t *testing.T) {
	data, err := fs.ReadFile(assets.Course(), "cheatsheet.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "---\n") || !strings.Contains(text, "\ntitle: ") {
		t.Error("cheatsheet.md needs front matter with a title")
	}
	for i, line := range strings.Split(text, "\n") {
		if n := len([]rune(line)); n > 76 {
			t.Errorf("cheatsheet.md:%d is %d characters wide; keep lines to 76", i+1, n)
		}
	}
}

// Every complete manifest in a lesson or in a lab's goal or hints (a YAML
// block with apiVersion and kind) must be an object the API serves, with
// every field in its right place: a mis-indented field is exactly the
// mistake the lessons warn of.
func TestLessonManifestsDecodeStrictly(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	// Lessons, and the goals and hints of labs, by where they come from.
	texts := map[string]string{}
	for _, l := range builtIn.AllLessons() {
		texts[l.File] = l.Body
	}
	for _, lab := range builtIn.AllLabs() {
		for _, task := range lab.Tasks {
			texts[lab.File+" task "+task.ID] = task.Goal + "\n" + strings.Join(task.Hints, "\n")
		}
	}
	checked := 0
	for file, text := range texts {
		for _, block := range yamlBlocks(text) {
			if strings.Contains(block, "{{") {
				continue // a Helm template, not a manifest
			}
			for _, doc := range strings.Split(block, "\n---\n") {
				var head struct {
					APIVersion string `json:"apiVersion"`
					Kind       string `json:"kind"`
				}
				if err := sigsyaml.Unmarshal([]byte(doc), &head); err != nil {
					t.Errorf("%s: a YAML block does not parse: %v", file, err)
					continue
				}
				if head.APIVersion == "" || head.Kind == "" {
					continue // a fragment of a manifest
				}
				gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
				obj, err := scheme.Scheme.New(gvk)
				if err != nil {
					t.Errorf("%s: %s %s is not a kind the API serves: %v", file, head.APIVersion, head.Kind, err)
					continue
				}
				if err := sigsyaml.UnmarshalStrict([]byte(doc), obj); err != nil {
					t.Errorf("%s: %s does not decode strictly: %v", file, head.Kind, err)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d lesson manifests checked; the block finder is broken", checked)
	}
}

// yamlBlocks returns the contents of the ```yaml fences of a Markdown text.
func yamlBlocks(md string) []string {
	var out []string
	var cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```yaml":
			in, cur = true, nil
		case in && trimmed == "```":
			in = false
			out = append(out, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return out
}
