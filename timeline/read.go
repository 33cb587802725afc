package timeline

import (
	"context"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
)

// Keys are what a timeline of namespace ns reads: the objects the lab
// screen's map already watches, and the namespace's events.
func Keys(ns string) []clustercache.Key {
	var keys []clustercache.Key
	for _, f := range (&State{}).fields() {
		keys = append(keys, clustercache.Key{Resource: f.gvr, Namespace: ns})
	}
	return keys
}

// stateField is a resource a timeline reads and the field of a State
// that holds it.
type stateField struct {
	gvr   schema.GroupVersionResource
	items *[]unstructured.Unstructured
}

// fields are s's resources, in the order a timeline reads them.
func (s *State) fields() []stateField {
	return []stateField{
		{kube.DeploymentsGVR, &s.Deployments},
		{kube.ReplicaSetsGVR, &s.ReplicaSets},
		{kube.PodsGVR, &s.Pods},
		{kube.ServicesGVR, &s.Services},
		{kube.EndpointSlicesGVR, &s.EndpointSlices},
		{kube.EventsGVR, &s.Events},
	}
}

// managedKeys are the keys whose managedFields say who wrote them: the
// objects a learner writes. Pods' are not kept (a third of a pod's size,
// and the cache drops them for the map).
func managedKeys(ns string) []clustercache.Key {
	return []clustercache.Key{{Resource: kube.DeploymentsGVR, Namespace: ns}, {Resource: kube.ServicesGVR, Namespace: ns}}
}

// Read lists a namespace's state from snap (a cache, or one list per
// resource for 'lab explain').
func Read(ctx context.Context, snap clustercache.Snapshot, ns string) (State, error) {
	var s State
	for _, f := range s.fields() {
		items, err := clustercache.ListKey(ctx, snap, clustercache.Key{Resource: f.gvr, Namespace: ns})
		if err != nil {
			return State{}, err
		}
		*f.items = items
	}
	return s, nil
}

// Follow keeps the timeline of namespace ns from cache, the one the lab's
// grading and map read, and calls onChange with the last n actions after
// each change. It reads from the cache only, so grading is never waited
// on; it returns when ctx ends (nil) or the first read fails.
func Follow(ctx context.Context, cache *clustercache.Cache, ns string, n int, onChange func([]Action)) error {
	if err := cache.KeepManagedFields(managedKeys(ns)); err != nil {
		return err
	}
	// When each resource's watch first delivered a change since the last
	// read: under load the read itself may come hundreds of
	// milliseconds later, and a write must not look later than what it
	// caused.
	keys := Keys(ns)
	heard := make([]atomic.Int64, len(keys))
	for i, k := range keys {
		stop, err := cache.Watch([]clustercache.Key{k}, func() {
			heard[i].CompareAndSwap(0, time.Now().UnixNano())
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	// Every state of what the journal places by resourceVersion, seen
	// before the journal hears of it.
	v := newVersions()
	stop, err := cache.Observe([]clustercache.Key{
		{Resource: kube.DeploymentsGVR, Namespace: ns}, {Resource: kube.ServicesGVR, Namespace: ns},
		{Resource: kube.PodsGVR, Namespace: ns}, {Resource: kube.EndpointSlicesGVR, Namespace: ns},
		{Resource: kube.ReplicaSetsGVR, Namespace: ns},
	}, v.observe)
	if err != nil {
		return err
	}
	defer stop()
	j := NewJournal(n)
	j.v = v
	return cache.FollowPromptly(ctx, keys, func() error {
		seen := map[string]time.Time{}
		for i, k := range keys {
			if t := heard[i].Swap(0); t != 0 {
				seen[k.Resource.Resource] = time.Unix(0, t)
			}
		}
		now := time.Now()
		s, err := Read(ctx, cache, ns)
		if err != nil {
			return err
		}
		s.Seen = seen
		j.Update(s, now)
		onChange(j.Actions())
		return nil
	})
}
