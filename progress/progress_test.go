package progress

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/internal/atomicfile"
)

var fixed = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func clock() time.Time { return fixed }

func TestOpenMissingFileStartsFreshAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s, warning, err := Open(dir, WithClock(clock))
	if err != nil || warning != "" {
		t.Fatalf("Open: %v %q", err, warning)
	}
	if d := s.Snapshot(); d.Version != Version || len(d.LearnerID) != 16 {
		t.Errorf("fresh data = %+v", d)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("opening must not create the file")
	}
}

func TestUpdateRoundTrips(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := Open(dir, WithClock(clock))
	err := s.Update(func(d *Data) {
		d.MarkLessonRead("pods", 12, fixed)
		d.RecordQuiz("architecture", QuizAttempt{At: fixed, Correct: 6, Total: 10, Percent: 60})
		d.RecordQuiz("architecture", QuizAttempt{At: fixed, Correct: 9, Total: 10, Percent: 90, Passed: true})
		d.RecordQuiz("architecture", QuizAttempt{At: fixed, Correct: 7, Total: 10, Percent: 70, Passed: true})
		d.Last = Position{Screen: "lesson", ID: "pods"}
	})
	if err != nil {
		t.Fatal(err)
	}
	reopened, warning, err := Open(dir, WithClock(clock))
	if err != nil || warning != "" {
		t.Fatalf("reopen: %v %q", err, warning)
	}
	d := reopened.Snapshot()
	if d.LearnerID != s.Snapshot().LearnerID {
		t.Error("learner id changed across a save")
	}
	if st := d.Lessons["pods"]; !st.ReadAt.Equal(fixed) || st.Offset != 12 {
		t.Errorf("lesson state = %+v", st)
	}
	q := d.Quizzes["architecture"]
	if len(q.Attempts) != 3 || q.BestPercent != 90 || !q.Passed {
		t.Errorf("best score must be kept across a worse retake: %+v", q)
	}
	if d.Last.ID != "pods" || !d.UpdatedAt.Equal(fixed) {
		t.Errorf("last = %+v updated = %v", d.Last, d.UpdatedAt)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("progress file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	s, _, _ := Open(t.TempDir(), WithClock(clock))
	_ = s.Update(func(d *Data) { d.MarkLessonRead("a", 0, fixed) })
	snap := s.Snapshot()
	snap.Lessons["b"] = LessonState{}
	if _, leaked := s.Snapshot().Lessons["b"]; leaked {
		t.Error("changing a snapshot changed the store")
	}
}

// A failed write must leave the previous file intact and the store's memory
// unchanged.
func TestFailedSaveKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := Open(dir, WithClock(clock))
	if err := s.Update(func(d *Data) { d.MarkLessonRead("first", 0, fixed) }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	defer atomicfile.SetRenameForTest(func(string, string) error { return errors.New("disk full") })()
	if err := s.Update(func(d *Data) { d.MarkLessonRead("second", 0, fixed) }); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Update = %v, want the disk error", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(before) != string(after) {
		t.Error("failed save changed the file")
	}
	if _, ok := s.Snapshot().Lessons["second"]; ok {
		t.Error("memory claims a change the disk does not hold")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary file left behind: %d entries", len(entries))
	}
}

// Saving replaces the file with a rename, so no reader ever sees half a file
// and no temporary file is left behind.
func TestSaveLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := Open(dir, WithClock(clock))
	for i := range 5 {
		if err := s.Update(func(d *Data) { d.MarkLessonRead("l", i, fixed) }); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != FileName {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files after saving: %v", names)
	}
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":  `{"version": 1, "learnerId": "ab`,
		"not json":   "hello",
		"no version": `{"learnerId": "abc"}`,
		"null":       `null`,
		"wrong type": `{"version": 1, "lessons": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, warning, err := Open(dir, WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			aside := path + ".corrupt-20261126T093000Z"
			if !strings.Contains(warning, aside) || !strings.Contains(warning, "starts afresh") {
				t.Errorf("warning must say where the file went: %q", warning)
			}
			kept, err := os.ReadFile(aside)
			if err != nil || string(kept) != content {
				t.Errorf("corrupt file not kept verbatim: %q, %v", kept, err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Error("corrupt file still in place")
			}
			if s.Snapshot().LearnerID == "" {
				t.Error("fresh progress has no learner id")
			}
		})
	}
}

func TestNewerVersionIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	content := `{"version": 99, "learnerId": "x", "somethingNew": true}`
	_ = os.WriteFile(path, []byte(content), 0o600)
	_, _, err := Open(dir, WithClock(clock))
	if !errors.Is(err, ErrNewerVersion) || !strings.Contains(err.Error(), "upgrade k8slab") {
		t.Fatalf("Open = %v, want ErrNewerVersion with advice", err)
	}
	if b, _ := os.ReadFile(path); string(b) != content {
		t.Error("a newer file was modified")
	}
}

