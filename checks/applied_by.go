package checks

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("appliedBy", func() CheckKind { return &AppliedBy{} })
}

// AppliedBy holds when the object was last written by kubectl apply
// (client-side) or server-side apply, not changed imperatively since.
type AppliedBy labfile.Resource

func (c *AppliedBy) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Resource((*labfile.Resource)(c), node, what)
	if c.Name == "" {
		v.Add(node, "%s: appliedBy needs the object's name", what)
	}
}

func (c *AppliedBy) reads(ns string) []clustercache.Key {
	return resourceReads(labfile.Resource(*c), ns)
}

// readsManagedFields: who wrote the object is told by its managedFields.
func (c *AppliedBy) readsManagedFields(ns string) []clustercache.Key {
	return c.reads(ns)
}

func (c *AppliedBy) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return appliedBy(ctx, snap, ns, labfile.Resource(*c))
}

// clientSideApplyManager is the field manager 'kubectl apply' records.
const clientSideApplyManager = "kubectl-client-side-apply"

// write is one managedFields entry, reduced to what decides who changed
// an object last.
type write struct {
	manager     string
	operation   metav1.ManagedFieldsOperationType
	subresource string
	time        time.Time
	fields      *metav1.FieldsV1
}

func writesOf(obj metav1.Object) []write {
	var out []write
	for _, e := range obj.GetManagedFields() {
		w := write{manager: e.Manager, operation: e.Operation, subresource: e.Subresource, fields: e.FieldsV1}
		if e.Time != nil {
			w.time = e.Time.Time
		}
		out = append(out, w)
	}
	return out
}

// declarative is a write by kubectl apply, client- or server-side.
func (w write) declarative() bool {
	return w.operation == metav1.ManagedFieldsOperationApply || w.manager == clientSideApplyManager
}

// imperative is a write by a person that bypassed the applied file.
// Controllers keep status and bookkeeping up to date and say nothing about
// how the learner worked; 'kubectl scale' writes the scale subresource,
// which changes the spec, so it counts.
func (w write) imperative() bool {
	if w.declarative() || w.subresource == "status" {
		return false
	}
	switch w.manager {
	case "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl-last-applied":
		return false
	}
	return true
}

// command names the tool behind a write the way the learner typed it.
func (w write) command() string {
	switch {
	case w.operation == metav1.ManagedFieldsOperationApply && w.manager == "kubectl":
		return "kubectl apply --server-side"
	case w.operation == metav1.ManagedFieldsOperationApply:
		return "server-side apply by " + w.manager
	case w.manager == clientSideApplyManager:
		return "kubectl apply"
	case w.manager == "kubectl" && w.subresource == "scale":
		return "kubectl scale"
	case w.manager == "kubectl":
		// kubectl commands without a field manager of their own, such as
		// 'rollout undo', are recorded under the user agent.
		return "a kubectl command"
	case strings.HasPrefix(w.manager, "kubectl-"):
		return "kubectl " + strings.TrimPrefix(w.manager, "kubectl-")
	}
	return w.manager
}

func quoted(cmd string) string {
	if strings.HasPrefix(cmd, "kubectl ") {
		return "'" + cmd + "'"
	}
	return cmd
}

