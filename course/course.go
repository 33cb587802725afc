// Package course loads a course (modules, lessons, quizzes, the places of
// labs, the glossary and the cheat sheet) from a folder and validates all of
// it once. Parsing and rendering one lesson is package lessons.
package course

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	// The check kinds register themselves with labfile: a course's labs
	// cannot be read without them.
	_ "github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/lessons"
	"github.com/k8slab/k8slab/quiz"
	"go.yaml.in/yaml/v3"
)

// Course is a validated course, ready to show.
type Course struct {
	ID          string
	Title       string
	Description string
	Modules     []*Module
	// Glossary is the course's terms, sorted by term; empty when the
	// course has no glossary.yaml.
	Glossary []*Term
	// CheatSheet is nil when the course has no cheatsheet.md.
	CheatSheet *lessons.CheatSheet
	// TimelineNotes say why each kind of timeline step happens, by kind;
	// empty when the course has no timeline.yaml.
	TimelineNotes map[string]*TimelineNote

	lessonByID map[string]*lessons.Lesson
	quizzes    map[string]*quiz.Quiz
	labs       map[string]*labfile.Lab
	// deferred are the quizzes whose questions are read on first use
	// (DeferQuizzes), by id.
	deferred map[string]*deferredQuiz
}

// Module is one chapter of a course.
type Module struct {
	ID      string
	Title   string
	Summary string
	Lessons []*lessons.Lesson
	// Quiz is nil when the module has none.
	Quiz *quiz.Quiz
	// Labs are the module's hands-on labs, in file name order.
	Labs []*labfile.Lab
}

// Lesson returns the lesson with the given id.
func (c *Course) Lesson(id string) (*lessons.Lesson, bool) {
	l, ok := c.lessonByID[id]
	return l, ok
}

// ModuleOf returns the module lesson l belongs to, or nil when l is not a
// lesson of this course.
func (c *Course) ModuleOf(l *lessons.Lesson) *Module {
	for _, m := range c.Modules {
		if m.ID == l.Module && slices.Contains(m.Lessons, l) {
			return m
		}
	}
	return nil
}

// Quiz returns the quiz with the given id.
func (c *Course) Quiz(id string) (*quiz.Quiz, bool) {
	q, ok := c.quizzes[id]
	if ok && c.deferred[id] != nil {
		return c.deferred[id].questions(q)
	}
	return q, ok
}

// Lab returns the lab with the given id.
func (c *Course) Lab(id string) (*labfile.Lab, bool) {
	l, ok := c.labs[id]
	return l, ok
}

// AllLabs returns every lab in course order.
func (c *Course) AllLabs() []*labfile.Lab {
	var out []*labfile.Lab
	for _, m := range c.Modules {
		out = append(out, m.Labs...)
	}
	return out
}

// AllLessons returns every lesson in course order.
func (c *Course) AllLessons() []*lessons.Lesson {
	var out []*lessons.Lesson
	for _, m := range c.Modules {
		out = append(out, m.Lessons...)
	}
	return out
}

// Next returns the lesson after l in course order, or nil.
func (c *Course) Next(l *lessons.Lesson) *lessons.Lesson { return c.step(l, 1) }

// Previous returns the lesson before l in course order, or nil.
func (c *Course) Previous(l *lessons.Lesson) *lessons.Lesson { return c.step(l, -1) }

func (c *Course) step(l *lessons.Lesson, d int) *lessons.Lesson {
	all := c.AllLessons()
	i := slices.Index(all, l)
	if i < 0 || i+d < 0 || i+d >= len(all) {
		return nil
	}
	return all[i+d]
}

type courseFile struct {
	source.Header `yaml:",inline"`
	ID            string   `yaml:"id"`
	Title         string   `yaml:"title"`
	Description   string   `yaml:"description"`
	Modules       []string `yaml:"modules"`
}

