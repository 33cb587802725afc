package labsession

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

// mapDebounce gathers the burst of changes a rollout makes into one redraw.
const mapDebounce = 100 * time.Millisecond

// WatchMap feeds the cluster map of a lab namespace from the cache the
// lab's grading shares: nothing is listed or watched twice. It returns an
// error, rather than waiting for ever, when the cluster will not let the
// learner read what the map shows.
func (s *Service) WatchMap(ctx context.Context, lab *labfile.Lab, onChange func(clusterview.View)) error {
	w, err := s.watch(lab)
	if err != nil {
		return err
	}
	defer w.release()
	namespace, cache := w.ns, w.cache
	keys := []clustercache.Key{{Resource: kube.NodesGVR}}
	for _, r := range []schema.GroupVersionResource{kube.PodsGVR, kube.ReplicaSetsGVR, kube.DeploymentsGVR, kube.ServicesGVR, kube.EndpointSlicesGVR} {
		keys = append(keys, clustercache.Key{Resource: r, Namespace: namespace})
	}
	var (
		nodes  typed[corev1.Node]
		pods   = typed[corev1.Pod]{convert: mapPod}
		rss    typed[appsv1.ReplicaSet]
		deps   typed[appsv1.Deployment]
		svcs   typed[corev1.Service]
		slices typed[discoveryv1.EndpointSlice]
	)
	build := func() (clusterview.View, error) {
		n, err := nodes.list(ctx, cache, kube.NodesGVR, "")
		if err != nil {
			return clusterview.View{}, err
		}
		p, err := pods.list(ctx, cache, kube.PodsGVR, namespace)
		if err != nil {
			return clusterview.View{}, err
		}
		r, err := rss.list(ctx, cache, kube.ReplicaSetsGVR, namespace)
		if err != nil {
			return clusterview.View{}, err
		}
		d, err := deps.list(ctx, cache, kube.DeploymentsGVR, namespace)
		if err != nil {
			return clusterview.View{}, err
		}
		sv, err := svcs.list(ctx, cache, kube.ServicesGVR, namespace)
		if err != nil {
			return clusterview.View{}, err
		}
		sl, err := slices.list(ctx, cache, kube.EndpointSlicesGVR, namespace)
		if err != nil {
			return clusterview.View{}, err
		}
		return clusterview.Build(n, p, r, d, sv, sl), nil
	}
	return cache.Follow(ctx, keys, mapDebounce, func() error {
		v, err := build()
		if err != nil {
			return err
		}
		onChange(v)
		return nil
	})
}

// typed converts a cached list into typed objects, converting each object
// only when its resourceVersion changed: a redraw after one pod changed
// converts one pod, not the namespace.
type typed[T any] struct {
	seen map[types.UID]converted[T]
	// convert makes the typed copy; nil converts the whole object.
	convert func(u *unstructured.Unstructured, into *T) error
}

type converted[T any] struct {
	resourceVersion string
	obj             T
}

func (c *typed[T]) list(ctx context.Context, cache *clustercache.Cache, gvr schema.GroupVersionResource, ns string) ([]T, error) {
	items, err := cache.List(ctx, gvr, ns)
	if err != nil {
		return nil, err
	}
	convert := c.convert
	if convert == nil {
		convert = func(u *unstructured.Unstructured, into *T) error { return fromUnstructured(u, into) }
	}
	next := make(map[types.UID]converted[T], len(items))
	out := make([]T, 0, len(items))
	for i := range items {
		u := &items[i]
		if prev, ok := c.seen[u.GetUID()]; ok && prev.resourceVersion == u.GetResourceVersion() {
			next[u.GetUID()] = prev
			out = append(out, prev.obj)
			continue
		}
		var obj T
		if err := convert(u, &obj); err != nil {
			continue // a malformed object is left off the map, not fatal
		}
		next[u.GetUID()] = converted[T]{u.GetResourceVersion(), obj}
		out = append(out, obj)
	}
	c.seen = next
	return out, nil
}

// mapPod converts only the parts of a pod that clusterview.Build reads:
// the map keeps a typed copy of every pod in the namespace, and a whole
// pod (its spec, volumes, container statuses) is several times that.
func mapPod(u *unstructured.Unstructured, into *corev1.Pod) error {
	part := func(field string, keys ...string) map[string]any {
		from, _ := u.Object[field].(map[string]any)
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			if v, ok := from[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	return fromUnstructured(&unstructured.Unstructured{Object: map[string]any{
		"metadata": part("metadata", "name", "namespace", "uid", "labels", "ownerReferences", "deletionTimestamp"),
		"spec":     part("spec", "nodeName"),
		"status":   part("status", "phase", "conditions", "containerStatuses"),
	}}, into)
}

func fromUnstructured(u *unstructured.Unstructured, into any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errBadShape
		}
	}()
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