// appliedBy holds when the object was last written by kubectl apply
// (client-side) or server-side apply, judged from metadata.managedFields.
func appliedBy(ctx context.Context, snap clustercache.Snapshot, ns string, res labfile.Resource) Outcome {
	k, err := kube.LookupKind(res.APIVersion, res.Kind)
	if err != nil {
		return Outcome{Status: Error, Messages: []string{err.Error()}}
	}
	if res.Name == "" {
		return Outcome{Status: Error, Messages: []string{"appliedBy needs the name of an object"}}
	}
	listNS := ""
	if k.Namespaced {
		listNS = ns
		if res.Namespace != "" {
			listNS = res.Namespace
		}
	}
	kind := strings.ToLower(res.Kind)
	items, err := snap.List(ctx, k.GVR, listNS)
	if err != nil {
		return outcomeFromError(err, kind+"s"+inNamespace(listNS))
	}
	var obj map[string]any
	var meta metav1.ObjectMeta
	for i := range items {
		if items[i].GetName() == res.Name {
			obj = items[i].Object
			m, _ := obj["metadata"].(map[string]any)
			if err := fromUnstructured(m, &meta); err != nil {
				return Outcome{Status: Error, Messages: []string{fmt.Sprintf("reading the metadata of %s %s: %v", kind, res.Name, err)}}
			}
			break
		}
	}
	if obj == nil {
		return missing("%s %s%s not found", kind, res.Name, inNamespace(listNS))
	}
	what := kind + " " + res.Name

	writes := writesOf(&meta)
	if len(writes) == 0 {
		return failed(fmt.Sprintf("%s has no record of how it was written (metadata.managedFields is empty): apply it with kubectl apply -f", what))
	}
	var applied *write
	for i := range writes {
		if writes[i].declarative() && (applied == nil || !writes[i].time.Before(applied.time)) {
			applied = &writes[i]
		}
	}
	var last *write
	for i := range writes {
		if writes[i].imperative() && (last == nil || !writes[i].time.Before(last.time)) {
			last = &writes[i]
		}
	}
	if applied == nil {
		by := "an imperative command"
		if last != nil {
			by = quoted(last.command())
		}
		return failed(fmt.Sprintf("%s was written only imperatively (by %s), never with kubectl apply: put it in a file and run kubectl apply -f FILE", what, by))
	}

	// Times have one-second resolution, so a change in the same second as
	// the apply is ordered by content: if the imperative writer owns a
	// field whose live value is no longer what was last applied, it wrote
	// after the apply.
	lastApplied := map[string]any{}
	if s := meta.Annotations[kube.LastAppliedAnnotation]; s != "" && applied.manager == clientSideApplyManager {
		_ = json.Unmarshal([]byte(s), &lastApplied)
	}
	// A field a server-side apply shares with an imperative writer holds
	// the value the file sets: a later write of another value would have
	// taken the field from the apply, and an apply of another value would
	// have taken it (or conflicted). So 'kubectl scale', then the same
	// count applied server-side, is the file and the cluster agreeing.
	sharedWithApply := map[string]bool{}
	for _, p := range leafPaths(applied.fields) {
		sharedWithApply[describePath(p)] = true
	}
	var culprit *write
	var changed []string
	for i := range writes {
		w := &writes[i]
		if !w.imperative() {
			continue
		}
		var paths []string
		switch {
		case w.time.IsZero() && len(lastApplied) == 0:
			// The API server records no time for a scale subresource
			// write by a manager new to the object (its scale handler
			// copies times from parent entries, which it has none of), so
			// the entry cannot be ordered. After a server-side apply, an
			// imperative owner of spec fields is one the apply did not
			// take them back from: a change since.
			paths = slices.DeleteFunc(describePaths(leafPaths(w.fields)), func(p string) bool { return sharedWithApply[p] })
			if len(paths) == 0 {
				continue
			}
		case w.time.After(applied.time):
			paths = describePaths(leafPaths(w.fields))
		case w.time.IsZero() || w.time.Equal(applied.time):
			paths = divergedPaths(w.fields, lastApplied, obj)
			if !w.time.IsZero() && !createsObjects(w.manager) {
				// A field the apply never set, owned by a command that
				// changes objects, was added by that command: before the
				// apply or after it, in the same second, the object is
				// not what the file says.
				paths = append(paths, addedPaths(w.fields, lastApplied)...)
			}
			if len(paths) == 0 {
				continue
			}
		default:
			continue
		}
		if culprit == nil || w.time.After(culprit.time) {
			culprit, changed = w, paths
		}
	}
	if culprit == nil {
		return passed()
	}
	again := "kubectl apply -f"
	if applied.operation == metav1.ManagedFieldsOperationApply {
		again = "kubectl apply --server-side -f"
	}
	fix := fmt.Sprintf("make the same change in your file and run %s again", again)
	switch {
	case culprit.subresource == "scale":
		// Neither "change the file" nor "leave it": which is the
		// learner's choice (a lab may want the file's count back, #22
		// item 10). Say what an apply does, with the count the file said.
		fix = fmt.Sprintf("run %s again, which sets replicas to what your file says", again)
		spec, _ := lastApplied["spec"].(map[string]any)
		if n, ok := spec["replicas"].(float64); ok {
			fix = fmt.Sprintf("run %s again, which sets replicas to what your file says (%d when last applied)", again, int(n))
		}
	case len(changed) > 0:
		fix = fmt.Sprintf("make the same change (%s) in your file and run %s again", nameList(changed), again)
	}
	return failed(fmt.Sprintf("%s was last changed by %s (imperative), after %s: %s", what, quoted(culprit.command()), applied.command(), fix))
}

// leafPaths lists the fields a managedFields entry owns, each as its
// path of raw keys ("f:spec", "f:replicas").
func leafPaths(f *metav1.FieldsV1) [][]string {
	if f == nil {
		return nil
	}
	var tree map[string]any
	if err := json.Unmarshal(f.GetRawBytes(), &tree); err != nil {
		return nil
	}
	var out [][]string
	var walk func(node map[string]any, path []string)
	walk = func(node map[string]any, path []string) {
		keys := make([]string, 0, len(node))
		for k := range node {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "." {
				continue
			}
			p := append(slices.Clip(path), k)
			child, _ := node[k].(map[string]any)
			if len(child) == 0 || (len(child) == 1 && child["."] != nil) {
				out = append(out, p)
				continue
			}
			walk(child, p)
		}
	}
	walk(tree, nil)
	return out
}