type moduleFile struct {
	source.Header `yaml:",inline"`
	ID            string `yaml:"id"`
	Title         string `yaml:"title"`
	Summary       string `yaml:"summary"`
	// Labs orders the module's labs by id; without it they come in file
	// name order, which is seldom the order they are taught in.
	Labs []string `yaml:"labs"`
}

// CourseFile is the name of the file at the root of every course folder.
const CourseFile = "course.yaml"

// Load reads and validates the course rooted at fsys. On any problem it
// returns a source.Problems error listing all of them, with file and line.
func Load(fsys fs.FS, opts ...Option) (*Course, error) {
	l := &loader{fsys: fsys, parseLab: labfile.ParseLab}
	for _, o := range opts {
		o(l)
	}
	c := l.load()
	if len(l.problems) > 0 {
		l.problems.Sort()
		return nil, l.problems
	}
	return c, nil
}

type loader struct {
	fsys     fs.FS
	problems source.Problems
	parseLab func([]byte) (*labfile.Lab, source.Problems)
	// deferQuizzes: see DeferQuizzes.
	deferQuizzes bool
	// labs are the course's lab files, read and parsed by a goroutine of
	// their own while the rest of the course loads: they are most of the
	// work of loading, and the lessons and quizzes do not need them.
	labs map[string]*parsedLab
}

// parsedLab is one lab file, read and parsed; nothing of it is reported
// until loadLabs takes it, in course order, so problems come out as they
// would from one goroutine.
type parsedLab struct {
	done    chan struct{} // closed once the fields below are set
	lab     *labfile.Lab
	ps      source.Problems
	readErr error
}

// Option changes how Load works.
type Option func(*loader)

// CompileLabsLazily leaves each lab's CEL expressions to be compiled when
// the lab is first graded, which was most of the TUI's start-up. Problems in
// them then show when the lab is graded, not at load; 'k8slab lint' finds
// them all.
func CompileLabsLazily() Option {
	return func(l *loader) { l.parseLab = labfile.ParseLabLazily }
}

func (l *loader) add(file string, ps source.Problems) {
	l.problems = append(l.problems, ps.InFile(file, 0)...)
}

// decode reads file's YAML into v, whose header (h, inside v) must name
// kind, and reports what is wrong. It returns the document's root, or nil
// when the YAML does not parse.
func (l *loader) decode(file string, data []byte, v any, h *source.Header, kind string) *yaml.Node {
	root, ps := source.Parse(data)
	if ps != nil {
		l.add(file, ps)
		return nil
	}
	decoded := source.Decode(root, v)
	l.add(file, decoded.Merge(source.CheckHeader(root, *h, kind)))
	return root
}