// The migration chain runs each step from the file's version up to the
// current one. Schema 1 is the first released, so this installs a
// hypothetical schema 0 -> 1 step in the same place a real step would go.
func TestMigrationChain(t *testing.T) {
	saved := migrations
	defer func() { migrations = saved }()
	migrations = map[int]func(map[string]any) error{
		1: saved[1],
		2: saved[2],
		0: func(doc map[string]any) error {
			// Schema 0 listed read lessons as an array of ids.
			read, _ := doc["read"].([]any)
			lessons := map[string]any{}
			for _, id := range read {
				lessons[id.(string)] = map[string]any{"readAt": "2026-01-02T03:04:05Z"}
			}
			doc["lessons"] = lessons
			delete(doc, "read")
			return nil
		},
	}
	raw := []byte(`{"version": 0, "learnerId": "abc", "read": ["pods", "nodes"]}`)
	d, err := decodeFrom(raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != Version || d.LearnerID != "abc" || len(d.Lessons) != 2 || d.Lessons["pods"].ReadAt.IsZero() {
		t.Errorf("migrated = %+v", d)
	}
	migrations = map[int]func(map[string]any) error{1: saved[1]}
	if _, err := decodeFrom(raw, 0); err == nil || !strings.Contains(err.Error(), "no migration from schema 0") {
		t.Errorf("missing step: %v", err)
	}
}

func TestResetKeepsLearnerID(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := Open(dir, WithClock(clock))
	_ = s.Update(func(d *Data) { d.MarkLessonRead("a", 0, fixed) })
	id := s.Snapshot().LearnerID
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("reset left the file")
	}
	if d := s.Snapshot(); d.LearnerID != id || len(d.Lessons) != 0 {
		t.Errorf("after reset: %+v", d)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	if d, _ := DefaultDir(); d != "/xdg/state/k8slab" {
		t.Errorf("with XDG_STATE_HOME: %s", d)
	}
	t.Setenv("XDG_STATE_HOME", "relative/is/ignored")
	t.Setenv("HOME", "/home/learner")
	if d, _ := DefaultDir(); d != "/home/learner/.local/state/k8slab" {
		t.Errorf("fallback: %s", d)
	}
}

func TestApplyThenSave(t *testing.T) {
	dir := t.TempDir()
	s, _, _ := Open(dir, WithClock(clock))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("Save with nothing applied wrote a file")
	}
	s.Apply(func(d *Data) { d.MarkLessonRead("a", 1, fixed) })
	if _, ok := s.Snapshot().Lessons["a"]; !ok {
		t.Fatal("Apply not visible in memory")
	}
	restore := atomicfile.SetRenameForTest(func(string, string) error { return errors.New("disk full") })
	if err := s.Save(); err == nil {
		t.Fatal("Save reported success on a failing disk")
	}
	restore()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	reopened, _, _ := Open(dir, WithClock(clock))
	if _, ok := reopened.Snapshot().Lessons["a"]; !ok {
		t.Error("a save retried after a failure lost the change")
	}
}

// A schema 1 file (before lab start times and answers) opens with all it
// held and is written back as the current schema with the new fields.
func TestMigrateSchema1(t *testing.T) {
	dir := t.TempDir()
	v1 := `{"version": 1, "learnerId": "abc",
	  "labs": {"deployments": {"tasks": {"create": {"passedAt": "2026-01-02T03:04:05Z", "hintsUsed": 2}}}}}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, warning, err := Open(dir, WithClock(clock))
	if err != nil || warning != "" {
		t.Fatalf("Open = %v, %q", err, warning)
	}
	d := s.Snapshot()
	task := d.Labs["deployments"].Tasks["create"]
	if d.Version != Version || d.LearnerID != "abc" || task.HintsUsed != 2 || task.PassedAt.IsZero() || !d.Labs["deployments"].StartedAt.IsZero() {
		t.Fatalf("migrated = %+v", d)
	}
	if err := s.Update(func(d *Data) {
		d.UpdateTask("deployments", "count", func(t *TaskState) { t.Answer = "3" })
		ls := d.Labs["deployments"]
		ls.StartedAt = fixed
		d.Labs["deployments"] = ls
	}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, want := range []string{`"version": 3`, `"answer": "3"`, `"startedAt": "`, `"hintsUsed": 2`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("saved file lacks %s:\n%s", want, raw)
		}
	}
}

