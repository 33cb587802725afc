package workshop

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// States of a learner's lab.
const (
	Passed     = "passed"
	InProgress = "in progress"
	// Started: the lab's namespace holds objects but no task passes yet
	// (a Service with the wrong port).
	Started    = "started"
	NotStarted = "not started"
	// NotGraded: none of the lab's tasks can be graded in a workshop
	// (questions are answered on the learner's machine; some tasks need
	// cluster-wide rights).
	NotGraded = "not graded"
	// Broken: k8slab could not judge (forbidden, unreachable, an error).
	Broken = "broken"
)

// Cell is one learner's lab.
type Cell struct {
	Lab       string              `json:"lab"`
	Title     string              `json:"title,omitempty"`
	Namespace string              `json:"namespace"`
	State     string              `json:"state"`
	Score     int                 `json:"score"`
	MaxScore  int                 `json:"maxScore"`
	Tasks     []checks.TaskResult `json:"tasks"`
	// Failing is the first task that does not pass, and FailingSince when
	// it became the first failing one: a long time means stuck.
	Failing      string    `json:"failing,omitempty"`
	FailingSince time.Time `json:"failingSince,omitzero"`
}

// Row is one learner.
type Row struct {
	Learner  string `json:"learner"`
	Cells    []Cell `json:"labs"`
	Score    int    `json:"score"`
	MaxScore int    `json:"maxScore"`
	// Exam is how far they are in the class's exam, if one is set.
	Exam *ExamProgress `json:"exam,omitempty"`
}

// Table is the whole class at one moment.
type Table struct {
	Workshop string    `json:"workshop"`
	Labs     []string  `json:"labs"`
	Rows     []Row     `json:"learners"`
	At       time.Time `json:"at"`
}

// Grader grades a workshop's class live. It watches each resource kind the
// labs read once, across all namespaces, and serves every learner's
// evaluation from those caches: the number of watches does not grow with
// the class.
type Grader struct {
	c      Clients
	name   string
	labs   []*labfile.Lab
	graded map[string][]string // lab id -> task ids status grades
	engine *checks.Engine
	now    func() time.Time

	// informers are keyed by resource and field selector (the namespace
	// is always all): a check that reads a sliver of a resource (the
	// ReplicaSet events) caches only that sliver of the whole cluster.
	informers map[clustercache.Key]cache.SharedIndexInformer
	// readers maps an informer and a namespace that is not a learner's
	// (kube-system) to the labs whose checks read it there: a change there
	// regrades those labs' cells.
	readers map[clustercache.Key]map[string][]string
	nsInf   cache.SharedIndexInformer

	// syncTime and gradeTime split the time to the first table between
	// listing the class and grading it, for benchmarks.
	syncTime, gradeTime time.Duration

	mu    sync.Mutex
	dirty map[string]bool // namespaces to grade again; "*" means all
	// dirtyLabs are labs whose every cell is graded again.
	dirtyLabs map[string]bool
	cells     map[string]*Cell
	// exams are the learners' exam namespaces as last graded.
	exams map[string]*examCell
	kick  chan struct{}
}

// NewGrader prepares a grader; Run starts it.
func NewGrader(c Clients, name string, labs []*labfile.Lab) *Grader {
	access := Analyse(labs)
	g := &Grader{c: c, name: name, labs: labs, graded: map[string][]string{}, engine: checks.NewEngine(c.Dynamic), now: time.Now,
		informers: map[clustercache.Key]cache.SharedIndexInformer{}, readers: map[clustercache.Key]map[string][]string{},
		dirty: map[string]bool{"*": true}, dirtyLabs: map[string]bool{}, cells: map[string]*Cell{}, exams: map[string]*examCell{}, kick: make(chan struct{}, 1)}
	for _, lab := range labs {
		for _, t := range lab.Tasks {
			if t.Question == nil && !access.IsRestricted(lab.ID, t.ID) {
				g.graded[lab.ID] = append(g.graded[lab.ID], t.ID)
			}
		}
	}
	return g
}

// FirstTable says how long the first table took to list the class
// (informers synced) and then to grade it. Valid once Run has delivered
// a table.
func (g *Grader) FirstTable() (sync, grade time.Duration) { return g.syncTime, g.gradeTime }

