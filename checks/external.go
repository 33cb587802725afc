package checks

import (
	"context"
)

// Needs lists what evaluating the tasks (all when ids is empty) of lab in
// namespace ns reads. Workshops use it to grant learners read access and
// to start one informer per resource for a whole class.
func (l *Lab) Needs(ns string, ids []string) []Key {
	return needs(ns, selectTasks(l, ids))
}

// EvaluateFrom grades lab from snap instead of listing through the API:
// a workshop's informer caches serve every learner from one watch per
// resource.
func (e *Engine) EvaluateFrom(ctx context.Context, lab *Lab, opts Options, snap Snapshot) LabResult {
	opts.snapshot = snap
	return e.Evaluate(ctx, lab, opts)
}
