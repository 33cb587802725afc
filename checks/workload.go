package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
)

// listTyped lists a resource through the snapshot and converts each object
// into its typed form.
func listTyped[T any](ctx context.Context, snap clustercache.Snapshot, gvr schema.GroupVersionResource, ns string) ([]T, *Outcome) {
	return listKeyTyped[T](ctx, snap, clustercache.Key{Resource: gvr, Namespace: ns})
}

// listKeyTyped is listTyped for what a clustercache.Key selects.
func listKeyTyped[T any](ctx context.Context, snap clustercache.Snapshot, k clustercache.Key) ([]T, *Outcome) {
	gvr, ns := k.Resource, k.Namespace
	items, err := clustercache.ListKey(ctx, snap, k)
	if err != nil {
		out := outcomeFromError(err, gvr.Resource+inNamespace(ns))
		return nil, &out
	}
	out := make([]T, 0, len(items))
	for i := range items {
		var t T
		if err := fromUnstructured(items[i].Object, &t); err != nil {
			return nil, &Outcome{Status: Error, Messages: []string{fmt.Sprintf("%s %s cannot be read: %v", gvr.Resource, items[i].GetName(), err)}}
		}
		out = append(out, t)
	}
	return out, nil
}

// fromUnstructured converts without letting an object of a surprising
// shape take the whole evaluation down: the converter walks arbitrary
// data with reflection.
func fromUnstructured(obj map[string]any, into any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unexpected object shape: %v", r)
		}
	}()
	return runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into)
}

func findNamed[T any, P interface {
	*T
	GetName() string
}](items []T, name string) *T {
	for i := range items {
		if P(&items[i]).GetName() == name {
			return &items[i]
		}
	}
	return nil
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func failed(msgs ...string) Outcome { return Outcome{Status: Fail, Messages: msgs} }

// settling is a failure that only time will fix; see Outcome.Settling.
func settling(msgs ...string) Outcome { return Outcome{Status: Fail, Messages: msgs, Settling: true} }

func passed() Outcome { return Outcome{Status: Pass} }

func missing(format string, args ...any) Outcome {
	return Outcome{Status: Missing, Messages: []string{fmt.Sprintf(format, args...)}}
}

// getNamed returns the object named name in ns, read from gvr (what is
// its kind, for the message), or the outcome to report when it cannot be
// had.
func getNamed[T any, P interface {
	*T
	GetName() string
}](ctx context.Context, snap clustercache.Snapshot, gvr schema.GroupVersionResource, what, ns, name string) (*T, *Outcome) {
	items, unreadable := listTyped[T](ctx, snap, gvr, ns)
	if unreadable != nil {
		return nil, unreadable
	}
	obj := findNamed[T, P](items, name)
	if obj == nil {
		out := missing("%s %s%s not found", what, name, inNamespace(ns))
		return nil, &out
	}
	return obj, nil
}

// getDeployment returns the named deployment, or the outcome to report
// when it cannot be had.
func getDeployment(ctx context.Context, snap clustercache.Snapshot, ns, name string) (*appsv1.Deployment, *Outcome) {
	return getNamed[appsv1.Deployment](ctx, snap, kube.DeploymentsGVR, "deployment", ns, name)
}

// getService returns the named service, or the outcome to report when it
// cannot be had.
func getService(ctx context.Context, snap clustercache.Snapshot, ns, name string) (*corev1.Service, *Outcome) {
	return getNamed[corev1.Service](ctx, snap, kube.ServicesGVR, "service", ns, name)
}

// getDeploymentPods returns the named deployment with the ReplicaSets and
// pods of its namespace, or the outcome to report when they cannot be had.
func getDeploymentPods(ctx context.Context, snap clustercache.Snapshot, ns, name string) (*appsv1.Deployment, []appsv1.ReplicaSet, []corev1.Pod, *Outcome) {
	d, out := getDeployment(ctx, snap, ns, name)
	if out != nil {
		return nil, nil, nil, out
	}
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, kube.ReplicaSetsGVR, ns)
	if unreadable != nil {
		return nil, nil, nil, unreadable
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, kube.PodsGVR, ns)
	if unreadable != nil {
		return nil, nil, nil, unreadable
	}
	return d, rss, pods, nil
}

// deploymentSelector is d's label selector, or the outcome to report when
// it does not parse.
func deploymentSelector(d *appsv1.Deployment) (labels.Selector, *Outcome) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, &Outcome{Status: Error, Messages: []string{fmt.Sprintf("deployment %s has an invalid selector: %v", d.Name, err)}}
	}
	return sel, nil
}

// runningPod is a running pod of a deployment and the deployment's
// ReplicaSet that owns it.
type runningPod struct {
	*corev1.Pod
	rs *appsv1.ReplicaSet
}

// runningPodsOf returns d's running pods: active, selected by d, and owned
// by one of d's ReplicaSets (a pod that only matches the selector is
// someone else's), with the ReplicaSet of d's current template (nil until
// the deployment controller has made it).
func runningPodsOf(d *appsv1.Deployment, rss []appsv1.ReplicaSet, pods []corev1.Pod) ([]runningPod, *appsv1.ReplicaSet, *Outcome) {
	sel, out := deploymentSelector(d)
	if out != nil {
		return nil, nil, out
	}
	owned, cur := replicaSetsOf(d, rss)
	var running []runningPod
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) || !kube.PodActive(p) {
			continue
		}
		var rs *appsv1.ReplicaSet
		for j := range owned {
			if kube.OwnedBy(p, "ReplicaSet", owned[j].Name, owned[j].UID) {
				rs = &owned[j]
			}
		}
		if rs != nil {
			running = append(running, runningPod{Pod: p, rs: rs})
		}
	}
	return running, cur, nil
}

// equalIgnoreHash compares pod templates as the deployment controller does
// to find a deployment's ReplicaSet: the pod-template-hash label is the
// ReplicaSet's, not part of the template the learner wrote.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(a, b)
}

// deploymentReplicaSets reads the ReplicaSets in ns and returns
// replicaSetsOf(d, them), or the outcome of a list that cannot be read.
func deploymentReplicaSets(ctx context.Context, snap clustercache.Snapshot, ns string, d *appsv1.Deployment) (owned []appsv1.ReplicaSet, current *appsv1.ReplicaSet, unreadable *Outcome) {
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, kube.ReplicaSetsGVR, ns)
	if unreadable != nil {
		return nil, nil, unreadable
	}
	owned, current = replicaSetsOf(d, rss)
	return owned, current, nil
}

// replicaSetsOf returns the ReplicaSets d owns, newest revision first, and
// among them the one running d's current template (nil when the
// controller has not made it yet).
func replicaSetsOf(d *appsv1.Deployment, rss []appsv1.ReplicaSet) (owned []appsv1.ReplicaSet, current *appsv1.ReplicaSet) {
	for i := range rss {
		if kube.OwnedBy(&rss[i], "Deployment", d.Name, d.UID) {
			owned = append(owned, rss[i])
		}
	}
	sort.SliceStable(owned, func(i, j int) bool {
		ri, rj := kube.Revision(&owned[i]), kube.Revision(&owned[j])
		if ri != rj {
			return ri > rj
		}
		return owned[i].CreationTimestamp.Before(&owned[j].CreationTimestamp)
	})
	for i := range owned {
		if equalIgnoreHash(&owned[i].Spec.Template, &d.Spec.Template) {
			return owned, &owned[i]
		}
	}
	return owned, nil
}

func nameList(names []string) string {
	slices.Sort(names)
	const most = 3
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
