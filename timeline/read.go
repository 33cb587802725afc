package timeline

import (
	"context"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
)

// Keys are what a timeline of namespace ns reads: the objects the lab
// screen's map already watches, and the namespace's events.
func Keys(ns string) []clustercache.Key {
	var keys []clustercache.Key
	for _, r := range []schema.GroupVersionResource{kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR, kube.ServicesGVR, kube.EndpointSlicesGVR, kube.EventsGVR} {
		keys = append(keys, clustercache.Key{Resource: r, Namespace: ns})
	}
	return keys
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
	for i, k := range Keys(ns) {
		items, err := clustercache.ListKey(ctx, snap, k)
		if err != nil {
			return State{}, err
		}
		switch i {
		case 0:
			s.Deployments = items
		case 1:
			s.ReplicaSets = items
		case 2:
			s.Pods = items
		case 3:
			s.Services = items
		case 4:
			s.EndpointSlices = items
		case 5:
			s.Events = items
		}
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
	j := NewJournal(n)
	return cache.Follow(ctx, keys, 0, func() error {
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
