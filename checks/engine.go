// Package checks grades a lab: it decides, from objects read from the live
// Kubernetes API, whether a learner has done each task, and explains what
// is still wrong. It only reads; the lab's model comes from labfile, the
// objects from clustercache, and labenv makes and removes labs.
package checks

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/answer"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/internal/textsafe"
	"github.com/k8slab/k8slab/labfile"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Engine evaluates labs against one cluster.
type Engine struct {
	client dynamic.Interface
	// requests counts API requests, for reports and benchmarks.
	requests atomic.Int64
	now      func() time.Time
}

// NewEngine returns an engine that reads through client.
func NewEngine(client dynamic.Interface) *Engine {
	return &Engine{client: client, now: time.Now}
}

// Options narrow an evaluation.
type Options struct {
	// Namespace overrides the lab's namespace (workshops).
	Namespace string
	// Tasks limits the evaluation to these task ids; empty means all.
	Tasks []string
	// NodePort is the nodePort the lab asks for in this namespace
	// (labenv.NodePort); 0 means labfile.DefaultNodePort.
	NodePort int
	// Answers are the learner's answers to question tasks, by task id.
	Answers map[string]string
	// Cache is the informer cache Watch reads through, which it may share
	// with other views of the lab (the cluster map); Evaluate ignores it.
	Cache *clustercache.Cache
	// snapshot, when set, serves objects (watch mode's cache).
	snapshot clustercache.Snapshot
}

// Evaluate grades lab once. Every list it needs is fetched once, in
// parallel, before the checks run.
func (e *Engine) Evaluate(ctx context.Context, lab *labfile.Lab, opts Options) LabResult {
	start := e.now()
	before := e.requests.Load()
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	snap := opts.snapshot
	if snap == nil {
		snap = clustercache.NewSnapshot(e.client, &e.requests)
	}
	tasks := selectTasks(lab, opts.Tasks)
	res := LabResult{Lab: lab.ID, Title: lab.Title, Namespace: ns, At: start.UTC()}
	if lab.UsesNodePort() {
		res.NodePort = cmp.Or(opts.NodePort, labfile.DefaultNodePort)
	}
	if err := lab.Compile(); err != nil {
		for _, t := range tasks {
			res.MaxScore += t.Points
			res.Tasks = append(res.Tasks, TaskResult{ID: t.ID, Title: t.Title, MaxPoints: t.Points, Status: Error,
				Checks: []CheckResult{{Name: "the lab's expressions", Status: Error, Messages: []string{err.Error()}}}})
		}
		return res
	}
	prefetch(ctx, snap, ns, tasks)
	ctx = withNodePort(ctx, opts.NodePort)

	for _, t := range tasks {
		tr := TaskResult{ID: t.ID, Title: t.Title, MaxPoints: t.Points, Status: Pass}
		if t.Question != nil {
			cr := evalQuestion(ctx, snap, ns, t, opts.Answers[t.ID])
			tr.Checks = append(tr.Checks, cr)
		}
		for i := range t.Checks {
			c := &t.Checks[i]
			out := evaluateCheck(ctx, c, snap, ns)
			tr.Checks = append(tr.Checks, CheckResult{Name: c.Name, Status: out.Status, Messages: out.Messages, Settling: out.Settling})
		}
		// Messages quote the cluster (annotations, server errors): make
		// them safe for every terminal and report that shows them.
		for i := range tr.Checks {
			tr.Checks[i].Name = labfile.ExpandNodePort(tr.Checks[i].Name, opts.NodePort)
			for j, m := range tr.Checks[i].Messages {
				tr.Checks[i].Messages[j] = textsafe.Inert(labfile.ExpandNodePort(m, opts.NodePort))
			}
		}
		for _, cr := range tr.Checks {
			if cr.Status.severity() > tr.Status.severity() {
				tr.Status = cr.Status
			}
		}
		if tr.Status == Fail {
			tr.Settling = true
			for _, cr := range tr.Checks {
				if cr.Status != Pass && !cr.Settling {
					tr.Settling = false
				}
			}
		}
		if tr.Status == Pass {
			tr.Points = tr.MaxPoints
		}
		res.Score += tr.Points
		res.MaxScore += tr.MaxPoints
		res.Tasks = append(res.Tasks, tr)
	}
	res.Duration = e.now().Sub(start)
	res.APIRequests = int(e.requests.Load() - before)
	return res
}

// nodePortKey carries Options.NodePort to the expressions of the checks
// an evaluation runs; every check kind's evaluate has the same signature,
// and only expressions read it.
type nodePortKey struct{}