// Objects is how many objects the grader's caches hold.
func (g *Grader) Objects() int {
	n := 0
	for _, inf := range g.informers {
		n += len(inf.GetStore().ListKeys())
	}
	return n
}

// Watches is the number of watches the grader keeps open.
func (g *Grader) Watches() int { return len(g.informers) + 1 }

// markDirty marks what a change to obj, seen by the informer of key, may
// change: the cells of obj's namespace, and of the labs that read key's
// objects there when it is not a learner's (kube-system); a
// cluster-scoped object, or a call without an object, marks every cell.
func (g *Grader) markDirty(key clustercache.Key, obj any) {
	ns := "*"
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, err := metaOf(obj); err == nil && m.GetNamespace() != "" {
		ns = m.GetNamespace()
	}
	g.mu.Lock()
	g.dirty[ns] = true
	for _, lab := range g.readers[key][ns] {
		g.dirtyLabs[lab] = true
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

func metaOf(obj any) (metav1.Object, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	return nil, fmt.Errorf("not an object")
}

// Run watches the class and calls onTable with the first full table and
// again after every change (changes are gathered for debounce). It returns
// when ctx ends, or an error if the watches cannot start.
func (g *Grader) Run(ctx context.Context, debounce time.Duration, onTable func(Table)) error {
	handler := func(key clustercache.Key) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { g.markDirty(key, o) },
			UpdateFunc: func(_, n any) { g.markDirty(key, n) },
			DeleteFunc: func(o any) { g.markDirty(key, o) },
		}
	}
	// Indexed by namespace: each cell's checks list one namespace.
	byNamespace := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	for _, lab := range g.labs {
		if len(g.graded[lab.ID]) == 0 {
			continue // no ids would mean every task
		}
		for _, n := range checks.Needs(lab, placeholder, g.graded[lab.ID]) {
			key := clustercache.Key{Resource: n.Resource, FieldSelector: n.FieldSelector}
			if n.Namespace != placeholder && n.Namespace != "" {
				if g.readers[key] == nil {
					g.readers[key] = map[string][]string{}
				}
				g.readers[key][n.Namespace] = append(g.readers[key][n.Namespace], lab.ID)
			}
			if _, ok := g.informers[key]; ok {
				continue
			}
			inf := clustercache.NewInformer(g.c.Watch, key, "", byNamespace)
			if _, err := inf.AddEventHandler(handler(key)); err != nil {
				return err
			}
			g.informers[key] = inf
		}
	}
	// The class itself: learners' namespaces, found by the workshop label,
	// so learners added by a later init appear.
	g.nsInf = clustercache.NewInformer(g.c.Watch, clustercache.Key{Resource: kube.NamespacesGVR}, WorkshopLabel+"="+g.name, byNamespace)
	if _, err := g.nsInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { g.markDirty(clustercache.Key{}, "*") },
		UpdateFunc: func(any, any) {},
		DeleteFunc: func(any) { g.markDirty(clustercache.Key{}, "*") },
	}); err != nil {
		return err
	}
	// The informers stop, and Run waits for them, whichever way Run
	// returns.
	runCtx, stop := context.WithCancel(ctx)
	var running sync.WaitGroup
	defer running.Wait()
	defer stop()
	for _, inf := range append([]cache.SharedIndexInformer{g.nsInf}, slices.Collect(maps.Values(g.informers))...) {
		running.Go(func() { inf.RunWithContext(runCtx) })
	}
	synced := []cache.InformerSynced{g.nsInf.HasSynced}
	for _, inf := range g.informers {
		synced = append(synced, inf.HasSynced)
	}
	start := time.Now()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	ok := cache.WaitForCacheSync(syncCtx.Done(), synced...)
	cancel()
	if !ok {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("could not list and watch the workshop's objects within a minute; the instructor's credentials must read them across all namespaces")
	}
	g.syncTime = time.Since(start)
	first := g.grade(ctx)
	g.gradeTime = time.Since(start) - g.syncTime
	onTable(first)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.kick:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(debounce):
			}
			onTable(g.grade(ctx))
		}
	}
}

