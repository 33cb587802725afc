package checks

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labfile"
)

// debounce gathers bursts of changes (a rollout touches many objects at
// once) into one evaluation.
const debounce = 50 * time.Millisecond

// Watch evaluates the lab, then again whenever an object its checks read
// changes, and calls onResult with every result that differs from the last
// one. It returns when ctx ends, or with an error when the objects cannot
// be read at all. opts.Cache, when set, is shared with other views of the
// lab; otherwise Watch makes its own and closes it on return.
func (e *Engine) Watch(ctx context.Context, lab *labfile.Lab, opts Options, onResult func(LabResult)) error {
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	c := opts.Cache
	if c == nil {
		c = clustercache.NewCache(e.client, &e.requests)
		defer c.Close()
	}
	graded := opts
	graded.snapshot = c
	tasks := selectTasks(lab, opts.Tasks)
	if err := c.KeepManagedFields(managedFieldsNeeds(ns, tasks)); err != nil {
		return err
	}
	var last *LabResult
	err := c.Follow(ctx, needs(ns, tasks), debounce, func() error {
		res := e.Evaluate(ctx, lab, graded)
		if last == nil || !sameOutcome(*last, res) {
			last = &res
			onResult(res)
		}
		return nil
	})
	var syncErr *clustercache.SyncError
	if errors.As(err, &syncErr) {
		// Report what a plain evaluation says (unreachable, forbidden...).
		opts.Cache = nil
		onResult(e.Evaluate(ctx, lab, opts))
	}
	return err
}

// sameOutcome compares what a learner sees, ignoring timing.
func sameOutcome(a, b LabResult) bool {
	return reflect.DeepEqual(a.Tasks, b.Tasks)
}
