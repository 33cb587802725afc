package progress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A schema 2 file (before exams) opens with what it held; an exam's
// marker and record survive a save and a reopen, and finishing clears the
// marker.
func TestExamsSchema2LoadsAndExamsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	v2 := `{"version": 2, "learnerId": "abc", "labs": {"pods": {"tasks": {"run": {"passedAt": "2026-01-02T03:04:05Z"}}}}}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	s, warning, err := Open(dir, WithClock(clock))
	if err != nil || warning != "" {
		t.Fatalf("Open = %v, %q", err, warning)
	}
	if d := s.Snapshot(); d.Labs["pods"].Tasks["run"].PassedAt.IsZero() || d.Exam != nil || len(d.Exams) != 0 {
		t.Fatalf("schema 2 loaded as %+v", d)
	}
	start := fixed
	if err := s.Update(func(d *Data) {
		d.StartExam(ExamMarker{Seed: 7, Labs: []string{"pods"}, StartedAt: start, Deadline: start.Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	s2, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := s2.Snapshot()
	if d.RunningExam(start.Add(30*time.Minute)) == nil || d.RunningExam(start.Add(2*time.Hour)) != nil {
		t.Fatalf("running exam at 30m / 2h: %v / %v; want running, then stale", d.RunningExam(start.Add(30*time.Minute)), d.RunningExam(start.Add(2*time.Hour)))
	}
	rec := ExamRecord{ExamSummary: ExamSummary{Seed: 7, Labs: []string{"pods"}, StartedAt: start, EndedAt: start.Add(time.Hour), Limit: time.Hour, Ended: "time", Score: 1, MaxScore: 3},
		Tasks: []ExamTaskMark{{Lab: "pods", Task: "run", Points: 1, MaxPoints: 1}, {Lab: "pods", Task: "labels", MaxPoints: 2, Wrong: []string{"pod web has no label tier"}}}}
	if err := s2.Update(func(d *Data) { d.FinishExam(rec) }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.Contains(string(raw), `"version": 3`) || strings.Contains(string(raw), `"exam": {`) {
		t.Errorf("saved file is not schema 3 or still marks the exam running:\n%s", raw)
	}
	s3, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d = s3.Snapshot()
	if d.Exam != nil || len(d.Exams) != 1 || d.Exams[0].Tasks[1].Wrong[0] != "pod web has no label tier" || d.Exams[0].Limit != time.Hour {
		t.Fatalf("reopened exams: %+v, marker %v", d.Exams, d.Exam)
	}
}