// Snapshot grades the class once, from a cold start.
func Snapshot(ctx context.Context, c Clients, name string, labs []*labfile.Lab) (Table, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := NewGrader(c, name, labs)
	var first Table
	got := false
	err := g.Run(ctx, 0, func(t Table) {
		if !got {
			first, got = t, true
			cancel()
		}
	})
	if err != nil {
		return Table{}, err
	}
	if !got {
		return Table{}, ctx.Err()
	}
	return first, nil
}

// cacheSnapshot serves the engine's lists from the shared informers.
type cacheSnapshot struct {
	informers map[clustercache.Key]cache.SharedIndexInformer
}

func (s cacheSnapshot) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error) {
	return s.ListKey(ctx, clustercache.Key{Resource: gvr, Namespace: namespace})
}

// ListKey serves k from the informer of its resource and field selector,
// or, failing that, from the whole resource's (a Snapshot may return
// more than the selector picks).
func (s cacheSnapshot) ListKey(_ context.Context, k clustercache.Key) ([]unstructured.Unstructured, error) {
	inf, ok := s.informers[clustercache.Key{Resource: k.Resource, FieldSelector: k.FieldSelector}]
	if !ok {
		inf, ok = s.informers[clustercache.Key{Resource: k.Resource}]
	}
	if !ok {
		return nil, fmt.Errorf("internal: %s is not watched", k.Resource.Resource)
	}
	namespace := k.Namespace
	var items []any
	if namespace == "" {
		items = inf.GetStore().List()
	} else {
		var err error
		if items, err = inf.GetIndexer().ByIndex(cache.NamespaceIndex, namespace); err != nil {
			return nil, err
		}
	}
	out := make([]unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, *u)
		}
	}
	return out, nil
}