func (l *loader) problem(file string, line int, format string, args ...any) {
	l.problems = append(l.problems, source.Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) load() *Course {
	data, err := source.ReadFile(l.fsys, CourseFile)
	if err != nil {
		l.problem(CourseFile, 0, "cannot read the course file: %v (a course folder needs %s at its root)", unwrapPathError(err), CourseFile)
		return nil
	}
	var cf courseFile
	root := l.decode(CourseFile, data, &cf, &cf.Header, "Course")
	if root == nil {
		return nil
	}
	if strings.TrimSpace(cf.Title) == "" {
		l.problem(CourseFile, root.Line, "missing title")
	}
	if len(cf.Modules) == 0 {
		l.problem(CourseFile, root.Line, "the course lists no modules; add their folder names under 'modules'")
	}
	c := &Course{ID: cf.ID, Title: cf.Title, Description: cf.Description, lessonByID: map[string]*lessons.Lesson{}, quizzes: map[string]*quiz.Quiz{}, labs: map[string]*labfile.Lab{}}
	l.parseLabsAhead(cf.Modules)
	seen := map[string]bool{}
	for i, dir := range cf.Modules {
		line := source.Item(root, "modules", i).Line
		if seen[dir] {
			l.problem(CourseFile, line, "module %q is listed twice", dir)
			continue
		}
		seen[dir] = true
		if !ident.Valid(dir) {
			l.problem(CourseFile, line, "module %q must be a folder name of lowercase letters, digits and dashes", dir)
			continue
		}
		if st, err := fs.Stat(l.fsys, dir); err != nil || !st.IsDir() {
			l.problem(CourseFile, line, "module %q is listed but there is no folder %s/ next to %s", dir, dir, CourseFile)
			continue
		}
		if m := l.loadModule(c, dir); m != nil {
			c.Modules = append(c.Modules, m)
		}
	}
	l.checkUnlisted(seen)
	l.loadGlossary(c)
	l.loadCheatSheet(c)
	l.loadTimelineNotes(c)
	return c
}

// parseLabsAhead starts reading and parsing the lab files of the listed
// module folders. A folder loadModule later refuses is parsed for nothing,
// which costs time only on a course that does not load.
func (l *loader) parseLabsAhead(modules []string) {
	var files []string
	for _, dir := range modules {
		if ident.Valid(dir) {
			found, _ := fs.Glob(l.fsys, path.Join(dir, "labs", "*.yaml"))
			files = append(files, found...)
		}
	}
	l.labs = make(map[string]*parsedLab, len(files))
	for _, file := range files {
		l.labs[file] = &parsedLab{done: make(chan struct{})}
	}
	go func() {
		for _, file := range files {
			l.readLab(file, l.labs[file])
		}
	}()
}

func (l *loader) readLab(file string, p *parsedLab) {
	defer close(p.done)
	data, err := source.ReadFile(l.fsys, file)
	if p.readErr = err; err == nil {
		p.lab, p.ps = l.parseLab(data)
	}
}

// checkUnlisted catches a module folder the author forgot to list, which
// would otherwise silently vanish from the course.
func (l *loader) checkUnlisted(listed map[string]bool) {
	entries, err := fs.ReadDir(l.fsys, ".")
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || listed[e.Name()] || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := fs.Stat(l.fsys, path.Join(e.Name(), "module.yaml")); err == nil {
			l.problem(CourseFile, 0, "folder %s/ has a module.yaml but is not listed under 'modules'", e.Name())
		}
	}
}

func (l *loader) loadModule(c *Course, dir string) *Module {
	file := path.Join(dir, "module.yaml")
	data, err := source.ReadFile(l.fsys, file)
	if err != nil {
		l.problem(file, 0, "cannot read: %v (every module folder needs a module.yaml)", unwrapPathError(err))
		return nil
	}
	var mf moduleFile
	root := l.decode(file, data, &mf, &mf.Header, "Module")
	if root == nil {
		return nil
	}
	if mf.ID != dir {
		l.problem(file, source.Line(root, "id"), "module id %q must equal its folder name %q", mf.ID, dir)
	}
	if strings.TrimSpace(mf.Title) == "" {
		l.problem(file, root.Line, "missing title")
	}
	m := &Module{ID: dir, Title: mf.Title, Summary: mf.Summary}
	l.loadLessons(c, m, dir)
	l.loadQuiz(c, m, dir)
	l.loadLabs(c, m, dir)
	l.orderLabs(m, file, root, mf.Labs)
	return m
}

// orderLabs puts the module's labs in the order module.yaml lists them.
// A list must name each lab of the module once, so none is left out of
// the course map by an outdated list.
func (l *loader) orderLabs(m *Module, file string, root *yaml.Node, order []string) {
	if len(order) == 0 {
		return
	}
	at := map[string]int{}
	for i, id := range order {
		line := source.Item(root, "labs", i).Line
		switch {
		case !slices.ContainsFunc(m.Labs, func(lab *labfile.Lab) bool { return lab.ID == id }):
			l.problem(file, line, "labs lists %q, but %s/labs/ has no %s.yaml", id, m.ID, id)
		case at[id] > 0:
			l.problem(file, line, "labs lists %q twice", id)
		}
		at[id] = i + 1
	}
	for _, lab := range m.Labs {
		if at[lab.ID] == 0 {
			l.problem(file, source.Line(root, "labs"), "lab %q (%s) is missing from labs; list every lab of the module, in the order they are taught", lab.ID, lab.File)
		}
	}
	sort.SliceStable(m.Labs, func(i, j int) bool { return at[m.Labs[i].ID] < at[m.Labs[j].ID] })
}

