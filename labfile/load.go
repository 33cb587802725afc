package labfile

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/google/cel-go/cel"

	"github.com/k8slab/k8slab/internal/celexpr"
	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/internal/source"
)

// ParseLab decodes and validates one lab file and compiles its expressions,
// reporting every problem with its line. A lab that parses cannot fail at
// check time because of how it was written.
func ParseLab(data []byte) (*Lab, source.Problems) {
	return parseLab(data, false)
}

// ParseLabLazily is ParseLab that leaves the CEL expressions to be compiled
// on the lab's first evaluation, and manifests to be checked when they are
// applied: that was most of the TUI's start-up, for labs the learner may
// not open. Use it only for content that lint has
// passed (the built-in course); a bad expression then shows as an error
// status when the lab is graded.
func ParseLabLazily(data []byte) (*Lab, source.Problems) {
	return parseLab(data, true)
}

func parseLab(data []byte, lazy bool) (*Lab, source.Problems) {
	if len(checkKinds) == 0 {
		panic("labfile: no check kinds are registered; import github.com/k8slab/k8slab/checks")
	}
	root, ps := source.Parse(data)
	if ps != nil {
		return nil, ps
	}
	var lab Lab
	decodeProblems := source.Decode(root, &lab)
	ps = append(ps, source.CheckHeader(root, lab.Header, "Lab")...)
	v := &Validator{lazy: lazy}
	v.lab(&lab, root)
	if ps = decodeProblems.Merge(append(ps, v.ps...)); len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	if lab.Namespace == "" {
		lab.Namespace = "lab-" + lab.ID
	}
	lab.pending = v.pending
	for i := range lab.Tasks {
		if lab.Tasks[i].Points == 0 {
			lab.Tasks[i].Points = 1
		}
	}
	return &lab, nil
}

// Validator collects a lab file's problems while it is decoded. Check
// kinds receive it to report their own.
type Validator struct {
	ps source.Problems
	// lazy defers CEL compilation to the lab's first evaluation and
	// skips what only lint needs to know.
	lazy    bool
	pending []func() error
	// requireAll: the lab states its tasks' requirements.
	requireAll bool
	// gradingAll: the lab marks how its tasks are graded.
	gradingAll bool
}

// Compile compiles src to a result of type want (nil for any) and hands it
// to set, now or, for a lazy parse, on the lab's first evaluation.
func (v *Validator) Compile(node *yaml.Node, what, src string, want *cel.Type, set func(*celexpr.Expr)) {
	if v.lazy {
		v.pending = append(v.pending, func() error {
			c, err := celexpr.Compile(src, want)
			if err != nil {
				return fmt.Errorf("line %d: %s: %v", node.Line, what, err)
			}
			set(c)
			return nil
		})
		return
	}
	if fixedNodePortExpr().MatchString(src) {
		v.Add(node, "%s compares a nodePort with a number; %s", what, fixedNodePortHelp)
	}
	c, err := celexpr.Compile(src, want)
	if err != nil {
		v.Add(node, "%s: %v", what, err)
		return
	}
	set(c)
}

// Add reports a problem at node.
func (v *Validator) Add(node *yaml.Node, format string, args ...any) {
	v.ps.Add(node, format, args...)
}