// grade evaluates the dirty cells and returns the whole table.
func (g *Grader) grade(ctx context.Context) Table {
	g.mu.Lock()
	dirty, dirtyLabs := g.dirty, g.dirtyLabs
	g.dirty, g.dirtyLabs = map[string]bool{}, map[string]bool{}
	g.mu.Unlock()

	labByID := map[string]*labfile.Lab{}
	for _, l := range g.labs {
		labByID[l.ID] = l
	}
	type job struct {
		key  string
		lab  *labfile.Lab
		cell *Cell
		port int
	}
	var jobs []job
	learners := map[string]bool{}
	// Only the labs the workshop has namespaces for are columns: a
	// workshop of the day's labs (init --labs) is not drawn with the
	// whole course's.
	labsSeen := map[string]bool{}
	now := g.now()
	var exams []ExamSetting
	for _, o := range g.nsInf.GetStore().List() {
		ns, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		labels := ns.GetLabels()
		learner, labID := labels[LearnerLabel], labels[LabLabel]
		if learner == "" {
			continue
		}
		if _, exam := labels[ExamLabel]; exam {
			// An exam namespace is no lab column: it counts towards
			// the learner's exam.
			if e, ok := ReadExam(ns); ok && labByID[e.Lab] != nil {
				exams = append(exams, e)
			}
			continue
		}
		learners[learner] = true
		lab, ok := labByID[labID]
		if !ok {
			continue
		}
		labsSeen[labID] = true
		key := learner + "/" + labID
		if g.cells[key] != nil && !dirty["*"] && !dirty[ns.GetName()] && !dirtyLabs[labID] {
			continue
		}
		// A namespace whose port annotation is broken is graded against
		// the default, and fails where the learner's port should be.
		port, _ := labenv.NamespaceNodePort(ns)
		jobs = append(jobs, job{key: key, lab: lab, cell: &Cell{Lab: labID, Title: lab.Title, Namespace: ns.GetName()}, port: port})
	}
	// Cells are independent and the caches are read-only here: grade on
	// every core.
	snap := cacheSnapshot{informers: g.informers}
	next := make(chan job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				g.gradeCell(ctx, j.lab, j.cell, j.port, snap)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	exam := map[string]bool{}
	for _, e := range exams {
		exam[e.Namespace] = true
		if prev := g.exams[e.Namespace]; prev == nil || dirty["*"] || dirty[e.Namespace] || dirtyLabs[e.Lab] || !prev.start.Equal(e.Start) {
			g.exams[e.Namespace] = g.gradeExam(ctx, labByID[e.Lab], e, prev, snap)
		}
	}
	for ns := range g.exams {
		if !exam[ns] {
			delete(g.exams, ns)
		}
	}
	for _, j := range jobs {
		if prev := g.cells[j.key]; prev != nil && j.cell.Failing != "" && prev.Failing == j.cell.Failing {
			j.cell.FailingSince = prev.FailingSince
		} else if j.cell.Failing != "" {
			j.cell.FailingSince = now
		}
		g.cells[j.key] = j.cell
	}
	return g.table(learners, labsSeen, now)
}

func (g *Grader) gradeCell(ctx context.Context, lab *labfile.Lab, cell *Cell, port int, snap clustercache.Snapshot) {
	tasks := g.graded[lab.ID]
	if len(tasks) == 0 {
		cell.State = NotGraded
		return
	}
	res := g.engine.EvaluateFrom(ctx, lab, checks.Options{Namespace: cell.Namespace, NodePort: port, Tasks: tasks}, snap)
	cell.Tasks, cell.Score, cell.MaxScore = res.Tasks, res.Score, res.MaxScore
	cell.State = state(res)
	if cell.State == NotStarted && g.hasObjects(cell.Namespace) {
		cell.State = Started
	}
	for _, t := range res.Tasks {
		if t.Status != checks.Pass {
			cell.Failing = t.ID
			break
		}
	}
}

// hasObjects reports whether any object the grader watches is in
// namespace ns: a learner who has made something, if not yet what a task
// asks for, has started.
func (g *Grader) hasObjects(ns string) bool {
	for _, inf := range g.informers {
		objs, err := inf.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
		if err != nil {
			continue
		}
		for _, o := range objs {
			if u, ok := o.(*unstructured.Unstructured); ok && !madeForEveryNamespace(u) {
				return true
			}
		}
	}
	return false
}

// madeForEveryNamespace: what the cluster or init puts in every lab
// namespace, which says nothing about the learner.
func madeForEveryNamespace(u *unstructured.Unstructured) bool {
	if _, ok := u.GetLabels()[WorkshopLabel]; ok {
		return true
	}
	switch u.GetKind() + "/" + u.GetName() {
	case "ConfigMap/kube-root-ca.crt", "ServiceAccount/default":
		return true
	}
	return false
}

func state(res checks.LabResult) string {
	if res.Broken() {
		return Broken
	}
	if res.Passed() {
		return Passed
	}
	for _, t := range res.Tasks {
		if t.Status == checks.Pass {
			return InProgress
		}
	}
	return NotStarted
}

func (g *Grader) table(learners, labsSeen map[string]bool, now time.Time) Table {
	t := Table{Workshop: g.name, At: now}
	var labs []*labfile.Lab
	for _, l := range g.labs {
		if labsSeen[l.ID] {
			t.Labs = append(t.Labs, l.ID)
			labs = append(labs, l)
		}
	}
	names := make([]string, 0, len(learners))
	for l := range learners {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, l := range names {
		row := Row{Learner: l}
		for _, lab := range labs {
			c, ok := g.cells[l+"/"+lab.ID]
			if !ok {
				c = &Cell{Lab: lab.ID, Title: lab.Title, State: "missing"}
			}
			row.Cells = append(row.Cells, *c)
			row.Score += c.Score
			row.MaxScore += c.MaxScore
		}
		var exams []*examCell
		for _, e := range g.exams {
			if e.learner == l {
				exams = append(exams, e)
			}
		}
		if row.Exam = examProgress(exams); row.Exam != nil {
			row.Exam.Finished = row.Exam.Passed == row.Exam.Tasks || !now.Before(row.Exam.Deadline)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// Cell returns the learner's cell for a lab.
func (t Table) Cell(learner, lab string) (Cell, bool) {
	for _, r := range t.Rows {
		if r.Learner != learner {
			continue
		}
		for _, c := range r.Cells {
			if c.Lab == lab {
				return c, true
			}
		}
	}
	return Cell{}, false
}