func withNodePort(ctx context.Context, port int) context.Context {
	if port == 0 {
		port = labfile.DefaultNodePort
	}
	return context.WithValue(ctx, nodePortKey{}, int64(port))
}

// celVars are the variables every expression sees besides its objects.
func celVars(ctx context.Context, ns string) map[string]any {
	vars := map[string]any{"namespace": ns}
	if port, ok := ctx.Value(nodePortKey{}).(int64); ok {
		vars["nodePort"] = port
	}
	return vars
}

// Requests is the number of API requests the engine has made so far.
func (e *Engine) Requests() int64 { return e.requests.Load() }

func selectTasks(lab *labfile.Lab, ids []string) []*labfile.Task {
	var out []*labfile.Task
	for i := range lab.Tasks {
		if len(ids) == 0 || slices.Contains(ids, lab.Tasks[i].ID) {
			out = append(out, &lab.Tasks[i])
		}
	}
	return out
}

// needs lists the resources a lab's checks read, so they can be listed
// once each, concurrently.
func needs(ns string, tasks []*labfile.Task) []clustercache.Key {
	set := map[clustercache.Key]bool{}
	for _, t := range tasks {
		if t.Question != nil {
			for _, k := range resourceReads(t.Question.Resource, ns) {
				set[k] = true
			}
		}
		for i := range t.Checks {
			if spec := kindOf(&t.Checks[i]); spec != nil {
				for _, k := range spec.reads(ns) {
					set[k] = true
				}
			}
		}
	}
	keys := make([]clustercache.Key, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	return keys
}

// managedFieldsReader is a check kind that reads metadata.managedFields,
// which a Cache drops from everything no check declares it reads.
type managedFieldsReader interface {
	// readsManagedFields lists the keys whose managedFields evaluate reads
	// (a subset of reads).
	readsManagedFields(ns string) []clustercache.Key
}

// managedFieldsNeeds is the keys whose managedFields the tasks' checks
// and questions read.
func managedFieldsNeeds(ns string, tasks []*labfile.Task) []clustercache.Key {
	var keys []clustercache.Key
	for _, t := range tasks {
		if q := t.Question; q != nil && mentionsManagedFields(q.Answer) {
			keys = append(keys, resourceReads(q.Resource, ns)...)
		}
		for i := range t.Checks {
			if r, ok := t.Checks[i].Spec.(managedFieldsReader); ok {
				keys = append(keys, r.readsManagedFields(ns)...)
			}
		}
	}
	return keys
}

// mentionsManagedFields reports whether a CEL expression names
// managedFields (as a field, has() test or map key). Only by naming it
// can an expression read the field's content; one that names it is given
// the objects whole.
func mentionsManagedFields(expr string) bool {
	return strings.Contains(expr, "managedFields")
}

// resourceReads is what selecting r reads: its kind in its namespace (none
// for cluster-scoped kinds). An unknown kind reads nothing; the loader has
// reported it.
func resourceReads(r labfile.Resource, labNamespace string) []clustercache.Key {
	k, err := kube.LookupKind(r.APIVersion, r.Kind)
	if err != nil {
		return nil
	}
	key := clustercache.Key{Resource: k.GVR}
	if k.Namespaced {
		key.Namespace = resourceNamespace(r, labNamespace)
	}
	return []clustercache.Key{key}
}

// inLabNamespace is the keys for resources read in the lab namespace.
func inLabNamespace(ns string, gvrs ...schema.GroupVersionResource) []clustercache.Key {
	keys := make([]clustercache.Key, len(gvrs))
	for i, g := range gvrs {
		keys[i] = clustercache.Key{Resource: g, Namespace: ns}
	}
	return keys
}

func prefetch(ctx context.Context, snap clustercache.Snapshot, ns string, tasks []*labfile.Task) {
	var wg sync.WaitGroup
	for _, k := range needs(ns, tasks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = snap.List(ctx, k.Resource, k.Namespace) // errors resurface in the checks
		}()
	}
	wg.Wait()
}

func resourceNamespace(r labfile.Resource, labNamespace string) string {
	if r.Namespace != "" {
		return r.Namespace
	}
	return labNamespace
}

// Describe names an object the way kubectl users say it: "deployment web".
func describe(kind, name string) string {
	return strings.ToLower(kind) + " " + name
}

