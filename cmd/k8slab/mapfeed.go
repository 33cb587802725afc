package main

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/tui"
)

// mapDebounce gathers the burst of changes a rollout makes into one redraw.
const mapDebounce = 100 * time.Millisecond

// WatchMap feeds the TUI's cluster map from informers on the lab namespace
// and the nodes: the API is listed once and then only watched.
func (s *labService) WatchMap(ctx context.Context, namespace string, onChange func(tui.ClusterView)) error {
	cfg, err := clusterctl.RESTConfig(s.g.kubeconfigPath(&s.t), s.t.context)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	nsFactory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace))
	nodeFactory := informers.NewSharedInformerFactory(cs, 0)
	pods := nsFactory.Core().V1().Pods()
	rss := nsFactory.Apps().V1().ReplicaSets()
	deps := nsFactory.Apps().V1().Deployments()
	svcs := nsFactory.Core().V1().Services()
	slices := nsFactory.Discovery().V1().EndpointSlices()
	nodes := nodeFactory.Core().V1().Nodes()

	changed := make(chan struct{}, 1)
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify(changed) },
		UpdateFunc: func(any, any) { notify(changed) },
		DeleteFunc: func(any) { notify(changed) },
	}
	for _, inf := range []cache.SharedIndexInformer{pods.Informer(), rss.Informer(), deps.Informer(), svcs.Informer(), slices.Informer(), nodes.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
	}
	nsFactory.Start(ctx.Done())
	nodeFactory.Start(ctx.Done())
	defer nsFactory.Shutdown()
	defer nodeFactory.Shutdown()
	nsFactory.WaitForCacheSync(ctx.Done())
	nodeFactory.WaitForCacheSync(ctx.Done())

	build := func() tui.ClusterView {
		return tui.BuildClusterView(items[corev1.Node](nodes.Informer()), items[corev1.Pod](pods.Informer()), items[appsv1.ReplicaSet](rss.Informer()),
			items[appsv1.Deployment](deps.Informer()), items[corev1.Service](svcs.Informer()), items[discoveryv1.EndpointSlice](slices.Informer()))
	}
	onChange(build())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(mapDebounce):
			}
			onChange(build())
		}
	}
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func items[T any](inf cache.SharedIndexInformer) []T {
	list := inf.GetStore().List()
	out := make([]T, 0, len(list))
	for _, o := range list {
		if v, ok := o.(*T); ok {
			out = append(out, *v)
		}
	}
	return out
}
