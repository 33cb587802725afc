package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/progress/summary"
)

// run executes the CLI in-process with its own state folder.
func run(t *testing.T, stdin string, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

func stateDir(t *testing.T) string {
	dir := t.TempDir()
	seed := `{"version": 1, "learnerId": "0123456789abcdef"}`
	if err := os.WriteFile(filepath.Join(dir, progress.FileName), []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLintBuiltInCourse(t *testing.T) {
	out, err := run(t, "", "lint")
	if err != nil || !strings.HasPrefix(out, "built-in course: ok (") {
		t.Fatalf("lint = %q, %v", out, err)
	}
}

func TestLintReportsProblemsWithExitStatus1(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "course.yaml"), []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\ntitle: T\nmodules: [missing]\ncolor: red\n"), 0o644)
	out, err := run(t, "", "lint", dir)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	for _, want := range []string{
		filepath.Join(dir, "course.yaml") + `:4: module "missing" is listed but there is no folder missing/ next to course.yaml`,
		filepath.Join(dir, "course.yaml") + `:5: unknown field "color"`,
		"2 problem(s) in " + dir,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLintReportsImageCatalogueProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "course.yaml"), []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\ntitle: T\nmodules: [missing]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "images.yaml"), []byte("apiVersion: k8slab.dev/v1alpha1\nkind: ImageCatalog\nimages:\n  - image: nginx:1.27\n    tags: [\"1.27\"]\n"), 0o644)
	out, err := run(t, "", "lint", dir)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	for _, want := range []string{
		filepath.Join(dir, "course.yaml") + ":4: ",
		filepath.Join(dir, "images.yaml") + `:4: image "nginx:1.27" must not carry a tag or digest; list tags under 'tags'`,
		"2 problem(s) in " + dir,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLintReportsGlossaryProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "course.yaml"), []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\ntitle: T\nmodules: [missing]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "glossary.yaml"), []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Glossary\nterms:\n  - term: pod\n    definition: The smallest unit.\n    see: what-is-a-pod\n"), 0o644)
	out, err := run(t, "", "lint", dir)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	want := filepath.Join(dir, "glossary.yaml") + `:6: "pod" names lesson "what-is-a-pod", which is not a lesson of this course`
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func TestLintNotAFolder(t *testing.T) {
	_, err := run(t, "", "lint", "/nonexistent/course")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/course is not a folder") {
		t.Errorf("err = %v", err)
	}
}

func TestLessonsListAndShowPlain(t *testing.T) {
	out, err := run(t, "", "lessons")
	if err != nil || !strings.Contains(out, "control-plane") || !strings.HasPrefix(out, "MODULE") {
		t.Fatalf("lessons = %q, %v", out, err)
	}
	out, err = run(t, "", "lessons", "show", "control-plane", "--width", "60")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "The control plane\n=================\n") {
		t.Errorf("show lacks the title: %q", out[:min(80, len(out))])
	}
	if strings.Contains(out, "\x1b[") || strings.Contains(out, " \n") || strings.Contains(out, "**") {
		t.Error("output to a pipe must be plain text: no escape codes, padding or Markdown markers")
	}
	if !strings.Contains(out, "`kubectl`") || strings.Contains(out, "\u00a0") {
		t.Error("inline code in plain text must read as `code`, not padded with spaces")
	}
	for i, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 62 && !strings.HasPrefix(strings.TrimSpace(line), "/") {
			t.Errorf("line %d wider than 60: %q", i, line)
		}
	}
	if _, err := run(t, "", "lessons", "show", "no-such-lesson"); err == nil || !strings.Contains(err.Error(), "'k8slab lessons' lists them") {
		t.Errorf("unknown lesson: %v", err)
	}
}

