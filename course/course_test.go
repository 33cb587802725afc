package course_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
)

// readArchive parses a txtar file: a comment, then files introduced by
// "-- name --" lines.
func readArchive(t testing.TB, path string) (comment string, files map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]string{}
	var current string
	var b strings.Builder
	flush := func() {
		if current == "" {
			comment = b.String()
		} else {
			files[current] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			current = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		b.WriteString(line)
	}
	flush()
	return comment, files
}

func courseFS(t testing.TB, overlay map[string]string) fstest.MapFS {
	_, base := readArchive(t, filepath.Join("testdata", "base.txtar"))
	fsys := fstest.MapFS{}
	for name, data := range base {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	for name, data := range overlay {
		if strings.TrimSpace(data) == "(deleted)" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func TestLoadValidCourse(t *testing.T) {
	c, err := course.Load(courseFS(t, nil))
	if err != nil {
		t.Fatalf("valid course: %v", err)
	}
	if len(c.Modules) != 1 || c.Modules[0].ID != "basics" {
		t.Fatalf("modules = %+v", c.Modules)
	}
	m := c.Modules[0]
	if len(m.Lessons) != 2 || m.Lessons[0].ID != "first" || m.Lessons[1].ID != "second" {
		t.Fatalf("lessons not in order: %+v", m.Lessons)
	}
	if m.Lessons[0].Minutes != 3 || m.Lessons[0].Title != "First lesson" || m.Lessons[0].File != "basics/lessons/01-first.md" {
		t.Errorf("front matter not read: %+v", m.Lessons[0])
	}
	if c.ModuleOf(m.Lessons[1]) != m || c.ModuleOf(&lessons.Lesson{ID: "first", Module: "basics"}) != nil {
		t.Errorf("ModuleOf does not lead a lesson back to its own module only")
	}
	if !strings.HasPrefix(m.Lessons[0].Body, "\n## Hello") {
		t.Errorf("body should start after the front matter, got %q", m.Lessons[0].Body)
	}
	if !strings.Contains(m.Lessons[1].Body, "- a list item that the author wrapped onto a second line\n") {
		t.Errorf("wrapped list item not joined: %q", m.Lessons[1].Body)
	}
	q, ok := c.Quiz("basics")
	if !ok || m.Quiz != q || len(q.Questions) != 4 || q.PassPercent != 50 {
		t.Fatalf("quiz = %+v", q)
	}
	if q.Questions[2].Line != 24 {
		t.Errorf("question three line = %d, want 24", q.Questions[2].Line)
	}
	if c.Next(m.Lessons[0]) != m.Lessons[1] || c.Next(m.Lessons[1]) != nil || c.Previous(m.Lessons[0]) != nil {
		t.Error("Next/Previous do not follow course order")
	}
}

// Each file in testdata/invalid breaks the base course in one way; the
// problems it must produce are listed in its comment.
func TestLoadReportsEveryProblem(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.txtar"))
	if len(cases) == 0 {
		t.Fatal("no test cases")
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			comment, overlay := readArchive(t, path)
			want := strings.TrimSpace(comment)
			_, err := course.Load(courseFS(t, overlay))
			var ps source.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load() error = %v, want problems:\n%s", err, want)
			}
			if got := ps.Error(); got != want {
				t.Errorf("problems:\n%s\n\nwant:\n%s", got, want)
			}
		})
	}
}

// The built-in course must always load: a broken asset would break every
// learner's k8slab.
func TestBuiltInCourseLoads(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatalf("built-in course: %v", err)
	}
	if len(c.Modules) < 2 {
		t.Fatalf("built-in course has %d modules", len(c.Modules))
	}
	for _, m := range c.Modules[:2] {
		if m.Quiz == nil || len(m.Lessons) == 0 {
			t.Errorf("module %s needs lessons and a quiz", m.ID)
		}
	}
}

// The syllabus requires the architecture quiz to cover these topics; each is
// checked by the id of the question that covers it.
func TestArchitectureQuizCoversSyllabus(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	q, ok := c.Quiz("architecture")
	if !ok {
		t.Fatal("no architecture quiz")
	}
	have := map[string]bool{}
	for _, question := range q.Questions {
		have[question.ID] = true
	}
	for _, id := range []string{"worker-machine-name", "nodes-can-be-vms", "nodes-form-cluster", "control-plane-processes", "key-value-store", "distributes-pods", "runs-containers", "cli-name"} {
		if !have[id] {
			t.Errorf("architecture quiz lacks question %q", id)
		}
	}
}

