// Package clustercache keeps what k8slab's views of a lab read from the
// cluster in shared informers, and lists once per evaluation when there is
// no cache: the one place that reads objects for grading and the map.
package clustercache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/k8slab/k8slab/internal/kube"
)

// Cache keeps what a lab's views read in informers, shared: the checks and
// the cluster map of one lab ask the same cache, so each resource is
// listed and watched once, and evaluating costs no API request. It serves
// as a Snapshot.
type Cache struct {
	client   dynamic.Interface
	requests *atomic.Int64

	mu      sync.Mutex
	stop    chan struct{}
	closed  bool
	running sync.WaitGroup
	entries map[Key]*cacheEntry
	// pending holds an informer that will replace entries' once it has
	// synced (see KeepManagedFields).
	pending   map[Key]*cacheEntry
	listeners map[int]*listener
	nextID    int
	// keepManaged lists the keys whose objects keep metadata.managedFields.
	keepManaged map[Key]bool
}

type cacheEntry struct {
	inf cache.SharedIndexInformer
	// lastErr is the informer's latest list or watch failure, cleared by
	// the next event; it explains a sync that does not finish.
	lastErr atomic.Pointer[error]
	// managedFields says whether the informer keeps managedFields.
	managedFields bool
	// ctx ends with the informer; stop ends this informer alone.
	ctx  context.Context
	stop context.CancelFunc
}

type listener struct {
	keys   map[Key]bool
	notify func()
	// observe, when set, is called with each object as it arrives.
	observe func(obj *unstructured.Unstructured, deleted bool)
}

// NewForConfig returns an empty cache that reads through a client of its
// own, made from cfg by WatchClient; requests, when not nil, counts its API
// requests (one list and one watch per resource). Every cache outside
// tests is made here, so that none watches through a client with a
// timeout.
func NewForConfig(cfg *rest.Config, requests *atomic.Int64) (*Cache, error) {
	client, err := WatchClient(cfg)
	if err != nil {
		return nil, err
	}
	return NewCache(client, requests), nil
}

// WatchClient returns a client for watches: a copy of cfg without its
// client-side timeout. That timeout bounds a whole request, and a watch
// is one long request: with it, every watch would be cut (and its
// resource listed again) each few seconds. The informer asks the server to
// end each watch after some minutes (timeoutSeconds) instead, and then
// resumes it.
func WatchClient(cfg *rest.Config) (dynamic.Interface, error) {
	wcfg := rest.CopyConfig(cfg)
	wcfg.Timeout = 0
	return dynamic.NewForConfig(wcfg)
}

// NewCache returns an empty cache reading through client, which must have
// no client-side timeout (see WatchClient); tests give it a fake client.
func NewCache(client dynamic.Interface, requests *atomic.Int64) *Cache {
	if requests == nil {
		requests = &atomic.Int64{}
	}
	return &Cache{
		client: client, requests: requests, stop: make(chan struct{}),
		entries: map[Key]*cacheEntry{}, pending: map[Key]*cacheEntry{}, listeners: map[int]*listener{}, keepManaged: map[Key]bool{},
	}
}

// KeepManagedFields makes the cache keep metadata.managedFields on the
// objects of keys, which it otherwise drops: a pod's managedFields are a
// third of it once decoded, and of all checks only those that ask who
// wrote an object read them. It is called before the keys are watched; a
// key already watched without them is read afresh, and the informer that
// has them replaces the old one only once it has read everything: until
// then the old one serves (the map goes on), and WaitForSync waits for
// the new one (grading does not judge objects stripped of what it reads).
func (c *Cache) KeepManagedFields(keys []Key) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("internal: the lab's cache is closed")
	}
	for _, k := range keys {
		if c.keepManaged[k] {
			continue
		}
		c.keepManaged[k] = true
		old, ok := c.entries[k]
		if !ok || old.managedFields {
			continue
		}
		next, err := c.start(k)
		if err != nil {
			return err
		}
		c.pending[k] = next
		c.running.Add(1)
		go c.swapWhenSynced(k, next)
	}
	return nil
}

// swapWhenSynced puts next in place once it has synced (unless
// WaitForSync did first), then tells k's listeners; it gives up when the
// cache closes.
func (c *Cache) swapWhenSynced(k Key, next *cacheEntry) {
	defer c.running.Done()
	err := wait.PollUntilContextCancel(next.ctx, 20*time.Millisecond, true, func(context.Context) (bool, error) {
		return next.inf.HasSynced(), nil
	})
	if err != nil {
		return // closed
	}
	c.mu.Lock()
	swapped := c.swapIfSynced(k)
	c.mu.Unlock()
	if swapped {
		c.changed(k)
	}
}