func TestPlainQuiz(t *testing.T) {
	dir := stateDir(t)
	// Answer every question with "1" (or "kubectl" for free text): a mix of
	// right and wrong whatever the shuffle; invalid input is asked again.
	answers := []string{"7", "x"}
	for range 12 {
		answers = append(answers, "1")
	}
	out, err := run(t, strings.Join(answers, "\n")+"\n", "--state-dir", dir, "quiz", "architecture", "--plain")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Cluster architecture quiz: 12 questions, pass mark 70%.",
		"Question 1 of 12 (choose one)",
		"Please type one number from 1 to 4.",
		"Question 12 of 12",
		"\nScore: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	store, _, _ := progress.Open(dir)
	if st := store.Snapshot().Quizzes["architecture"]; len(st.Attempts) != 1 || st.Attempts[0].Total != 12 {
		t.Errorf("attempt not recorded: %+v", st)
	}
}

func TestPlainQuizStoppedEarlyRecordsNothing(t *testing.T) {
	dir := stateDir(t)
	out, err := run(t, "1\nq\n", "--state-dir", dir, "quiz", "architecture", "--plain")
	if err != nil || !strings.Contains(out, "Stopped; nothing was recorded.") {
		t.Fatalf("out = %q, %v", out, err)
	}
	store, _, _ := progress.Open(dir)
	if len(store.Snapshot().Quizzes) != 0 {
		t.Error("a stopped quiz was recorded")
	}
}

func TestUnknownQuizListsTheQuizzes(t *testing.T) {
	_, err := run(t, "", "--state-dir", t.TempDir(), "quiz", "nope", "--plain")
	if err == nil || !strings.Contains(err.Error(), "the quizzes are, by module number and id: 1 why-orchestration, 2 architecture") {
		t.Errorf("err = %v", err)
	}
}

func TestProgressSummaryAndReset(t *testing.T) {
	dir := stateDir(t)
	store, _, _ := progress.Open(dir)
	_ = store.Update(func(d *progress.Data) {
		d.MarkLessonRead("control-plane", 0, time.Now())
		d.RecordQuiz("architecture", progress.QuizAttempt{Percent: 80, Passed: true, Correct: 8, Total: 10})
	})
	out, err := run(t, "", "--state-dir", dir, "progress")
	if err != nil || !strings.Contains(out, "best 80% in 1 attempt(s), passed") || !strings.Contains(out, "; 1 of ") || !strings.Contains(out, " lessons read.") {
		t.Fatalf("progress = %q, %v", out, err)
	}
	// The totals are the course map's: a lesson read and a quiz passed.
	builtIn, _ := course.Load(assets.Course())
	sum := summary.Of(builtIn, store.Snapshot())
	if want := fmt.Sprintf("\n2 of %d done (lessons read, quizzes passed, labs finished)", sum.Total()); sum.Done() != 2 || !strings.Contains(out, want) {
		t.Errorf("progress = %q, want %q", out, want)
	}

	out, _ = run(t, "n\n", "--state-dir", dir, "progress", "reset")
	if !strings.Contains(out, "Nothing was deleted.") {
		t.Errorf("declined reset: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, progress.FileName)); err != nil {
		t.Fatal("declined reset deleted the file")
	}
	out, _ = run(t, "y\n", "--state-dir", dir, "progress", "reset")
	if !strings.Contains(out, "Progress reset.") {
		t.Errorf("confirmed reset: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, progress.FileName)); !os.IsNotExist(err) {
		t.Error("confirmed reset kept the file")
	}
}

func TestContentFlagNotAFolder(t *testing.T) {
	_, err := run(t, "", "--content", "/nonexistent", "lessons")
	if err == nil || !strings.Contains(err.Error(), "--content /nonexistent: not a folder") {
		t.Errorf("err = %v", err)
	}
}

func TestTUIWithoutTerminalExplains(t *testing.T) {
	_, err := run(t, "")
	if err == nil || !strings.Contains(err.Error(), "k8slab quiz ID --plain") {
		t.Errorf("err = %v", err)
	}
}

func TestQuizByModuleNumber(t *testing.T) {
	dir := stateDir(t)
	out, err := run(t, "q\n", "--state-dir", dir, "quiz", "2", "--plain")
	if err != nil || !strings.HasPrefix(out, "Cluster architecture quiz:") {
		t.Errorf("quiz 2 = %q, %v", out, err)
	}
	// The number is the one 'k8slab lessons' shows for the module.
	lessonsOut, _ := run(t, "", "lessons")
	if !regexp.MustCompile(`(?m)^2 +control-plane `).MatchString(lessonsOut) {
		t.Errorf("'lessons' does not number the architecture module 2:\n%s", lessonsOut)
	}
	for _, arg := range []string{"0", "99"} {
		if _, err := run(t, "", "--state-dir", dir, "quiz", arg, "--plain"); err == nil || !strings.Contains(err.Error(), "2 architecture") {
			t.Errorf("quiz %s: %v", arg, err)
		}
	}
}

func TestUnknownCommandsSuggestTheNearest(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"chek"}, "Did you mean this?\n\tcheck"},
		{[]string{"lesson"}, "Did you mean this?\n\tlessons"},
		{[]string{"lab", "strat", "deployments"}, "Did you mean this?\n\tstart"},
		{[]string{"lessons", "shw", "control-plane"}, "Did you mean this?\n\tshow"},
	} {
		_, err := run(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%v: %v", c.args, err)
		}
	}
	if _, err := run(t, "", "xyzzy"); err == nil || strings.Contains(err.Error(), "Did you mean") {
		t.Errorf("xyzzy: %v", err)
	}
}