// Grading one lab reads that lab's file and nothing else: a broken file
// elsewhere in the course does not stop it, and every lab of the built-in
// course can be found this way.
func TestLoadLabReadsOnlyThatLab(t *testing.T) {
	built, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range built.AllLabs() {
		got, err := course.LoadLab(assets.Course(), want.ID)
		if err != nil {
			t.Fatalf("course.LoadLab(%s): %v", want.ID, err)
		}
		if got.File != want.File || got.Module != want.Module || len(got.Tasks) != len(want.Tasks) {
			t.Errorf("course.LoadLab(%s) = %s in %s with %d tasks; Load has %s in %s with %d", want.ID, got.File, got.Module, len(got.Tasks), want.File, want.Module, len(want.Tasks))
		}
	}

	fsys := fstest.MapFS{
		"course.yaml":             {Data: []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\nid: c\ntitle: C\nmodules: [m]\n")},
		"m/labs/broken.yaml":      {Data: []byte("not: [valid")},
		"m/labs/deployments.yaml": {Data: mustRead(t, assets.Course(), "deployments/labs/deployments.yaml")},
		"m/labs/wrong-name.yaml":  {Data: mustRead(t, assets.Course(), "pods/labs/pods.yaml")},
	}
	if _, err := course.LoadLab(fsys, "deployments"); err != nil {
		t.Errorf("a broken sibling stopped LoadLab: %v", err)
	}
	if _, err := course.LoadLab(fsys, "wrong-name"); err == nil || !strings.Contains(err.Error(), `lab id "pods" must equal its file name "wrong-name"`) {
		t.Errorf("a lab named unlike its file: %v", err)
	}
	for _, id := range []string{"nosuch", "../m/labs/deployments", "m/labs/deployments"} {
		_, err := course.LoadLab(fsys, id)
		if !errors.Is(err, course.ErrNoLab) || !strings.Contains(err.Error(), "the labs are: broken, deployments, wrong-name") {
			t.Errorf("course.LoadLab(%q) = %v; want course.ErrNoLab listing the labs", id, err)
		}
	}
}

func mustRead(t *testing.T, fsys fs.FS, name string) []byte {
	t.Helper()
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A file far larger than any course needs is refused by its size, before
// it is read into memory.
func TestLoadRefusesHugeFiles(t *testing.T) {
	fsys := courseFS(t, nil)
	fsys["basics/lessons/03-huge.md"] = &fstest.MapFile{Data: []byte("---\nid: huge\ntitle: Huge\norder: 3\nminutes: 1\n---\n" + strings.Repeat("x", source.MaxFileSize))}
	_, err := course.Load(fsys)
	if err == nil || !strings.Contains(err.Error(), "basics/lessons/03-huge.md: cannot read: it is 1048625 bytes; a course file must be under 1024 KiB") {
		t.Errorf("Load = %v", err)
	}
}

// FuzzLoadCourse feeds arbitrary course.yaml and module.yaml files to the
// loader: it must report problems, never panic, and never return both a
// course and an error.
func FuzzLoadCourse(f *testing.F) {
	_, base := readArchive(f, filepath.Join("testdata", "base.txtar"))
	f.Add([]byte(base["course.yaml"]), []byte(base["basics/module.yaml"]))
	f.Add([]byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\ntitle: T\nx: &m [basics]\nmodules: *m\n"), []byte(base["basics/module.yaml"]))
	f.Add([]byte("modules: [~, basics, basics, ../x, {a: b}]\n"), []byte("id: [x]\ntitle: {a: b}\n"))
	f.Add([]byte("modules: &a [*a]\n"), []byte("&b [*b, *b]"))
	f.Fuzz(func(t *testing.T, courseYAML, moduleYAML []byte) {
		fsys := courseFS(t, nil)
		fsys["course.yaml"] = &fstest.MapFile{Data: courseYAML}
		fsys["basics/module.yaml"] = &fstest.MapFile{Data: moduleYAML}
		c, err := course.Load(fsys)
		if (c == nil) == (err == nil) {
			t.Fatalf("Load returned course %v and error %v", c, err)
		}
	})
}

// A module's labs come in the order its module.yaml lists them, not in
// file name order; the built-in storage module teaches a claim on a
// volume made by hand before dynamic provisioning.
func TestLabsInListedOrder(t *testing.T) {
	_, base := readArchive(t, filepath.Join("testdata", "base.txtar"))
	_, invalid := readArchive(t, filepath.Join("testdata", "invalid", "lab-order.txtar"))
	overlay := map[string]string{
		"basics/module.yaml":        base["basics/module.yaml"] + "labs: [b-second, a-first]\n",
		"basics/labs/a-first.yaml":  invalid["basics/labs/a-first.yaml"],
		"basics/labs/b-second.yaml": invalid["basics/labs/b-second.yaml"],
	}
	c, err := course.Load(courseFS(t, overlay))
	if err != nil {
		t.Fatal(err)
	}
	if labs := c.Modules[0].Labs; len(labs) != 2 || labs[0].ID != "b-second" || labs[1].ID != "a-first" {
		t.Errorf("labs in order %v, want b-second, a-first", labIDs(labs))
	}
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range builtIn.Modules {
		if m.ID == "storage" {
			if got := labIDs(m.Labs); strings.Join(got, " ") != "storage dynamic-provisioning" {
				t.Errorf("storage labs in order %v", got)
			}
		}
	}
}

func labIDs(labs []*labfile.Lab) []string {
	var out []string
	for _, l := range labs {
		out = append(out, l.ID)
	}
	return out
}

// 'k8slab quiz' takes a module's number as 'k8slab lessons' shows it, or a
// quiz id; a wrong one lists what there is.
func TestFindQuizByNumberOrID(t *testing.T) {
	c, err := course.Load(courseFS(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"1", "basics"} {
		if q, err := c.FindQuiz(arg); err != nil || q.ID != "basics" {
			t.Errorf("FindQuiz(%q) = %v, %v; want the basics quiz", arg, q, err)
		}
	}
	for _, arg := range []string{"0", "2", "nope"} {
		if _, err := c.FindQuiz(arg); err == nil || !strings.Contains(err.Error(), "1 basics") {
			t.Errorf("FindQuiz(%q): %v; want an error listing '1 basics'", arg, err)
		}
	}
	c.Modules[0].Quiz = nil
	if _, err := c.FindQuiz("1"); err == nil || !strings.Contains(err.Error(), "module 1 (") || !strings.Contains(err.Error(), "has no quiz") {
		t.Errorf("module without a quiz: %v", err)
	}
}