// selectObjects lists r's kind and keeps the named object or those
// matching the selector.
func selectObjects(ctx context.Context, snap clustercache.Snapshot, ns string, r labfile.Resource) ([]unstructured.Unstructured, string, *Outcome) {
	k, err := kube.LookupKind(r.APIVersion, r.Kind)
	if err != nil {
		return nil, "", &Outcome{Status: Error, Messages: []string{err.Error()}}
	}
	listNS := ""
	if k.Namespaced {
		listNS = resourceNamespace(r, ns)
	}
	what := strings.ToLower(r.Kind) + "s"
	if r.Name != "" {
		what = describe(r.Kind, r.Name)
	}
	if listNS != "" {
		what += " in namespace " + listNS
	}
	items, err := snap.List(ctx, k.GVR, listNS)
	if err != nil {
		out := outcomeFromError(err, what)
		return nil, what, &out
	}
	switch {
	case r.Name != "":
		for _, it := range items {
			if it.GetName() == r.Name {
				return []unstructured.Unstructured{it}, what, nil
			}
		}
		return nil, what, &Outcome{Status: Missing, Messages: []string{what + " not found"}}
	case r.LabelSelector != "":
		sel, err := labels.Parse(r.LabelSelector)
		if err != nil {
			return nil, what, &Outcome{Status: Error, Messages: []string{err.Error()}}
		}
		var out []unstructured.Unstructured
		for _, it := range items {
			if sel.Matches(labels.Set(it.GetLabels())) {
				out = append(out, it)
			}
		}
		return out, what, nil
	}
	return items, what, nil
}

func evalQuestion(ctx context.Context, snap clustercache.Snapshot, ns string, t *labfile.Task, given string) CheckResult {
	q := t.Question
	cr := CheckResult{Name: q.Prompt}
	items, _, failed := selectObjects(ctx, snap, ns, q.Resource)
	if failed != nil {
		cr.Status, cr.Messages = failed.Status, failed.Messages
		return cr
	}
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it.Object
	}
	if q.AnswerExpr == nil {
		cr.Status, cr.Messages = Error, []string{"the question has no answer expression; load labs with ParseLab"}
		return cr
	}
	vars := celVars(ctx, ns)
	vars["objects"] = list
	wants, err := q.AnswerExpr.EvalAnswers(ctx, vars)
	if err != nil {
		cr.Status, cr.Messages = Error, []string{fmt.Sprintf("computing the answer: %v", err)}
		return cr
	}
	switch {
	case strings.TrimSpace(given) == "":
		cr.Status, cr.Messages = Fail, []string{"not answered yet"}
	case slices.ContainsFunc(wants, func(w string) bool { return answer.Normalize(given) == answer.Normalize(w) }):
		cr.Status = Pass
	default:
		msg := fmt.Sprintf("%q is not what the cluster says; look again", given)
		if hint := wrongAnswerHint(q, given, items); hint != "" {
			msg = fmt.Sprintf("%q is not what the cluster says: %s", given, hint)
		}
		cr.Status, cr.Messages = Fail, []string{msg}
	}
	return cr
}

// wrongAnswerHint names a likely mix-up in a wrong answer, or "": a pod's
// IP given where a Service's cluster IP is asked for is the commonest.
func wrongAnswerHint(q *labfile.Question, given string, items []unstructured.Unstructured) string {
	if q.Resource.Kind != "Service" {
		return ""
	}
	addr := strings.TrimSpace(given)
	for _, it := range items {
		if ip, _, _ := unstructured.NestedString(it.Object, "spec", "clusterIP"); ip == addr {
			return ""
		}
	}
	if podIP().MatchString(addr) {
		return "that looks like a pod's IP, or another address; a Service's own IP is its cluster IP, in the CLUSTER-IP column of kubectl get service, and stays the same while pods come and go"
	}
	return ""
}

var podIP = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*$`)
})

// Expected returns the right answer to a question task, as the cluster
// says now; tests and 'lab solve' use it.
func (e *Engine) Expected(ctx context.Context, lab *labfile.Lab, ns string, t *labfile.Task) (string, error) {
	if t.Question == nil {
		return "", fmt.Errorf("task %s is not a question", t.ID)
	}
	if err := lab.Compile(); err != nil {
		return "", err
	}
	if ns == "" {
		ns = lab.Namespace
	}
	snap := clustercache.NewSnapshot(e.client, &e.requests)
	items, _, failed := selectObjects(ctx, snap, ns, t.Question.Resource)
	if failed != nil {
		return "", fmt.Errorf("%s", strings.Join(failed.Messages, "; "))
	}
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it.Object
	}
	if t.Question.AnswerExpr == nil {
		return "", fmt.Errorf("task %s has no answer expression", t.ID)
	}
	wants, err := t.Question.AnswerExpr.EvalAnswers(ctx, map[string]any{"objects": list, "namespace": ns})
	if err != nil {
		return "", err
	}
	return wants[0], nil
}