func (l *loader) loadLessons(c *Course, m *Module, dir string) {
	files, _ := fs.Glob(l.fsys, path.Join(dir, "lessons", "*.md"))
	if len(files) == 0 {
		l.problem(path.Join(dir, "module.yaml"), 0, "module %q has no lessons; add Markdown files under %s/lessons/", m.ID, dir)
		return
	}
	orders := map[int]string{}
	for _, file := range files {
		data, err := source.ReadFile(l.fsys, file)
		if err != nil {
			l.problem(file, 0, "cannot read: %v", unwrapPathError(err))
			continue
		}
		lesson, ps := lessons.ParseLesson(data)
		if len(ps) > 0 {
			l.add(file, ps)
			continue
		}
		lesson.File, lesson.Module = file, m.ID
		if other, dup := c.lessonByID[lesson.ID]; dup {
			l.problem(file, 2, "lesson id %q is already used by %s", lesson.ID, other.File)
			continue
		}
		if other, dup := orders[lesson.Order]; dup {
			l.problem(file, 0, "order %d is already used by %s in the same module", lesson.Order, other)
		}
		orders[lesson.Order] = file
		c.lessonByID[lesson.ID] = lesson
		m.Lessons = append(m.Lessons, lesson)
	}
	sort.SliceStable(m.Lessons, func(i, j int) bool { return m.Lessons[i].Order < m.Lessons[j].Order })
}

// readOptional reads a file a course may leave out: ok is false when it is
// absent or unreadable (which is reported).
func (l *loader) readOptional(file string) (data []byte, ok bool) {
	data, err := source.ReadFile(l.fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		l.problem(file, 0, "cannot read: %v", unwrapPathError(err))
		return nil, false
	}
	return data, true
}

func (l *loader) loadQuiz(c *Course, m *Module, dir string) {
	file := path.Join(dir, "quiz.yaml")
	data, ok := l.readOptional(file)
	if !ok {
		return
	}
	if l.deferQuizzes && l.deferQuiz(c, m, data) {
		return
	}
	q, ps := quiz.Parse(data)
	if ps != nil {
		l.add(file, ps)
		return
	}
	if q.ID == "" {
		q.ID = m.ID
	}
	for _, qq := range q.Questions {
		if qq.Lesson != "" && !slices.ContainsFunc(m.Lessons, func(ls *lessons.Lesson) bool { return ls.ID == qq.Lesson }) {
			l.problem(file, qq.Line, "question %q names lesson %q, which is not a lesson of module %q", qq.ID, qq.Lesson, m.ID)
		}
	}
	if _, dup := c.quizzes[q.ID]; dup {
		l.problem(file, 0, "quiz id %q is already used by another module's quiz", q.ID)
		return
	}
	c.quizzes[q.ID] = q
	m.Quiz = q
}