// swapIfSynced puts k's pending informer in place of the current one if
// it has synced, and stops the old one; c.mu must be held.
func (c *Cache) swapIfSynced(k Key) bool {
	next, ok := c.pending[k]
	if !ok || !next.inf.HasSynced() {
		return false
	}
	if old, ok := c.entries[k]; ok {
		old.stop()
	}
	c.entries[k] = next
	delete(c.pending, k)
	return true
}

// dropManagedFields is the informers' transform for objects whose
// managedFields nobody reads. It runs on each object as it arrives, so
// the fields are garbage before the next one is decoded.
func dropManagedFields(obj any) (any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if meta, ok := u.Object["metadata"].(map[string]any); ok {
			delete(meta, "managedFields")
		}
	}
	return obj, nil
}

// Watch starts informers for keys that have none yet (idempotent) and
// calls notify after any change to one of them, until the returned
// function is called. notify must not block.
func (c *Cache) Watch(keys []Key, notify func()) (stop func(), err error) {
	return c.listen(keys, notify, nil)
}

func (c *Cache) listen(keys []Key, notify func(), observe func(*unstructured.Unstructured, bool)) (stop func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("internal: the lab's cache is closed")
	}
	l := &listener{keys: map[Key]bool{}, notify: notify, observe: observe}
	for _, k := range keys {
		if err := c.ensure(k); err != nil {
			return nil, err
		}
		l.keys[k] = true
	}
	id := c.nextID
	c.nextID++
	c.listeners[id] = l
	return func() {
		c.mu.Lock()
		delete(c.listeners, id)
		c.mu.Unlock()
	}, nil
}

// Observe starts informers for keys that have none yet (idempotent) and
// calls fn with each object of theirs as the watch delivers it (deleted:
// its last state), before any listener of Watch hears of that change,
// until the returned function is called. Objects already read are not
// delivered again. What the cache holds is one state per object; this is
// every state it passes through, which a timeline needs to tell at which
// resourceVersion something changed. fn must not block or keep obj.
func (c *Cache) Observe(keys []Key, fn func(obj *unstructured.Unstructured, deleted bool)) (stop func(), err error) {
	return c.listen(keys, func() {}, fn)
}

// ensure must be called with c.mu held.
func (c *Cache) ensure(k Key) error {
	if _, ok := c.entries[k]; ok {
		return nil
	}
	e, err := c.start(k)
	if err != nil {
		return err
	}
	c.entries[k] = e
	return nil
}

// start starts an informer for k; c.mu must be held.
func (c *Cache) start(k Key) (*cacheEntry, error) {
	e := &cacheEntry{inf: newInformer(c.client, k), managedFields: c.keepManaged[k]}
	if !e.managedFields {
		if err := e.inf.SetTransform(dropManagedFields); err != nil {
			return nil, err
		}
	}
	err := e.inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		e.lastErr.Store(&err)
	})
	if err != nil {
		return nil, err
	}
	changed := func(obj any, deleted bool) {
		e.lastErr.Store(nil)
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		u, _ := obj.(*unstructured.Unstructured)
		c.changedObject(k, u, deleted)
	}
	ctx, stop := context.WithCancel(wait.ContextForChannel(c.stop))
	e.ctx, e.stop = ctx, stop
	if _, err := e.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { changed(obj, false) },
		UpdateFunc: func(_, obj any) { changed(obj, false) },
		DeleteFunc: func(obj any) { changed(obj, true) },
	}); err != nil {
		return nil, err
	}
	c.requests.Add(2) // the informer's list and watch
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		e.inf.RunWithContext(ctx)
	}()
	return e, nil
}

// newInformer watches one resource in one namespace for the Cache.
func newInformer(client dynamic.Interface, k Key) cache.SharedIndexInformer {
	return NewInformer(client, k, "", nil)
}

// NewInformer watches one resource in one namespace (all namespaces when
// k.Namespace is ""), only the objects labelSelector and k.FieldSelector
// match ("" for all), keeping indexers. It is what client-go's dynamicinformer builds,
// without that package, which links every typed client and informer of
// client-go (and their init) into the binary.
func NewInformer(client dynamic.Interface, k Key, labelSelector string, indexers cache.Indexers) cache.SharedIndexInformer {
	ri := client.Resource(k.Resource).Namespace(k.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector, opts.FieldSelector = labelSelector, k.FieldSelector
			return ri.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector, opts.FieldSelector = labelSelector, k.FieldSelector
			return ri.Watch(ctx, opts)
		},
	}
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client),
		&unstructured.Unstructured{}, cache.SharedIndexInformerOptions{Indexers: indexers, ObjectDescription: k.Resource.String()})
}