// describePaths renders owned fields as a learner reads them in YAML,
// leaving out bookkeeping metadata nobody writes by hand.
func describePaths(paths [][]string) []string {
	var out []string
	for _, p := range paths {
		if len(p) > 0 && p[0] == "f:metadata" && len(p) > 1 && p[1] != "f:labels" && p[1] != "f:annotations" {
			continue
		}
		if len(p) > 2 && p[0] == "f:metadata" && p[2] == "f:"+kube.RevisionAnnotation {
			continue
		}
		out = append(out, describePath(p))
	}
	return out
}

func describePath(p []string) string {
	var b strings.Builder
	for _, seg := range p {
		switch {
		case strings.HasPrefix(seg, "f:"):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strings.TrimPrefix(seg, "f:"))
		case strings.HasPrefix(seg, "k:"):
			var key map[string]any
			if json.Unmarshal([]byte(strings.TrimPrefix(seg, "k:")), &key) == nil {
				parts := make([]string, 0, len(key))
				for k, v := range key {
					parts = append(parts, fmt.Sprintf("%s=%v", k, v))
				}
				sort.Strings(parts)
				b.WriteString("[" + strings.Join(parts, ",") + "]")
			}
		case strings.HasPrefix(seg, "i:"):
			b.WriteString("[" + strings.TrimPrefix(seg, "i:") + "]")
		case strings.HasPrefix(seg, "v:"):
			b.WriteString("[" + strings.TrimPrefix(seg, "v:") + "]")
		}
	}
	return b.String()
}

// divergedPaths returns the fields f owns whose live value differs from
// the last-applied configuration, which only a write after the apply can
// have caused.
func divergedPaths(f *metav1.FieldsV1, lastApplied, live map[string]any) []string {
	if len(lastApplied) == 0 {
		return nil
	}
	var out []string
	for _, p := range leafPaths(f) {
		want, ok := lookupPath(lastApplied, p)
		if !ok || !scalarish(want) {
			// Nested values come back defaulted, so only plain values
			// compare fairly.
			continue
		}
		got, ok := lookupPath(live, p)
		if !ok || !sameJSON(want, got) {
			out = append(out, describePath(p))
		}
	}
	return out
}

func lookupPath(obj any, path []string) (any, bool) {
	cur := obj
	for _, seg := range path {
		switch {
		case strings.HasPrefix(seg, "f:"):
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[strings.TrimPrefix(seg, "f:")]; !ok {
				return nil, false
			}
		case strings.HasPrefix(seg, "k:"):
			list, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			var key map[string]any
			if json.Unmarshal([]byte(strings.TrimPrefix(seg, "k:")), &key) != nil {
				return nil, false
			}
			found := false
			for _, el := range list {
				m, ok := el.(map[string]any)
				if !ok {
					continue
				}
				match := true
				for k, v := range key {
					if !sameJSON(m[k], v) {
						match = false
						break
					}
				}
				if match {
					cur, found = m, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return cur, true
}

func scalarish(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, el := range v {
			switch el.(type) {
			case map[string]any, []any:
				return false
			}
		}
	}
	return true
}

// sameJSON compares values as JSON so that 3 parsed from an annotation
// (float64) equals 3 in an object (int64).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// fieldWriters are the managedFields entries of obj that own the field at
// path (raw keys, "f:metadata", "f:annotations", ...): who last set it.
func fieldWriters(obj metav1.Object, path ...string) []write {
	var out []write
	for _, w := range writesOf(obj) {
		for _, p := range leafPaths(w.fields) {
			if slices.Equal(p, path) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// createsObjects are the kubectl commands that make an object; what they
// wrote in the same second as an apply came before it.
func createsObjects(manager string) bool {
	switch manager {
	case "kubectl-create", "kubectl-run", "kubectl-expose":
		return true
	}
	return false
}

// addedPaths lists the fields f owns that a client-side apply's
// last-applied configuration does not have.
func addedPaths(f *metav1.FieldsV1, lastApplied map[string]any) []string {
	if len(lastApplied) == 0 {
		return nil
	}
	var added [][]string
	for _, p := range leafPaths(f) {
		if _, ok := lookupPath(lastApplied, p); !ok {
			added = append(added, p)
		}
	}
	return describePaths(added)
}
