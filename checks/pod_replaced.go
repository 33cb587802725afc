package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("podReplaced", func() CheckKind { return &PodReplaced{} })
}

// PodReplaced holds when a pod of the deployment was created to replace
// one that went away, i.e. the controller healed it.
type PodReplaced labfile.WorkloadRef

// LiveOnly: this check grades what happened, not the objects as they are.
func (c *PodReplaced) LiveOnly() string {
	return "a pod deleted and replaced on the live cluster"
}

func (c *PodReplaced) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
}

func (c *PodReplaced) reads(ns string) []clustercache.Key {
	return append(inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR), replicaSetEvents(ns))
}

// readsManagedFields: lastSpecWrite dates the deployment's and the
// ReplicaSet's last changes from their managedFields.
func (c *PodReplaced) readsManagedFields(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR)
}

// replicaSetEvents is the events vanishedPod reads (the ReplicaSet
// controller records each pod it creates and deletes), those about
// ReplicaSets: a namespace of 300 pods holds over a thousand events about
// the pods themselves, which it need not cache.
func replicaSetEvents(ns string) clustercache.Key {
	return clustercache.Key{Resource: kube.EventsGVR, Namespace: ns, FieldSelector: "involvedObject.kind=ReplicaSet"}
}

func (c *PodReplaced) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return podReplaced(ctx, snap, ns, labfile.WorkloadRef(*c))
}

// replacementDelay is how much later than the last change to a workload a
// pod must be created to count as a replacement: the controllers create
// pods for a scale or a new template within a moment, and managedFields
// times have one-second resolution.
const replacementDelay = 2 * time.Second

// lastSpecWrite is when obj was last changed other than in its status:
// its creation or any later write to its spec or metadata.
func lastSpecWrite(obj metav1.Object) time.Time {
	last := obj.GetCreationTimestamp().Time
	for _, w := range writesOf(obj) {
		if w.subresource != "status" && w.time.After(last) {
			last = w.time
		}
	}
	return last
}

// podReplaced holds when the deployment's current ReplicaSet made a pod to
// replace one that went away. Two kinds of evidence count. A pod created
// well after the last change to the deployment and to the ReplicaSet:
// scaling and new templates make pods at once, so a later pod replaces one
// that went away. Or, since a script deletes a pod within a second of
// scaling, faster than timestamps can tell apart, the ReplicaSet's events:
// a pod it created that is gone (or going) without its having deleted it.
func podReplaced(ctx context.Context, snap clustercache.Snapshot, ns string, ref labfile.WorkloadRef) Outcome {
	d, rss, pods, out := getDeploymentPods(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	_, cur := replicaSetsOf(d, rss)
	if cur == nil {
		return settling(fmt.Sprintf("deployment %s has no ReplicaSet for its current template yet; wait a moment for the deployment controller", d.Name))
	}
	sel, out := deploymentSelector(d)
	if out != nil {
		return *out
	}
	since := lastSpecWrite(d)
	if t := lastSpecWrite(cur); t.After(since) {
		since = t
	}
	var names []string
	live := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) || !kube.OwnedBy(p, "ReplicaSet", cur.Name, cur.UID) {
			continue
		}
		if !p.CreationTimestamp.Time.Before(since.Add(replacementDelay)) {
			return passed()
		}
		if kube.PodActive(p) {
			names = append(names, p.Name)
			live[p.Name] = true
		}
	}
	if len(names) == 0 {
		return settling(fmt.Sprintf("deployment %s has no running pods to replace yet; wait for its rollout to finish", d.Name))
	}
	events, unreadable := listKeyTyped[corev1.Event](ctx, snap, replicaSetEvents(ns))
	if unreadable != nil {
		return *unreadable
	}
	if vanishedPod(cur, events, live) {
		return passed()
	}
	slices.Sort(names)
	return failed(fmt.Sprintf("no pod of deployment %s has been replaced yet: delete one with kubectl delete pod %s and watch a new one appear", d.Name, names[0]))
}

// vanishedPod reports whether rs's events show a pod it created that is
// no longer running although rs never deleted it. The ReplicaSet keeps its
// count, so such a pod has been (or is being) replaced.
func vanishedPod(rs *appsv1.ReplicaSet, events []corev1.Event, live map[string]bool) bool {
	const combined = "(combined from similar events): "
	created := map[string]bool{}
	deleted := map[string]bool{}
	for i := range events {
		ev := &events[i]
		o := ev.InvolvedObject
		if o.Kind != "ReplicaSet" || o.Name != rs.Name || (rs.UID != "" && o.UID != "" && o.UID != rs.UID) {
			continue
		}
		msg, merged := strings.CutPrefix(ev.Message, combined)
		switch ev.Reason {
		case "SuccessfulCreate":
			if name, ok := strings.CutPrefix(msg, "Created pod: "); ok {
				created[name] = true
			}
		case "SuccessfulDelete":
			if merged {
				// The event recorder folded deletions together, so
				// some of the pods the ReplicaSet removed are not named.
				return false
			}
			if name, ok := strings.CutPrefix(msg, "Deleted pod: "); ok {
				deleted[name] = true
			}
		}
	}
	for name := range created {
		if !live[name] && !deleted[name] {
			return true
		}
	}
	return false
}
