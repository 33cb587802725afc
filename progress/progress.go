// Package progress keeps a learner's progress in a versioned JSON file,
// written atomically so that a crash or a full disk never loses what was
// there before.
package progress

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"sync"
	"time"

	"github.com/k8slab/k8slab/internal/atomicfile"
)

// Version is the schema version this build writes.
//
// Schema 2 adds a lab's start time (LabState.StartedAt) and the learner's
// answers to question tasks (TaskState.Answer).
//
// Schema 3 adds practice exams: their results (Data.Exams) and the exam
// running now (Data.Exam).
const Version = 3

// FileName is the progress file inside the state directory.
const FileName = "progress.json"

// Data is everything k8slab remembers about one learner.
type Data struct {
	Version int `json:"version"`
	// LearnerID seeds per-learner quiz shuffles; it never leaves the machine.
	LearnerID string                 `json:"learnerId"`
	Lessons   map[string]LessonState `json:"lessons,omitempty"`
	Quizzes   map[string]QuizState   `json:"quizzes,omitempty"`
	Labs      map[string]LabState    `json:"labs,omitempty"`
	Last      Position               `json:"last,omitzero"`
	UpdatedAt time.Time              `json:"updatedAt,omitzero"`
	// Exams are the finished practice exams, oldest first; Exam is the
	// one running now, if any (see exam.go).
	Exams []ExamRecord `json:"exams,omitempty"`
	Exam  *ExamMarker  `json:"exam,omitempty"`
}

// LessonState records reading a lesson.
type LessonState struct {
	ReadAt time.Time `json:"readAt,omitzero"`
	// Offset is the scroll position, in lines, to return to.
	Offset int `json:"offset,omitempty"`
}

// QuizState records the attempts at one quiz.
type QuizState struct {
	Attempts []QuizAttempt `json:"attempts,omitempty"`
	// BestPercent is the best score so far.
	BestPercent int  `json:"bestPercent"`
	Passed      bool `json:"passed"`
}

// QuizAttempt is one finished attempt.
type QuizAttempt struct {
	At      time.Time `json:"at"`
	Correct int       `json:"correct"`
	Total   int       `json:"total"`
	Percent int       `json:"percent"`
	Passed  bool      `json:"passed"`
}

// LabState records the results of a lab's tasks as last seen by the learner.
type LabState struct {
	// StartedAt is when the learner first opened the lab (or last reset
	// it), so that its completion time is honest across sessions. It is
	// zero for labs started before schema 2.
	StartedAt time.Time            `json:"startedAt,omitzero"`
	Tasks     map[string]TaskState `json:"tasks,omitempty"`
}

// TaskState records one lab task.
type TaskState struct {
	PassedAt     time.Time `json:"passedAt,omitzero"`
	HintsUsed    int       `json:"hintsUsed,omitempty"`
	SolutionSeen bool      `json:"solutionSeen,omitempty"`
	// Answer is the learner's last answer to a question task.
	Answer string `json:"answer,omitempty"`
}

// Position is where the learner was last, so k8slab can reopen there.
type Position struct {
	Screen string `json:"screen,omitempty"`
	ID     string `json:"id,omitempty"`
}

// Store is an open progress file.
type Store struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	data Data
	// disk is the progress as last read from or written to the file.
	disk Data
	// pending are the changes made with Apply since the last save. A save
	// replays them on the file as it is on disk then, under a lock, so that
	// another k8slab process's progress saved meanwhile is kept.
	pending []*change
	// writeMu orders writes so an older snapshot never replaces a newer one.
	writeMu sync.Mutex
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// DefaultDir is $XDG_STATE_HOME/k8slab, falling back to ~/.local/state/k8slab.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "k8slab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding where to keep progress: %w (set XDG_STATE_HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "k8slab"), nil
}

// ErrNewerVersion means the file was written by a newer k8slab; it is left
// untouched rather than downgraded.
var ErrNewerVersion = errors.New("progress file is from a newer k8slab")

// Open reads the progress file in dir, creating nothing until the first
// save. A file that cannot be parsed is moved aside (never overwritten) and
// reported in warning; progress then starts afresh.
func Open(dir string, opts ...Option) (s *Store, warning string, err error) {
	s = &Store{path: filepath.Join(dir, FileName), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	raw, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.data = fresh()
		s.disk = clone(s.data)
		return s, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("reading %s: %w", s.path, err)
	}
	data, err := decode(raw)
	if errors.Is(err, ErrNewerVersion) {
		return nil, "", fmt.Errorf("%s: %w; upgrade k8slab to use it (the file was left as it is)", s.path, err)
	}
	if err != nil {
		aside, rerr := s.moveAside()
		if rerr != nil {
			return nil, "", fmt.Errorf("%s is unreadable (%v) and could not be moved aside: %w", s.path, err, rerr)
		}
		s.data = fresh()
		s.disk = clone(s.data)
		return s, fmt.Sprintf("progress file %s was unreadable (%v); it was moved to %s and progress starts afresh", s.path, err, aside), nil
	}
	s.data = data
	s.disk = clone(data)
	return s, "", nil
}

