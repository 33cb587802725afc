package checks

import (
	"context"
	"errors"
	"reflect"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labfile"
)

// Watch evaluates the lab, then again whenever an object its checks read
// changes (at once; the changes made while it evaluates are evaluated
// once, right after: clustercache.FollowPromptly), and calls onResult
// with every result that differs from the last one. It returns when ctx ends, or with an error when the objects cannot
// be read at all. It reads through opts.Cache, which the caller makes
// (clustercache.NewForConfig: the cache owns how it watches) and may
// share with other views of the lab.
func (e *Engine) Watch(ctx context.Context, lab *labfile.Lab, opts Options, onResult func(LabResult)) error {
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	c := opts.Cache
	if c == nil {
		return errors.New("internal: Engine.Watch needs Options.Cache; make one with clustercache.NewForConfig")
	}
	graded := opts
	graded.snapshot = c
	tasks := selectTasks(lab, opts.Tasks)
	if err := c.KeepManagedFields(managedFieldsNeeds(ns, tasks)); err != nil {
		return err
	}
	var last *LabResult
	err := c.FollowPromptly(ctx, needs(ns, tasks), func() error {
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
