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

// replicaSetEvents is the events podReplaced reads (the ReplicaSet
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
// replace one that went away. The evidence is what the ReplicaSet
// controller writes: its events name every pod it creates and deletes, so
// a pod it created that is gone (or going) without its having deleted it
// was deleted by someone else, and the ReplicaSet, keeping its count, has
// replaced it. This holds however fast a script deletes a pod after
// scaling, and however slowly the controller makes its pods.
//
// Only when the events cannot tell (an hour after a pod was made they have
// expired; a burst of them is folded into one without names) does a pod's
// age count: one created well after the last change to the deployment and
// to the ReplicaSet, since a scale or a new template makes pods at once.
// Not when the events are complete: a controller under load (a workshop's
// quota admission, a busy machine) can take seconds to make the pods of a
// new ReplicaSet, and a ReplicaSet deleted by hand is made anew, with
// pods that look late but replace nothing.
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
	late := false
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) || !kube.OwnedBy(p, "ReplicaSet", cur.Name, cur.UID) {
			continue
		}
		if !p.CreationTimestamp.Time.Before(since.Add(replacementDelay)) {
			late = true
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
	h := readCreations(cur, events)
	if h.vanished(live) {
		return passed()
	}
	if late && !h.complete(live) {
		return passed()
	}
	slices.Sort(names)
	return failed(fmt.Sprintf("no pod of deployment %s has been replaced yet: delete one with kubectl delete pod %s and watch a new one appear", d.Name, names[0]))
}

// creations is what a ReplicaSet's events say it did with its pods.
type creations struct {
	created, deleted map[string]bool
	// The event recorder merged some creations (or deletions) into one
	// event, which names only the last pod: not every pod the ReplicaSet
	// made (or removed) is named.
	foldedCreates, foldedDeletes bool
}

func readCreations(rs *appsv1.ReplicaSet, events []corev1.Event) creations {
	const combined = "(combined from similar events): "
	h := creations{created: map[string]bool{}, deleted: map[string]bool{}}
	for i := range events {
		ev := &events[i]
		o := ev.InvolvedObject
		if o.Kind != "ReplicaSet" || o.Name != rs.Name || (rs.UID != "" && o.UID != "" && o.UID != rs.UID) {
			continue
		}
		msg, merged := strings.CutPrefix(ev.Message, combined)
		switch ev.Reason {
		case "SuccessfulCreate":
			h.foldedCreates = h.foldedCreates || merged
			if name, ok := strings.CutPrefix(msg, "Created pod: "); ok {
				h.created[name] = true
			}
		case "SuccessfulDelete":
			h.foldedDeletes = h.foldedDeletes || merged
			if name, ok := strings.CutPrefix(msg, "Deleted pod: "); ok {
				h.deleted[name] = true
			}
		}
	}
	return h
}

// vanished reports whether the ReplicaSet created a pod that is no longer
// running although it never deleted it. The ReplicaSet keeps its count,
// so such a pod has been (or is being) replaced. With deletions folded
// together, a pod not named among them may have been removed by the
// ReplicaSet itself, so nothing is concluded.
func (h creations) vanished(live map[string]bool) bool {
	if h.foldedDeletes {
		return false
	}
	for name := range h.created {
		if !live[name] && !h.deleted[name] {
			return true
		}
	}
	return false
}

// complete reports whether the events name the creation of every live
// pod, with nothing folded: then they alone say whether a pod was
// replaced.
func (h creations) complete(live map[string]bool) bool {
	if h.foldedCreates || len(h.created) == 0 {
		return false
	}
	for name := range live {
		if !h.created[name] {
			return false
		}
	}
	return true
}