// loadLabs parses and validates the module's labs, expressions included.
func (l *loader) loadLabs(c *Course, m *Module, dir string) {
	files, _ := fs.Glob(l.fsys, path.Join(dir, "labs", "*.yaml"))
	for _, file := range files {
		p, ok := l.labs[file]
		if !ok { // not globbed ahead: a folder that changed while loading
			p = &parsedLab{done: make(chan struct{})}
			l.readLab(file, p)
		}
		<-p.done
		if p.readErr != nil {
			l.problem(file, 0, "cannot read: %v", unwrapPathError(p.readErr))
			continue
		}
		lab, ps := p.lab, p.ps
		if len(ps) > 0 {
			l.add(file, ps)
			continue
		}
		if want := strings.TrimSuffix(path.Base(file), ".yaml"); lab.ID != want {
			l.problem(file, 0, "lab id %q must equal its file name %q", lab.ID, want)
			continue
		}
		if other, dup := c.labs[lab.ID]; dup {
			l.problem(file, 0, "lab id %q is already used by %s", lab.ID, other.File)
			continue
		}
		lab.Module, lab.File = m.ID, file
		c.labs[lab.ID] = lab
		m.Labs = append(m.Labs, lab)
	}
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ErrNoLab is returned by LoadLab for an id no lab file has.
var ErrNoLab = errors.New("no lab")

// LoadLab reads and validates only the lab with this id. A command that
// grades one lab has no use for the rest of the course, and parsing it
// (every lab's expressions compiled) was most of its start-up. Lab files
// are named after their lab, which Load enforces, so one file is read;
// 'k8slab lint' validates the whole course.
func LoadLab(fsys fs.FS, id string) (*labfile.Lab, error) {
	modules, err := moduleDirs(fsys)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, dir := range modules {
		if ident.Valid(id) {
			file := path.Join(dir, "labs", id+".yaml")
			data, err := source.ReadFile(fsys, file)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return nil, source.Problems{{File: file, Message: fmt.Sprintf("cannot read: %v", unwrapPathError(err))}}
			default:
				lab, ps := labfile.ParseLab(data)
				if len(ps) > 0 {
					return nil, ps.InFile(file, 0)
				}
				if lab.ID != id {
					return nil, source.Problems{{File: file, Message: fmt.Sprintf("lab id %q must equal its file name %q", lab.ID, id)}}
				}
				lab.Module, lab.File = dir, file
				return lab, nil
			}
		}
		files, _ := fs.Glob(fsys, path.Join(dir, "labs", "*.yaml"))
		for _, f := range files {
			known = append(known, strings.TrimSuffix(path.Base(f), ".yaml"))
		}
	}
	return nil, fmt.Errorf("%w %q; the labs are: %s", ErrNoLab, id, strings.Join(known, ", "))
}

// moduleDirs reads the module list of course.yaml, reporting its problems.
func moduleDirs(fsys fs.FS) ([]string, error) {
	data, err := source.ReadFile(fsys, CourseFile)
	if err != nil {
		return nil, source.Problems{{File: CourseFile, Message: fmt.Sprintf("cannot read the course file: %v (a course folder needs %s at its root)", unwrapPathError(err), CourseFile)}}
	}
	root, ps := source.Parse(data)
	if ps != nil {
		return nil, ps.InFile(CourseFile, 0)
	}
	var cf courseFile
	if ps := source.Decode(root, &cf); len(ps) > 0 {
		return nil, ps.InFile(CourseFile, 0)
	}
	var dirs []string
	for _, dir := range cf.Modules {
		if ident.Valid(dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}

// FindQuiz finds a quiz by its module's number (as 'k8slab lessons'
// numbers them) or by its id.
func (c *Course) FindQuiz(arg string) (*quiz.Quiz, error) {
	if q, ok := c.Quiz(arg); ok {
		return q, nil
	}
	if n, err := strconv.Atoi(arg); err == nil && n >= 1 && n <= len(c.Modules) {
		m := c.Modules[n-1]
		if m.Quiz == nil {
			return nil, fmt.Errorf("module %d (%s) has no quiz; the quizzes are: %s", n, m.Title, quizList(c))
		}
		return c.FindQuiz(m.Quiz.ID)
	}
	return nil, fmt.Errorf("no quiz %q; the quizzes are, by module number and id: %s", arg, quizList(c))
}

func quizList(c *Course) string {
	var ids []string
	for i, m := range c.Modules {
		if m.Quiz != nil {
			ids = append(ids, fmt.Sprintf("%d %s", i+1, m.Quiz.ID))
		}
	}
	return strings.Join(ids, ", ")
}