// Two k8slab processes with the same progress file (the TUI, and a check
// or a second TUI in another terminal) each save what they did; neither
// may wipe out the other's updates.
func TestConcurrentStoresLoseNoUpdate(t *testing.T) {
	dir := t.TempDir()
	a, _, err := Open(dir, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Open(dir, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(func(d *Data) { d.MarkLessonRead("pods-one", 0, fixed) })
	if err := b.Update(func(d *Data) { d.MarkLessonRead("pods-two", 0, fixed) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	b.Apply(func(d *Data) { d.UpdateTask("deployments", "scale-up", func(ts *TaskState) { ts.Answer = "5" }) })
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	c, _, err := Open(dir, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Snapshot()
	if _, ok := d.Lessons["pods-one"]; !ok {
		t.Error("process a's lesson was lost")
	}
	if _, ok := d.Lessons["pods-two"]; !ok {
		t.Error("process b's lesson was lost")
	}
	if d.Labs["deployments"].Tasks["scale-up"].Answer != "5" {
		t.Error("process b's later answer was lost")
	}
	// Each store also sees the other's work after its own save.
	if _, ok := a.Snapshot().Lessons["pods-two"]; !ok {
		t.Error("a's memory does not include what b saved before a's save")
	}
}

// The same with real processes racing: each of them saves a hundred
// updates of its own, and the file ends up with all of them.
func TestParallelProcessesLoseNoUpdate(t *testing.T) {
	if os.Getenv("PROGRESS_WRITER") != "" {
		s, _, err := Open(os.Getenv("PROGRESS_DIR"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			id := fmt.Sprintf("%s-%03d", os.Getenv("PROGRESS_WRITER"), i)
			if err := s.Update(func(d *Data) { d.MarkLessonRead(id, i, fixed) }); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for _, w := range []string{"a", "b", "c"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestParallelProcessesLoseNoUpdate$")
		cmd.Env = append(os.Environ(), "PROGRESS_WRITER="+w, "PROGRESS_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Snapshot().Lessons); n != 300 {
		t.Errorf("%d lessons recorded; want all 300 updates of the three processes", n)
	}
}

// A file that turns unreadable after Open (another program, or the learner
// with an editor, broke it) is moved aside by the next save like one found
// broken at Open, never written over; a second one broken in the same
// second does not replace the first one moved aside.
func TestSaveMovesAsideAFileBrokenAfterOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s, _, _ := Open(dir, WithClock(clock))
	if err := s.Update(func(d *Data) { d.MarkLessonRead("pods", 1, fixed) }); err != nil {
		t.Fatal(err)
	}
	for i, broken := range []string{`{"version": 2, "lessons": [`, `not json at all`} {
		if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(d *Data) { d.MarkLessonRead("services", i, fixed) }); err != nil {
			t.Fatal(err)
		}
		asides, _ := filepath.Glob(path + ".corrupt-*")
		found := false
		for _, a := range asides {
			if kept, _ := os.ReadFile(a); string(kept) == broken {
				found = true
			}
		}
		if !found {
			t.Fatalf("save %d overwrote the broken file %q; moved aside: %v", i, broken, asides)
		}
		if len(asides) != i+1 {
			t.Errorf("after %d broken files, %d moved aside: %v", i+1, len(asides), asides)
		}
	}
	reopened, warning, err := Open(dir, WithClock(clock))
	if err != nil || warning != "" {
		t.Fatalf("the file saved after moving the broken one aside does not open: %v %q", err, warning)
	}
	if _, ok := reopened.Snapshot().Lessons["services"]; !ok {
		t.Error("the save after moving the broken file aside lost the change")
	}
}

// Resetting a lab is a fresh start: its passes, answers and start time go,
// what the learner has seen stays, and other labs are untouched.
func TestResetLab(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	var d Data
	d.StartLab("a", t0)
	d.StartLab("b", t0)
	d.UpdateTask("a", "one", func(s *TaskState) { s.PassedAt, s.HintsUsed, s.SolutionSeen = t0, 2, true })
	d.UpdateTask("a", "two", func(s *TaskState) { s.PassedAt, s.Answer = t0, "3" })
	d.UpdateTask("b", "one", func(s *TaskState) { s.PassedAt = t0 })
	later := t0.Add(time.Hour)
	d.ResetLab("a", later)
	d.ResetLab("never-opened", later)

	a := d.Labs["a"]
	if !a.StartedAt.Equal(later) {
		t.Errorf("started at %v, want the reset's time", a.StartedAt)
	}
	if one := a.Tasks["one"]; !one.PassedAt.IsZero() || one.HintsUsed != 2 || !one.SolutionSeen {
		t.Errorf("task one = %+v, want no pass and the hints and solution kept", one)
	}
	if two := a.Tasks["two"]; !two.PassedAt.IsZero() || two.Answer != "" {
		t.Errorf("task two = %+v, want no pass and no answer", two)
	}
	if !d.Labs["b"].Tasks["one"].PassedAt.Equal(t0) {
		t.Error("resetting lab a touched lab b")
	}
	if _, ok := d.Labs["never-opened"]; ok {
		t.Error("resetting a lab never opened recorded it")
	}
}
