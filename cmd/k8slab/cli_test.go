package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/progress"
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
	if err == nil || !strings.Contains(err.Error(), "the quizzes are: why-orchestration, architecture") {
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
	course, _ := lessons.Load(assets.Course())
	sum := progress.Summarize(course, store.Snapshot())
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