func (c *Cache) changed(k Key) {
	c.changedObject(k, nil, false)
}

// changedObject tells k's listeners of a change to obj (nil: of some
// change); observers first, so that a listener told of a change can
// count on its observer having seen it.
func (c *Cache) changedObject(k Key, obj *unstructured.Unstructured, deleted bool) {
	c.mu.Lock()
	var fns []func()
	var obs []func(*unstructured.Unstructured, bool)
	for _, l := range c.listeners {
		if l.keys[k] {
			fns = append(fns, l.notify)
			if l.observe != nil && obj != nil {
				obs = append(obs, l.observe)
			}
		}
	}
	c.mu.Unlock()
	for _, fn := range obs {
		fn(obj, deleted)
	}
	for _, fn := range fns {
		fn()
	}
}

// SyncError says which resources a cache could not read, and why.
type SyncError struct {
	// Failures maps "pods in lab-x" to the last error reading them.
	Failures map[string]error
}

func (e *SyncError) Error() string {
	var parts []string
	for what, err := range e.Failures {
		if err == nil {
			parts = append(parts, what+": no answer yet")
			continue
		}
		parts = append(parts, what+": "+kube.Reason(err))
	}
	slices.Sort(parts)
	return "could not read " + strings.Join(parts, "; ")
}

// Unwrap lets errors.Is and kube.Classify see the first failure.
func (e *SyncError) Unwrap() []error {
	var errs []error
	for _, err := range e.Failures {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// WaitForSync waits until keys are read in full, or ctx ends. It gives up
// early when the cluster refuses (forbidden, unauthorized): retrying
// would not help, and the learner should hear why at once.
func (c *Cache) WaitForSync(ctx context.Context, keys []Key) error {
	var failures map[string]error
	var refused error
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(context.Context) (bool, error) {
		failures = map[string]error{}
		final := false
		var swapped []Key
		c.mu.Lock()
		for _, k := range keys {
			e, ok := c.entries[k]
			if !ok {
				c.mu.Unlock()
				refused = fmt.Errorf("internal: %s is not watched", describeKey(k))
				return false, refused
			}
			if c.swapIfSynced(k) {
				swapped = append(swapped, k)
				e = c.entries[k]
			}
			if next, ok := c.pending[k]; ok {
				// Not read until the informer that replaces e is.
				e = next
			} else if e.inf.HasSynced() {
				continue
			}
			var err error
			if p := e.lastErr.Load(); p != nil {
				err = *p
				switch kube.Classify(err) {
				case kube.Forbidden, kube.Unauthorized:
					final = true
				}
			}
			failures[describeKey(k)] = err
		}
		c.mu.Unlock()
		for _, k := range swapped {
			c.changed(k)
		}
		if len(failures) == 0 {
			return true, nil
		}
		if final {
			// Name what was refused, not what merely had no answer yet.
			for what, err := range failures {
				if err == nil {
					delete(failures, what)
				}
			}
			refused = &SyncError{Failures: failures}
			return false, refused
		}
		return false, nil
	})
	switch {
	case err == nil:
		return nil
	case refused != nil:
		return refused
	}
	return &SyncError{Failures: failures}
}

func describeKey(k Key) string {
	if k.Namespace == "" {
		return k.Resource.Resource
	}
	return k.Resource.Resource + " in namespace " + k.Namespace
}

// List serves a synced resource from its informer.
func (c *Cache) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error) {
	return c.ListKey(ctx, Key{Resource: gvr, Namespace: namespace})
}

// ListKey serves a synced key from its informer.
func (c *Cache) ListKey(_ context.Context, k Key) ([]unstructured.Unstructured, error) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("internal: %s is not watched", describeKey(k))
	}
	if !e.inf.HasSynced() {
		if p := e.lastErr.Load(); p != nil {
			return nil, *p
		}
		return nil, fmt.Errorf("%s: not read yet", describeKey(k))
	}
	items := e.inf.GetStore().List()
	out := make([]unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, *u)
		}
	}
	return out, nil
}

// Close stops every informer and waits for them to end.
func (c *Cache) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.running.Wait()
}