func fresh() Data {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return Data{Version: Version, LearnerID: hex.EncodeToString(id[:])}
}

// migrations[v] turns a version v document into version v+1. Each step works
// on the generic JSON form so that old struct shapes need not be kept.
var migrations = map[int]func(doc map[string]any) error{
	// Schema 2 only adds optional fields, so a schema 1 document is already
	// a valid schema 2 one. A lab's start time is left unknown rather than
	// guessed from its passes.
	1: func(map[string]any) error { return nil },
	// Schema 3 only adds the optional exam fields.
	2: func(map[string]any) error { return nil },
}

func decode(raw []byte) (Data, error) { return decodeFrom(raw, 1) }

// decodeFrom accepts files of schema oldest and later.
func decodeFrom(raw []byte, oldest int) (Data, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Data{}, err
	}
	if doc == nil {
		return Data{}, errors.New("the file holds no JSON object")
	}
	v, ok := doc["version"].(float64)
	if !ok || v < float64(oldest) || v != float64(int(v)) {
		return Data{}, errors.New("it has no valid version field")
	}
	version := int(v)
	if version > Version {
		return Data{}, fmt.Errorf("%w (schema %d; this k8slab knows up to %d)", ErrNewerVersion, version, Version)
	}
	for ; version < Version; version++ {
		step, ok := migrations[version]
		if !ok {
			return Data{}, fmt.Errorf("no migration from schema %d", version)
		}
		if err := step(doc); err != nil {
			return Data{}, fmt.Errorf("migrating from schema %d: %w", version, err)
		}
		doc["version"] = float64(version + 1)
	}
	migrated, err := json.Marshal(doc)
	if err != nil {
		return Data{}, err
	}
	var d Data
	dec := json.NewDecoder(bytes.NewReader(migrated))
	if err := dec.Decode(&d); err != nil {
		return Data{}, err
	}
	if d.LearnerID == "" {
		d.LearnerID = fresh().LearnerID
	}
	return d, nil
}

// Path is the file the store writes.
func (s *Store) Path() string { return s.path }

// Snapshot returns a deep copy of the current data.
func (s *Store) Snapshot() Data {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.data)
}

func clone(d Data) Data {
	raw, _ := json.Marshal(d)
	var out Data
	_ = json.Unmarshal(raw, &out)
	return out
}

// Update applies change and saves atomically. If saving fails the change is
// undone in memory too, so memory never claims what the disk does not hold.
func (s *Store) Update(fn func(*Data)) error {
	s.mu.Lock()
	c := s.apply(fn)
	s.mu.Unlock()
	if err := s.Save(); err != nil {
		s.mu.Lock()
		s.pending = slices.DeleteFunc(s.pending, func(p *change) bool { return p == c })
		s.data = s.replay(s.base())
		s.mu.Unlock()
		return err
	}
	return nil
}

// change is one pending change; a pointer, so Update can take back its own.
type change struct{ fn func(*Data) }

// Apply changes the progress in memory only, for callers (the TUI) that must
// not block on the disk; Save writes it out.
func (s *Store) Apply(fn func(*Data)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(fn)
}

// apply must be called with s.mu held.
func (s *Store) apply(fn func(*Data)) *change {
	c := &change{fn}
	s.pending = append(s.pending, c)
	fn(&s.data)
	s.data.Version = Version
	s.data.UpdatedAt = s.now().UTC()
	return c
}

// Save writes changes made with Apply, if there are any: under a lock on
// the progress folder it reads the file again, replays them on what it
// finds and writes the result, so two k8slab processes (the TUI and a
// 'k8slab check' in another terminal) lose none of each other's updates.
// After a failed save the changes stay pending, so a later Save retries.
func (s *Store) Save() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	pending := s.pending
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	unlock, err := lockDir(filepath.Dir(s.path))
	if err != nil {
		return fmt.Errorf("saving progress: %w", err)
	}
	defer unlock()
	base, err := s.readCurrent()
	if err != nil {
		return err
	}
	next := clone(base)
	for _, c := range pending {
		c.fn(&next)
	}
	next.Version = Version
	next.UpdatedAt = s.now().UTC()
	if err := writeAtomic(s.path, next); err != nil {
		return err
	}
	s.mu.Lock()
	// Changes applied while this save ran are kept pending and replayed
	// on top of what was written.
	saved := map[*change]bool{}
	for _, c := range pending {
		saved[c] = true
	}
	s.pending = slices.DeleteFunc(slices.Clone(s.pending), func(c *change) bool { return saved[c] })
	s.disk = next
	s.data = s.replay(next)
	s.mu.Unlock()
	return nil
}

