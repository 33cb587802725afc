package checks

import (
	"context"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labfile"
)

// Needs lists what evaluating the tasks (all when ids is empty) of lab in
// namespace ns reads. Workshops use it to grant learners read access and
// to start one informer per resource for a whole class.
func Needs(lab *labfile.Lab, ns string, ids []string) []clustercache.Key {
	return needs(ns, selectTasks(lab, ids))
}

// EvaluateFrom grades lab from snap instead of listing through the API:
// a workshop's informer caches serve every learner from one watch per
// resource.
func (e *Engine) EvaluateFrom(ctx context.Context, lab *labfile.Lab, opts Options, snap clustercache.Snapshot) LabResult {
	opts.snapshot = snap
	return e.Evaluate(ctx, lab, opts)
}