func TestLabsListsTaskIDs(t *testing.T) {
	out, err := run(t, "", "labs", "explore-cluster")
	if err != nil || !strings.Contains(out, "TASK") || !regexp.MustCompile(`(?m)^count-nodes +.* live: question \(--answer count-nodes=\.\.\.\) +-$`).MatchString(out) {
		t.Errorf("labs explore-cluster = %q, %v", out, err)
	}
	// Each task says whether manifests complete it, and what it needs of
	// the cluster: no task is just "cluster state".
	out, err = run(t, "", "labs", "deployments")
	if err != nil || strings.Contains(out, "cluster state") ||
		!regexp.MustCompile(`(?m)^replace-pod +Watch a pod being replaced +1 +live +-$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^apply-manifest +Keep web in a file +1 +manifests +-$`).MatchString(out) ||
		!strings.Contains(out, "k8slab check deployments --tasks manifests") {
		t.Errorf("labs deployments = %q, %v", out, err)
	}
	out, err = run(t, "", "labs", "services")
	if err != nil || !regexp.MustCompile(`(?m)^reach-nodeport +.* live: question .* nodeport-from-host \(kind only\)$`).MatchString(out) {
		t.Errorf("labs services = %q, %v", out, err)
	}
	// The list shows what some tasks need, not "-" for a lab with kind-only tasks.
	out, err = run(t, "", "labs")
	if err != nil || !regexp.MustCompile(`(?m)^services +.* 7 +4 +containers \(1 task\), nodeport-from-host \(1 task\)$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^dynamic-provisioning +.* storage$`).MatchString(out) {
		t.Errorf("labs = %q, %v", out, err)
	}
	if _, err := run(t, "", "labs", "nope"); err == nil || !strings.Contains(err.Error(), "the labs are: explore-cluster") {
		t.Errorf("labs nope: %v", err)
	}
}

// helpExamples collects every command line in every command's Example,
// without descriptions, comments, pipes and redirections; the lines of
// other programs (kubectl) are left out.
func helpExamples(c *cobra.Command) (lines []string) {
	description := regexp.MustCompile(`\s{2,}|\s+#|\s+\||\s+>`)
	for _, l := range strings.Split(c.Example, "\n") {
		l = strings.TrimSpace(l)
		if inner, ok := strings.CutPrefix(l, `eval "$(`); ok {
			l, _, _ = strings.Cut(inner, `)"`)
		}
		if loc := description.FindStringIndex(l); loc != nil {
			l = l[:loc[0]]
		}
		if l == "k8slab" || strings.HasPrefix(l, "k8slab ") {
			lines = append(lines, l)
		}
	}
	for _, sub := range c.Commands() {
		lines = append(lines, helpExamples(sub)...)
	}
	return lines
}

