package course_test

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

// syllabusModules are the numbered modules 1 to 7 of the syllabus that the
// built-in course must have, in this order; other modules (such as one on
// kubectl and YAML before pods) may sit between them.
var syllabusModules = []string{
	"why-orchestration", "architecture", "pods", "deployments",
	"rolling-updates", "services", "declarative",
}

func TestCourseHasSyllabusModules(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	byID := map[string]*course.Module{}
	for _, m := range c.Modules {
		ids = append(ids, m.ID)
		byID[m.ID] = m
	}
	last := -1
	for _, want := range syllabusModules {
		i := slices.Index(ids, want)
		if i < 0 || i < last {
			t.Fatalf("course modules %v; the syllabus wants %v, in that order", ids, syllabusModules)
		}
		last = i
	}
	for _, id := range syllabusModules {
		m := byID[id]
		if len(m.Lessons) == 0 || m.Quiz == nil {
			t.Errorf("module %s needs lessons and a quiz", m.ID)
		}
		if m.ID != "why-orchestration" && len(m.Labs) == 0 {
			t.Errorf("module %s has no lab; the syllabus gives it one", m.ID)
		}
	}
}

// courseText is one file's text with runs of white space folded, so a
// phrase broken across lines is still found.
type courseText struct {
	file   string
	module int // index in the course, -1 outside a module
	text   string
}

func readCourseText(t *testing.T, c *course.Course) []courseText {
	t.Helper()
	index := map[string]int{}
	for i, m := range c.Modules {
		index[m.ID] = i
	}
	var out []courseText
	fsys := assets.Course()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := path.Ext(p); ext != ".md" && ext != ".yaml" {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		mod := -1
		if i, ok := index[strings.Split(p, "/")[0]]; ok {
			mod = i
		}
		out = append(out, courseText{file: p, module: mod, text: strings.Join(strings.Fields(string(data)), " ")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	moduleNumberRE = regexp.MustCompile(`(?i)\bmodules? (\d+)\b`)
	beforeModuleRE = regexp.MustCompile(`(?i)\b((?:[a-z-]+ ){0,4}[a-z-]+) module\b`)
	moduleOnRE     = regexp.MustCompile(`(?i)\bmodule on ([a-z][a-z ]*[a-z])`)
	theLabRE       = regexp.MustCompile(`(?i)\bthe ([a-z-]+) lab\b`)
	nextLessonRE   = regexp.MustCompile(`(?i)\b(next|following) lesson\b`)
)

// relative words point at a module by position rather than by name.
var relative = map[string]int{
	"next": 1, "later": 1, "following": 1,
	"last": -1, "previous": -1, "earlier": -1,
	"first": 0, "this": 0, "same": 0, "current": 0,
}

// determiners start the name of the module a phrase points at.
var determiners = map[string]bool{"the": true, "a": true, "an": true, "this": true, "that": true, "each": true, "every": true}

// moduleName picks, from the words before "module", the name the phrase
// gives it: the words after the last determiner ("the storage" gives
// "storage"), or the determiner itself when nothing follows ("this").
func moduleName(words []string) string {
	for i := len(words) - 1; i >= 0; i-- {
		if determiners[words[i]] {
			if i == len(words)-1 {
				return words[i]
			}
			return strings.Join(words[i+1:], " ")
		}
	}
	return strings.Join(words, " ")
}

// TestCourseMentionsOnlyWhatExists keeps lessons, quizzes and labs from
// sending the learner to a module, lesson or lab that is not there: "module
// 8" in a course of seven, "the storage module" before storage is written,
// "the next lesson" at the very end.
func TestCourseMentionsOnlyWhatExists(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	titles := make([]string, len(c.Modules))
	for i, m := range c.Modules {
		titles[i] = strings.ToLower(m.Title + " " + strings.ReplaceAll(m.ID, "-", " "))
	}
	labs := map[string]bool{}
	for _, l := range c.AllLabs() {
		labs[l.ID] = true
	}
	all := c.AllLessons()
	last := all[len(all)-1].File

	for _, ct := range readCourseText(t, c) {
		for _, m := range moduleNumberRE.FindAllStringSubmatch(ct.text, -1) {
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(c.Modules) {
				t.Errorf("%s mentions %q, but the course has %d modules; name the topic instead", ct.file, m[0], len(c.Modules))
			}
		}
		for _, m := range beforeModuleRE.FindAllStringSubmatch(ct.text, -1) {
			name := moduleName(strings.Fields(strings.ToLower(m[1])))
			if determiners[name] && relative[name] == 0 && name != "this" {
				continue // "the module on ...", checked below
			}
			checkModuleRef(t, ct, name, m[0], titles)
		}
		for _, m := range moduleOnRE.FindAllStringSubmatch(ct.text, -1) {
			checkModuleRef(t, ct, strings.ToLower(m[1]), m[0], titles)
		}
		for _, m := range theLabRE.FindAllStringSubmatch(ct.text, -1) {
			word := strings.ToLower(m[1])
			if _, ok := relative[word]; !ok && word != "hands-on" && !labs[word] {
				t.Errorf("%s mentions %q, but there is no lab %q", ct.file, m[0], word)
			}
		}
		if ct.file == last && nextLessonRE.MatchString(ct.text) {
			t.Errorf("%s is the last lesson of the course but points to the next one", ct.file)
		}
	}
}

func checkModuleRef(t *testing.T, ct courseText, name, phrase string, titles []string) {
	t.Helper()
	if d, ok := relative[name]; ok {
		if ct.module >= 0 && (ct.module+d < 0 || ct.module+d >= len(titles)) {
			t.Errorf("%s mentions %q, but there is no such module", ct.file, phrase)
		}
		return
	}
	for _, title := range titles {
		if strings.Contains(title, name) {
			return
		}
	}
	t.Errorf("%s mentions %q, but no module is called that; modules: %s", ct.file, phrase, fmt.Sprint(titles))
}

// Every built-in lab states its tasks' requirements (issue #19), so lint
// holds each to a check and a mistake that breaks it alone.
func TestEveryLabStatesItsRequirements(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.AllLabs() {
		if !slices.ContainsFunc(l.Tasks, func(t labfile.Task) bool { return len(t.Requires) > 0 }) {
			t.Errorf("lab %s (%s) does not list its tasks' requirements: give each task 'requires', each with its checks and a mistake that breaks it alone", l.ID, l.File)
		}
	}
}

// A CI assignment grades only the tasks a set of manifests can complete
// ('k8slab check --tasks manifests'), so every task of the built-in course
// says which it is; lint refuses "manifests" where a check, a question or
// a cluster-wide change makes it impossible; and a lab with such tasks
// gives a correct submission, which the CI recipe test proves.
func TestEveryTaskSaysHowItIsGraded(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	manifests := 0
	for _, l := range c.AllLabs() {
		graded := false
		for _, task := range l.Tasks {
			switch task.Grading {
			case labfile.GradedFromManifests:
				manifests++
				graded = true
			case labfile.GradedLive:
			default:
				t.Errorf("lab %s task %s (%s:%d) has no grading: mark it manifests or live", l.ID, task.ID, l.File, task.Line)
			}
		}
		// The proof that manifests complete them is the lab's
		// submission, which cmd/k8slab's recipe test applies.
		if graded && l.Submission == nil {
			t.Errorf("lab %s (%s) grades tasks from manifests but has no 'submission' for the CI recipe test to prove them with", l.ID, l.File)
		}
	}
	if manifests == 0 {
		t.Error("no task of the course can be graded from manifests; the README's CI recipe grades nothing")
	}
}