func (v *Validator) lab(lab *Lab, root *yaml.Node) {
	switch {
	case lab.ID == "":
		v.Add(root, "missing id")
	case !ident.Valid(lab.ID) || len(lab.ID) > 50:
		v.Add(source.Field(root, "id"), "lab id %q must be lowercase letters, digits and dashes, at most 50", lab.ID)
	}
	if strings.TrimSpace(lab.Title) == "" {
		v.Add(root, "missing title")
	}
	if lab.Namespace != "" && !ident.DNSLabel(lab.Namespace) {
		v.Add(source.Field(root, "namespace"), "namespace %q is not a valid Kubernetes namespace name", lab.Namespace)
	}
	v.features(lab.Features, root)
	if lab.Setup != "" {
		v.setup(source.Field(root, "setup"), lab.Setup)
	}
	tasks := source.Items(root, "tasks")
	if len(lab.Tasks) == 0 {
		v.Add(root, "a lab needs at least one task under 'tasks'")
	}
	// A lab that states the requirements of one task states them for
	// every task that is not a question.
	for _, t := range lab.Tasks {
		v.requireAll = v.requireAll || len(t.Requires) > 0
		v.gradingAll = v.gradingAll || t.Grading != ""
	}
	v.submission(lab, source.Field(root, "submission"))
	seen := map[string]bool{}
	for i := range min(len(lab.Tasks), len(tasks)) {
		t, node := &lab.Tasks[i], tasks[i]
		t.Line = node.Line
		if seen[t.ID] {
			v.Add(source.Field(node, "id"), "task id %q is used twice", t.ID)
		}
		seen[t.ID] = true
		v.task(t, node)
	}
}

func (v *Validator) features(fs []Feature, node *yaml.Node) {
	for i, f := range fs {
		switch f {
		case Containers, Storage, NodePortFromHost, ClusterWide:
		default:
			v.Add(source.Item(node, "features", i), "unknown feature %q; use containers, storage, nodeport-from-host or cluster-wide", f)
		}
	}
}

func (v *Validator) task(t *Task, node *yaml.Node) {
	name := "task"
	switch {
	case t.ID == "":
		v.Add(node, "task has no id")
	case !ident.Valid(t.ID):
		v.Add(source.Field(node, "id"), "task id %q must be lowercase letters, digits and dashes", t.ID)
	default:
		name = fmt.Sprintf("task %q", t.ID)
	}
	if strings.TrimSpace(t.Title) == "" {
		v.Add(node, "%s has no title", name)
	}
	if strings.TrimSpace(t.Goal) == "" {
		v.Add(node, "%s has no goal; say in Markdown what the learner must achieve", name)
	}
	if len(t.Hints) == 0 {
		v.Add(node, "%s has no hints; give at least one, each more specific than the last", name)
	}
	// A task is worth at least one point: left out, it is worth 1, so a
	// written 0 would silently become 1 in every report's totals.
	if pn := source.Field(node, "points"); pn != nil && t.Points < 1 {
		v.Add(pn, "%s: points must be at least 1 (leave it out for 1)", name)
	}
	v.features(t.Features, node)
	if t.Question != nil {
		v.grading(t, node, name)
		v.question(t.Question, source.Field(node, "question"), name)
		if len(t.Checks) > 0 {
			v.Add(source.Field(node, "checks"), "%s is a question; it takes no checks", name)
		}
		// A question's solution is optional: commands that find the
		// answer where only doing it proves it works (a NodePort from
		// the host, a lookup from a container); lab verify runs them.
		for i, st := range t.Solution {
			v.step(st, source.Item(node, "solution", i), name)
		}
		return
	}
	if len(t.Checks) == 0 {
		v.Add(node, "%s has no checks and no question, so it can never be graded", name)
	}
	if len(t.Solution) == 0 {
		v.Add(node, "%s has no solution; the test suite applies it to prove the checks pass", name)
	}
	if len(t.Mistakes) == 0 {
		v.Add(node, "%s has no mistakes; add at least one realistic wrong attempt that the checks must reject", name)
	}
	for i, st := range t.Solution {
		v.step(st, source.Item(node, "solution", i), name)
	}
	for i, m := range t.Mistakes {
		mn := source.Item(node, "mistakes", i)
		if m.Name == "" {
			v.Add(mn, "%s: a mistake needs a name", name)
		}
		if m.Expect == "" {
			v.Add(mn, "%s: mistake %q needs 'expect', part of the message the checks must give", name, m.Name)
		}
		if len(m.Steps) == 0 {
			v.Add(mn, "%s: mistake %q has no steps", name, m.Name)
		}
		for j, st := range m.Steps {
			v.step(st, source.Item(mn, "steps", j), name)
		}
	}
	for i := range t.Checks {
		v.check(&t.Checks[i], t.Checks[i].node, name)
	}
	v.grading(t, node, name)
	v.requires(t, node, name)
}