// Every example in the help texts runs against the built-in course. With no
// cluster (the kubeconfig points at a closed port) and no terminal, an
// example works when it succeeds, grades to a document that says the
// cluster is unreachable, or asks for a terminal: anything naming a lesson,
// lab, task, flag or command that does not exist fails differently.
// 'cluster', 'workshop' and 'lab verify' examples would create clusters,
// workshops or namespaces, so they are only parsed.
func TestEveryHelpExampleWorks(t *testing.T) {
	t.Setenv("KUBECONFIG", unreachableKubeconfig(t))
	myCourse := filepath.Join(t.TempDir(), "my-course")
	if err := os.CopyFS(myCourse, assets.Course()); err != nil {
		t.Fatal(err)
	}
	examples := helpExamples(newRootCmd(nil, io.Discard, io.Discard))
	if len(examples) < 10 {
		t.Fatalf("found only %d examples: %q", len(examples), examples)
	}
	for _, ex := range examples {
		args := strings.Fields(ex)[1:]
		for i, a := range args {
			if a == "./my-course" {
				args[i] = myCourse
			}
		}
		root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
		c, rest, err := root.Find(args)
		if err == nil {
			err = c.ParseFlags(rest)
		}
		if err == nil {
			err = c.ValidateArgs(c.Flags().Args())
		}
		if err != nil || c == root && len(c.Flags().Args()) > 0 {
			t.Errorf("%s: %v", ex, err)
			continue
		}
		// These would create clusters, namespaces or workshops on a real
		// cluster: checking their words is what can be done here.
		if path := c.CommandPath(); strings.HasPrefix(path, "k8slab cluster") || strings.HasPrefix(path, "k8slab workshop") || path == "k8slab lab verify" {
			continue
		}
		var out, errOut bytes.Buffer
		cmd := newRootCmd(strings.NewReader(""), &out, &errOut)
		cmd.SetArgs(append([]string{"--state-dir", t.TempDir()}, args...))
		err = cmd.Execute()
		switch {
		case err == nil:
		case strings.Contains(out.String(), "cannot reach the cluster at https://127.0.0.1:1"):
		case strings.Contains(err.Error(), "cannot reach the cluster at https://127.0.0.1:1"):
			// A command that reads the cluster (lab explain) says so.
		case strings.Contains(err.Error(), "the course opens in a terminal, and this is not one"):
		case strings.Contains(err.Error(), "the exam opens in a terminal, and this is not one"):
		case strings.Contains(err.Error(), "no finished exam in your progress yet"):
			// A fresh state folder: 'exam --last' has nothing to export.
		default:
			t.Errorf("%s: %v\n%s%s", ex, err, out.String(), errOut.String())
		}
	}
}

// Help texts fit 80 columns: flag descriptions wrap, and long texts and
// examples are written to fit.
func TestHelpFits80Columns(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		// The cluster commands' help is maintained with the cluster code.
		if c.Name() == "cluster" {
			return
		}
		var out bytes.Buffer
		c.SetOut(&out)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Errorf("%s --help: %d columns: %q", c.CommandPath(), n, l)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(nil, io.Discard, io.Discard))
}

// -n means the lab's namespace only where a command takes one; the
// workshop commands and lab verify choose their own.
func TestNamespaceHelpSaysWhatItMeans(t *testing.T) {
	for _, args := range [][]string{{"workshop", "status"}, {"workshop", "delete"}, {"workshop", "init"}, {"lab", "verify"}, {"check"}, {"lab", "start"}} {
		out, err := run(t, "", append(args, "--help")...)
		labNS := strings.Contains(out, "namespace the lab runs in")
		if want := args[0] == "check" || args[1] == "start"; err != nil || labNS != want {
			t.Errorf("%v --help: says the lab's namespace %v, want %v (%v)", args, labNS, want, err)
		}
	}
	out, _ := run(t, "", "progress", "--help")
	if !strings.Contains(out, "the labs\nyou have finished") {
		t.Errorf("progress --help leaves out labs:\n%s", out)
	}
	out, _ = run(t, "", "lint", "--help")
	if !strings.Contains(out, "quiz\nanswers, lesson front matter") {
		t.Errorf("lint --help:\n%s", out)
	}
}
