package clustercache

import (
	"context"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/internal/kube"
)

// Snapshot serves the objects one evaluation reads. Checks ask it rather
// than the API so that a lab's checks cost one request per resource and
// namespace, however many of them look at the same objects.
type Snapshot interface {
	// List returns every object of a resource in a namespace ("" for a
	// cluster-scoped resource).
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error)
}

// keyLister is a Snapshot that lists what a Key selects, narrowed by its
// field selector on the API server. The listing snapshot and the Cache
// are; a Snapshot that is not returns the whole resource.
type keyLister interface {
	ListKey(ctx context.Context, k Key) ([]unstructured.Unstructured, error)
}

// ListKey lists what k selects from snap, or more: see Key.FieldSelector.
func ListKey(ctx context.Context, snap Snapshot, k Key) ([]unstructured.Unstructured, error) {
	if kl, ok := snap.(keyLister); ok {
		return kl.ListKey(ctx, k)
	}
	return snap.List(ctx, k.Resource, k.Namespace)
}

// listingSnapshot lists through a dynamic client once per key and
// remembers the answer (or the error) for the rest of the evaluation.
type listingSnapshot struct {
	client   dynamic.Interface
	requests *atomic.Int64

	mu    sync.Mutex
	lists map[Key]*listing
}

// Key names one list: a resource in a namespace.
type Key struct {
	Resource schema.GroupVersionResource
	// Namespace is "" for cluster-scoped resources.
	Namespace string
	// FieldSelector, when set, lists only the objects it matches, which
	// the API server picks: a check that reads a sliver of a big resource
	// (the ReplicaSet events among a namespace's thousands of pod events)
	// neither transfers nor caches the rest. It saves memory and traffic
	// only: a Snapshot may return more (see ListKey), so the check still
	// picks what it reads.
	FieldSelector string
}

type listing struct {
	once  sync.Once
	items []unstructured.Unstructured
	err   error
}

// NewSnapshot returns a snapshot that lists through client, counting its
// requests in requests (which may be nil).
func NewSnapshot(client dynamic.Interface, requests *atomic.Int64) Snapshot {
	if requests == nil {
		requests = &atomic.Int64{}
	}
	return &listingSnapshot{client: client, requests: requests, lists: map[Key]*listing{}}
}

func (s *listingSnapshot) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error) {
	return s.ListKey(ctx, Key{Resource: gvr, Namespace: namespace})
}

func (s *listingSnapshot) ListKey(ctx context.Context, key Key) ([]unstructured.Unstructured, error) {
	s.mu.Lock()
	l, ok := s.lists[key]
	if !ok {
		l = &listing{}
		s.lists[key] = l
	}
	s.mu.Unlock()
	l.once.Do(func() {
		s.requests.Add(1)
		ctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		defer cancel()
		var list *unstructured.UnstructuredList
		opts := metav1.ListOptions{FieldSelector: key.FieldSelector}
		if key.Namespace == "" {
			list, l.err = s.client.Resource(key.Resource).List(ctx, opts)
		} else {
			list, l.err = s.client.Resource(key.Resource).Namespace(key.Namespace).List(ctx, opts)
		}
		if l.err == nil {
			l.items = list.Items
		}
	})
	return l.items, l.err
}
