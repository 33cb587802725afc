package checks

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// informerSnapshot serves lists from informer caches: after the initial
// list and watch, evaluating costs no API requests at all.
type informerSnapshot struct {
	informers map[snapshotKey]cache.SharedIndexInformer
}

func (s *informerSnapshot) List(_ context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error) {
	inf, ok := s.informers[snapshotKey{gvr, namespace}]
	if !ok {
		return nil, fmt.Errorf("internal: %s in %q is not watched", gvr.Resource, namespace)
	}
	items := inf.GetStore().List()
	out := make([]unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, *u)
		}
	}
	return out, nil
}

// debounce gathers bursts of changes (a rollout touches many objects at
// once) into one evaluation.
const debounce = 50 * time.Millisecond

// Watch evaluates the lab, then again whenever an object its checks read
// changes, and calls onResult with every result that differs from the last
// one. It returns when ctx ends.
func (e *Engine) Watch(ctx context.Context, lab *Lab, opts Options, onResult func(LabResult)) error {
	ns := lab.Namespace
	if opts.Namespace != "" {
		ns = opts.Namespace
	}
	keys := needs(ns, selectTasks(lab, opts.Tasks))
	factories := map[string]dynamicinformer.DynamicSharedInformerFactory{}
	snap := &informerSnapshot{informers: map[snapshotKey]cache.SharedIndexInformer{}}
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	for _, k := range keys {
		f, ok := factories[k.namespace]
		if !ok {
			f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(e.client, 0, k.namespace, nil)
			factories[k.namespace] = f
		}
		inf := f.ForResource(k.gvr).Informer()
		if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
		snap.informers[k] = inf
		e.requests.Add(2) // the informer's list and watch
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	defer func() {
		for _, f := range factories {
			f.Shutdown()
		}
	}()
	var synced []cache.InformerSynced
	for _, inf := range snap.informers {
		synced = append(synced, inf.HasSynced)
	}
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ok := cache.WaitForCacheSync(syncCtx.Done(), synced...)
	cancel()
	if !ok {
		if ctx.Err() != nil {
			return nil
		}
		// Report what a plain evaluation says (unreachable, forbidden...).
		onResult(e.Evaluate(ctx, lab, opts))
		return fmt.Errorf("could not start watching the lab's objects")
	}

	opts.snapshot = snap
	var last *LabResult
	var mu sync.Mutex
	evaluate := func() {
		mu.Lock()
		defer mu.Unlock()
		res := e.Evaluate(ctx, lab, opts)
		if last == nil || !sameOutcome(*last, res) {
			last = &res
			onResult(res)
		}
	}
	evaluate()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(debounce):
			}
			evaluate()
		}
	}
}

// sameOutcome compares what a learner sees, ignoring timing.
func sameOutcome(a, b LabResult) bool {
	return reflect.DeepEqual(a.Tasks, b.Tasks)
}
