package checks

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Need is one list an evaluation reads: a resource in a namespace ("" for
// a cluster-scoped resource).
type Need struct {
	GVR       schema.GroupVersionResource
	Namespace string
}

// Needs lists what evaluating the tasks (all when ids is empty) of lab in
// namespace ns reads. Workshops use it to grant learners read access and
// to start one informer per resource for a whole class.
func (l *Lab) Needs(ns string, ids []string) []Need {
	keys := needs(ns, selectTasks(l, ids))
	out := make([]Need, len(keys))
	for i, k := range keys {
		out[i] = Need{GVR: k.gvr, Namespace: k.namespace}
	}
	return out
}

// EvaluateFrom grades lab from snap instead of listing through the API:
// a workshop's informer caches serve every learner from one watch per
// resource.
func (e *Engine) EvaluateFrom(ctx context.Context, lab *Lab, opts Options, snap Snapshot) LabResult {
	opts.snapshot = snap
	return e.Evaluate(ctx, lab, opts)
}