var submissionFileName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*\.ya?ml$`) })

// submission checks a lab's CI submission, if it has one: only where a
// task is graded from manifests, its files named as a folder would hold
// them, and each wrong variant a change that is really made, to a task
// that manifests grade. (The built-in course gives one in every such lab,
// and its test suite proves them on a cluster.)
func (v *Validator) submission(lab *Lab, node *yaml.Node) {
	var graded []string
	for _, t := range lab.Tasks {
		if t.Grading == GradedFromManifests {
			graded = append(graded, t.ID)
		}
	}
	s := lab.Submission
	switch {
	case s == nil:
		return
	case len(graded) == 0:
		v.Add(node, "no task is graded from manifests (grading: manifests), so CI grades nothing from a submission: leave 'submission' out")
		return
	}
	if len(s.Files) == 0 {
		v.Add(node, "submission: no files; give each file of a correct manifests folder with 'file' and 'apply'")
	}
	content := map[string]string{}
	for i, f := range s.Files {
		fn := source.Item(node, "files", i)
		switch {
		case !submissionFileName().MatchString(f.File):
			v.Add(fn, "submission: file %q: name it like a file in a folder, lowercase, ending in .yaml", f.File)
		case content[f.File] != "":
			v.Add(fn, "submission: file %q is given twice", f.File)
		}
		if strings.TrimSpace(f.Apply) == "" {
			v.Add(fn, "submission: file %q has nothing to apply", f.File)
			continue
		}
		content[f.File] = f.Apply
		// A submission is what a student commits for CI, which grades it
		// on a cluster of its own, outside any workshop: there the node
		// port is 30080, written out as kubectl apply needs it.
		v.manifests(source.Field(fn, "apply"), f.Apply, "submission: "+f.File, true)
	}
	if len(s.Wrong) == 0 {
		v.Add(node, "submission: no wrong submission; give at least one realistic mistake (wrong: name, file, replace, with, fails) that must lose marks")
	}
	for i, w := range s.Wrong {
		wn := source.Item(node, "wrong", i)
		text, ok := content[w.File]
		switch {
		case strings.TrimSpace(w.Name) == "":
			v.Add(wn, "submission: a wrong submission needs a name")
		case !ok:
			v.Add(wn, "submission: wrong %q changes file %q, which the submission does not have", w.Name, w.File)
		case w.Replace == "" || !strings.Contains(text, w.Replace):
			v.Add(wn, "submission: wrong %q replaces %q, which %s does not contain", w.Name, w.Replace, w.File)
		case w.Replace == w.With:
			v.Add(wn, "submission: wrong %q replaces %q with itself", w.Name, w.Replace)
		}
		if !slices.Contains(graded, w.Fails) {
			v.Add(wn, "submission: wrong %q fails %q; name the task graded from manifests it must fail (%s)", w.Name, w.Fails, strings.Join(graded, ", "))
		}
	}
}

// grading checks a task's grading mark: known, present in a lab that
// marks any task (CI relies on it to choose what to grade), and not
// "manifests" for a task that manifests cannot complete.
func (v *Validator) grading(t *Task, node *yaml.Node, name string) {
	gn := source.Field(node, "grading")
	switch t.Grading {
	case "":
		if v.gradingAll {
			v.Add(node, "%s has no 'grading'; say 'manifests' if applying manifests can complete it, or 'live' if it needs actions on the live cluster", name)
		}
		return
	case GradedFromManifests, GradedLive:
	default:
		v.Add(gn, "%s: grading %q: use 'manifests' (applying manifests completes it) or 'live' (it needs actions on the live cluster)", name, t.Grading)
		return
	}
	if t.Grading != GradedFromManifests {
		return
	}
	if t.Question != nil {
		v.Add(gn, "%s is a question, which needs the learner's answer; manifests cannot complete it: mark it 'grading: live'", name)
	}
	if slices.Contains(t.Features, ClusterWide) {
		v.Add(gn, "%s changes the whole cluster (feature cluster-wide), which manifests applied in the lab namespace cannot do: mark it 'grading: live'", name)
	}
	for _, c := range t.Checks {
		if l, ok := c.Spec.(LiveCheck); ok {
			v.Add(gn, "%s: its check %q needs %s, which manifests cannot do: mark it 'grading: live'", name, c.Name, l.LiveOnly())
		}
	}
}

// requires checks that every requirement a task states is verified by a
// check and broken by a mistake, so that no part of the goal goes
// ungraded (a Service that reaches nothing, a label other than the one
// asked for).
func (v *Validator) requires(t *Task, node *yaml.Node, name string) {
	if len(t.Requires) == 0 {
		if v.requireAll {
			v.Add(node, "%s has no 'requires'; list what its goal asks for, each with the checks that verify it", name)
		}
		return
	}
	checks := map[string]bool{}
	for _, c := range t.Checks {
		checks[c.Name] = true
	}
	broken := map[string]bool{}
	for i, m := range t.Mistakes {
		if m.Breaks != "" {
			broken[m.Breaks] = true
			if !slices.ContainsFunc(t.Requires, func(r Requirement) bool { return r.ID == m.Breaks }) {
				v.Add(source.Field(source.Item(node, "mistakes", i), "breaks"), "%s: mistake %q breaks %q, which is not one of the task's requirements", name, m.Name, m.Breaks)
			}
		}
	}
	seen := map[string]bool{}
	for i, r := range t.Requires {
		rn := source.Item(node, "requires", i)
		switch {
		case r.ID == "":
			v.Add(rn, "%s: a requirement needs an id", name)
			continue
		case seen[r.ID]:
			v.Add(rn, "%s: requirement %q is listed twice", name, r.ID)
		}
		seen[r.ID] = true
		if strings.TrimSpace(r.Says) == "" {
			v.Add(rn, "%s: requirement %q needs 'says', what the goal asks for in its words", name, r.ID)
		}
		if len(r.Checks) == 0 {
			v.Add(rn, "%s: requirement %q has no checks, so nothing verifies it; name the checks that do", name, r.ID)
		}
		for _, c := range r.Checks {
			if !checks[c] {
				v.Add(rn, "%s: requirement %q names check %q, which the task does not have", name, r.ID, c)
			}
		}
		if !broken[r.ID] {
			v.Add(rn, "%s: requirement %q has no mistake that breaks it; add one with 'breaks: %s'", name, r.ID, r.ID)
		}
	}
}

func (v *Validator) step(st Step, node *yaml.Node, task string) {
	switch {
	case st.Run != "" && st.Apply != "":
		v.Add(node, "%s: a step has either 'run' or 'apply', not both", task)
	case st.Run == "" && st.Apply == "":
		v.Add(node, "%s: a step needs 'run' (a shell command) or 'apply' (manifests)", task)
	case st.Apply != "":
		v.manifests(source.Field(node, "apply"), st.Apply, "apply", false)
	case !v.lazy && fixedNodePortFlags().MatchString(st.Run):
		v.Add(source.Field(node, "run"), "%s: the command sets a nodePort as a number; %s", task, fixedNodePortHelp)
	}
}

// manifests checks that text is YAML documents of kinds checks know,
// without a namespace (the lab's is used). A lazy parse leaves it to lint:
// the manifests are decoded again when they are applied, and checking them
// was a fifth of loading the course. fixedNodePortOK accepts a Service with
// a fixed nodePort, which only manifests that never run in a workshop (a CI
// submission) may have.
func (v *Validator) manifests(node *yaml.Node, text, what string, fixedNodePortOK bool) {
	if v.lazy {
		return
	}
	objs, err := DecodeManifests(text)
	if err != nil {
		v.Add(node, "%s: %v", what, err)
		return
	}
	for _, o := range objs {
		if _, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind()); err != nil {
			v.Add(node, "%s: %v", what, err)
		}
		if o.GetNamespace() != "" {
			v.Add(node, "%s: %s %s sets namespace %q; leave it out, the lab's namespace is used", what, o.GetKind(), o.GetName(), o.GetNamespace())
		}
		if o.GetName() == "" {
			v.Add(node, "%s: a %s has no metadata.name", what, o.GetKind())
		}
	}
	if fixedNodePortOK {
		return
	}
	for _, name := range fixedNodePorts(objs) {
		v.Add(node, "%s: Service %s gives a port a fixed nodePort; %s", what, name, fixedNodePortHelp)
	}
}

// setup checks the lab's setup manifests. A cluster-scoped object is
// shared by the whole cluster, so its name must contain the lab namespace
// placeholder: then two learners, or two labs, never ask for the same one.
func (v *Validator) setup(node *yaml.Node, text string) {
	v.manifests(node, text, "setup", false)
	if v.lazy {
		return
	}
	objs, err := DecodeManifests(text)
	if err != nil {
		return // reported by manifests
	}
	for _, o := range objs {
		k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind())
		if err != nil || k.Namespaced || o.GetName() == "" {
			continue
		}
		if key := o.GetAPIVersion() + "/" + o.GetKind(); !slices.Contains(setupClusterKinds, key) {
			v.Add(node, "setup: %s %s is cluster-scoped, and a setup may make only %s of those; leave it out or make it namespaced", o.GetKind(), o.GetName(), strings.Join(setupClusterKinds, ", "))
			continue
		}
		if !strings.Contains(o.GetName(), LabNamespacePlaceholder) {
			v.Add(node, "setup: %s %s is cluster-scoped, so its name must contain %s (for example %s-%s), which becomes the lab namespace: a fixed name would clash between learners and labs", o.GetKind(), o.GetName(), LabNamespacePlaceholder, LabNamespacePlaceholder, o.GetName())
		}
	}
}

// DecodeManifests splits YAML documents into objects.
func DecodeManifests(text string) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var out []*unstructured.Unstructured
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest is not valid YAML: %v", err)
		}
		if doc == nil {
			continue
		}
		// Round-trip through JSON so numbers and maps have the types the
		// Kubernetes libraries expect.
		raw, err := sigsyaml.Marshal(doc)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := sigsyaml.Unmarshal(raw, &u.Object); err != nil {
			return nil, err
		}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, errors.New("every manifest needs apiVersion and kind")
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no manifests found")
	}
	return out, nil
}

// Resource reports a selection of objects that names no known kind or
// selects them two ways.
func (v *Validator) Resource(r *Resource, node *yaml.Node, what string) {
	if r.Kind == "" || r.APIVersion == "" {
		v.Add(node, "%s needs apiVersion and kind", what)
		return
	}
	if _, err := kube.LookupKind(r.APIVersion, r.Kind); err != nil {
		v.Add(node, "%s: %v", what, err)
	}
	if r.Name != "" && r.LabelSelector != "" {
		v.Add(node, "%s: give name or labelSelector, not both", what)
	}
	if r.LabelSelector != "" {
		if _, err := labels.Parse(r.LabelSelector); err != nil {
			v.Add(source.Field(node, "labelSelector"), "%s: label selector %q: %v", what, r.LabelSelector, err)
		}
	}
}

func (v *Validator) question(q *Question, node *yaml.Node, task string) {
	if strings.TrimSpace(q.Prompt) == "" {
		v.Add(node, "%s: the question has no prompt", task)
	}
	v.Resource(&q.Resource, source.Field(node, "resource"), task+" question resource")
	if q.Answer == "" {
		v.Add(node, "%s: the question needs 'answer', a CEL expression over objects", task)
		return
	}
	v.Compile(source.Field(node, "answer"), task+": answer", q.Answer, nil, func(c *celexpr.Expr) { q.AnswerExpr = c })
}

// Deployment reports a workload check without its deployment's name.
func (v *Validator) Deployment(name string, node *yaml.Node, what string) {
	if name == "" {
		v.Add(node, "%s needs the deployment's name", what)
	}
}