// moveAside renames the progress file to a name beside it that no other
// file has, so that a file broken twice in one second does not replace the
// first one moved aside. The caller holds the folder's lock, or is Open.
func (s *Store) moveAside() (string, error) {
	stem := s.path + ".corrupt-" + s.now().UTC().Format("20060102T150405Z")
	aside := stem
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", stem, i)
	}
	return aside, os.Rename(s.path, aside)
}

// readCurrent is the progress on disk now: what another process saved
// since this one opened the file, or what this one loaded when the file is
// unreadable. An unreadable file is never written over: it is moved aside,
// as Open does, and a newer schema is refused.
func (s *Store) readCurrent() (Data, error) {
	raw, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s.base(), nil
	case err != nil:
		return Data{}, fmt.Errorf("reading %s: %w", s.path, err)
	}
	d, err := decode(raw)
	if errors.Is(err, ErrNewerVersion) {
		return Data{}, fmt.Errorf("%s: %w; it was left as it is", s.path, err)
	}
	if err != nil {
		if _, rerr := s.moveAside(); rerr != nil {
			return Data{}, fmt.Errorf("%s is unreadable (%v) and could not be moved aside, so it was left as it is: %w", s.path, err, rerr)
		}
		return s.base(), nil
	}
	return d, nil
}

// base is the progress as last read from or written to disk.
func (s *Store) base() Data { return clone(s.disk) }

// replay applies the pending changes to a copy of d. Called with s.mu held.
func (s *Store) replay(d Data) Data {
	out := clone(d)
	for _, c := range s.pending {
		c.fn(&out)
	}
	if len(s.pending) > 0 {
		out.Version = Version
		out.UpdatedAt = s.now().UTC()
	}
	return out
}

// Reset removes the progress file; the learner id is kept so that quiz
// shuffles stay personal.
func (s *Store) Reset() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", s.path, err)
	}
	s.data = Data{Version: Version, LearnerID: s.data.LearnerID}
	s.disk = clone(s.data)
	s.pending = nil
	return nil
}

func writeAtomic(path string, d Data) error {
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving progress: %w", err)
	}
	return nil
}

// MarkLessonRead records that a lesson was opened and where it was left.
func (d *Data) MarkLessonRead(id string, offset int, at time.Time) {
	if d.Lessons == nil {
		d.Lessons = map[string]LessonState{}
	}
	st := d.Lessons[id]
	if st.ReadAt.IsZero() {
		st.ReadAt = at.UTC()
	}
	st.Offset = offset
	d.Lessons[id] = st
}

// RecordQuiz adds a finished attempt and updates the best score.
func (d *Data) RecordQuiz(id string, a QuizAttempt) {
	if d.Quizzes == nil {
		d.Quizzes = map[string]QuizState{}
	}
	st := d.Quizzes[id]
	a.At = a.At.UTC()
	st.Attempts = append(st.Attempts, a)
	st.BestPercent = max(st.BestPercent, a.Percent)
	st.Passed = st.Passed || a.Passed
	d.Quizzes[id] = st
}

// UpdateTask changes the state of one lab task.
func (d *Data) UpdateTask(lab, task string, change func(*TaskState)) {
	if d.Labs == nil {
		d.Labs = map[string]LabState{}
	}
	ls := d.Labs[lab]
	if ls.Tasks == nil {
		ls.Tasks = map[string]TaskState{}
	}
	ts := ls.Tasks[task]
	change(&ts)
	ls.Tasks[task] = ts
	d.Labs[lab] = ls
}

// StartLab records when a lab was first opened; later calls keep that time.
func (d *Data) StartLab(lab string, at time.Time) {
	if d.Labs == nil {
		d.Labs = map[string]LabState{}
	}
	ls := d.Labs[lab]
	if ls.StartedAt.IsZero() {
		ls.StartedAt = at.UTC()
	}
	d.Labs[lab] = ls
}

// ResetLab makes a fresh start of a lab, as resetting its namespace does
// on the cluster: no task counts as passed, answers are forgotten and the
// clock starts again. The hints and solutions the learner has seen stay
// recorded, since a reset does not unsee them.
func (d *Data) ResetLab(lab string, at time.Time) {
	ls, ok := d.Labs[lab]
	if !ok {
		return
	}
	for id, t := range ls.Tasks {
		t.PassedAt, t.Answer = time.Time{}, ""
		ls.Tasks[id] = t
	}
	ls.StartedAt = at.UTC()
	d.Labs[lab] = ls
}

// LabTasksDone counts the tasks among ids that have passed at least once.
func LabTasksDone(d Data, lab string, ids []string) int {
	n := 0
	for _, id := range ids {
		if !d.Labs[lab].Tasks[id].PassedAt.IsZero() {
			n++
		}
	}
	return n
}
