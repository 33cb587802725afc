package checks

import (
	"context"
	"time"

	"github.com/k8slab/k8slab/labfile"
)

// WatchThrottled is Watch as it was before clustercache.FollowPromptly
// coalesced: a change is evaluated at once only if 50 ms have passed
// since the last evaluation, and otherwise once they have. It is kept
// here, and only here, so that BenchmarkWatchReaction can time both
// followers from the same writes in one process, on one loaded machine.
func (e *Engine) WatchThrottled(ctx context.Context, lab *labfile.Lab, opts Options, onResult func(LabResult)) error {
	const throttle = 50 * time.Millisecond
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	c := opts.Cache
	graded := opts
	graded.snapshot = c
	tasks := selectTasks(lab, opts.Tasks)
	if err := c.KeepManagedFields(managedFieldsNeeds(ns, tasks)); err != nil {
		return err
	}
	keys := needs(ns, tasks)
	changed := make(chan struct{}, 1)
	stop, err := c.Watch(keys, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer stop()
	if err := c.WaitForSync(ctx, keys); err != nil {
		return err
	}
	var last *LabResult
	for {
		res := e.Evaluate(ctx, lab, graded)
		if last == nil || !sameOutcome(*last, res) {
			last = &res
			onResult(res)
		}
		read := time.Now()
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		if wait := throttle - time.Since(read); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
}
