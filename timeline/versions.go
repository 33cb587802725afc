package timeline

import (
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// versions records, from every state the watches deliver, the
// resourceVersion at which each thing a timeline tells became true (a
// Deployment's new generation, a pod's deletion, an address in an
// EndpointSlice) or stopped being true. The API server numbers every
// write from one counter, so these numbers order a learner's write
// against what followed it whatever the delays between the server, the
// watches and k8slab: a timeline groups by them, not by when k8slab
// happened to hear of each thing.
type versions struct {
	mu sync.Mutex
	// last is the resourceVersion of each object's latest state
	// observed; an object read at a later one is not caught up yet.
	last map[types.UID]uint64
	// marks are what each object's latest state holds.
	marks map[types.UID][]string
	// since and ended say at which resourceVersion a mark last
	// appeared, and last went.
	since, ended map[string]mark
	// replicas is each Deployment-owned ReplicaSet's spec.replicas, and
	// scales every change of it observed, oldest first, until taken.
	replicas map[types.UID]int64
	scales   []scale
	// pods are the pods of those ReplicaSets created or marked
	// deleting, oldest first, until taken: read from the pods
	// themselves, since the controller's events fold after ten.
	pods []podChange
	// now is the clock scales are seen by (tests set it).
	now func() time.Time
}

// podChange is a pod of a Deployment's ReplicaSet created, or marked
// deleting (by its controller or by a person: the journal tells which).
type podChange struct {
	rv      uint64
	uid, rs types.UID
	name    string
	rsName  string
	deleted bool
	at      time.Time
}

// scale is one change of a ReplicaSet's replicas: the deployment
// controller's step, read from the object it wrote rather than from
// its event, which client-go folds into one (and so loses steps) after
// ten similar ones in ten minutes.
type scale struct {
	rv       uint64
	uid      types.UID
	name     string
	from, to int64
	// at is when the watch delivered it.
	at time.Time
}

type mark struct {
	rv  uint64
	uid types.UID
}

func newVersions() *versions {
	return &versions{last: map[types.UID]uint64{}, marks: map[types.UID][]string{}, since: map[string]mark{}, ended: map[string]mark{}, replicas: map[types.UID]int64{}, now: time.Now}
}

// rvOf reads a resourceVersion as the number the API server gives it
// (etcd's revision); 0 for none.
func rvOf(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// Marks of a state. Deployments record each spec change as a new
// generation; Services do not, so their described spec is the mark.
func marksOf(u *unstructured.Unstructured) []string {
	uid := string(u.GetUID())
	ms := []string{"obj|" + uid}
	switch u.GetKind() {
	case "Deployment":
		ms = append(ms, "spec|"+uid+"|"+strconv.FormatInt(u.GetGeneration(), 10))
	case "Service":
		ms = append(ms, "spec|"+uid+"|"+describe(serviceSummary(u)))
	case "Pod":
		if u.GetDeletionTimestamp() != nil {
			ms = append(ms, "deleting|"+uid)
		}
		if n, _, _ := unstructured.NestedString(u.Object, "spec", "nodeName"); n != "" {
			ms = append(ms, "sched|"+uid)
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, _ := c.(map[string]any); m["type"] == "Ready" && m["status"] == "True" {
				ms = append(ms, "ready|"+uid)
			}
		}
	case "EndpointSlice":
		svc := u.GetLabels()["kubernetes.io/service-name"]
		for _, a := range readyAddresses(u) {
			ms = append(ms, "ep|"+svc+"|"+a)
		}
	}
	return ms
}

// observe takes one state of an object as its watch delivers it.
func (v *versions) observe(u *unstructured.Unstructured, deleted bool) {
	uid, rv := u.GetUID(), rvOf(u.GetResourceVersion())
	var now []string
	if deleted {
		// A watch delivers a deleted object at the version of its
		// deletion.
		now = []string{"gone|" + string(uid)}
	} else {
		now = marksOf(u)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch u.GetKind() {
	case "ReplicaSet":
		v.replicaSet(u, rv, deleted)
	case "Pod":
		v.pod(u, rv, deleted)
	}
	before := map[string]bool{}
	for _, m := range v.marks[uid] {
		before[m] = true
	}
	held := map[string]bool{}
	for _, m := range now {
		held[m] = true
		if !before[m] {
			v.since[m] = mark{rv, uid}
		}
	}
	for m := range before {
		if !held[m] {
			v.ended[m] = mark{rv, uid}
		}
	}
	if rv > v.last[uid] {
		v.last[uid] = rv
	}
	if deleted {
		delete(v.marks, uid)
	} else {
		v.marks[uid] = now
	}
}

// replicaSet records a change of a Deployment's ReplicaSet's replicas;
// v.mu must be held. A ReplicaSet first observed starts from 0: the
// deployment controller creates a new one at its first size.
func (v *versions) replicaSet(u *unstructured.Unstructured, rv uint64, deleted bool) {
	uid := u.GetUID()
	if deleted {
		delete(v.replicas, uid)
		return
	}
	owned := false
	for _, o := range u.GetOwnerReferences() {
		owned = owned || o.Kind == "Deployment"
	}
	if !owned {
		return
	}
	n := int64(1)
	if r, ok, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); ok {
		n = r
	}
	from, seen := v.replicas[uid]
	v.replicas[uid] = n
	if seen && from == n || !seen && n == 0 {
		return
	}
	v.scales = append(v.scales, scale{rv: rv, uid: uid, name: u.GetName(), from: from, to: n, at: v.now()})
}

// pod records a pod of a Deployment's ReplicaSet created or marked
// deleting; v.mu must be held.
func (v *versions) pod(u *unstructured.Unstructured, rv uint64, deleted bool) {
	var rs types.UID
	var rsName string
	for _, o := range u.GetOwnerReferences() {
		if o.Kind == "ReplicaSet" {
			rs, rsName = o.UID, o.Name
		}
	}
	if rs == "" {
		return
	}
	// Its ReplicaSet may not be observed yet: the pods' watch can
	// deliver a new pod before the ReplicaSets' watch delivers the new
	// ReplicaSet.
	uid := u.GetUID()
	prev, known := v.marks[uid]
	wasDeleting := false
	for _, m := range prev {
		wasDeleting = wasDeleting || m == "deleting|"+string(uid)
	}
	change := podChange{rv: rv, uid: uid, rs: rs, name: u.GetName(), rsName: rsName, at: v.now()}
	switch {
	case !known && !deleted && u.GetDeletionTimestamp() == nil:
		v.pods = append(v.pods, change)
	case !wasDeleting && (deleted || u.GetDeletionTimestamp() != nil):
		change.deleted = true
		v.pods = append(v.pods, change)
	}
}

// take returns the scales and pod changes observed since the last call,
// and how far each object's watch has delivered: every scale of a
// ReplicaSet up to that version is among those taken.
func (v *versions) take() ([]scale, []podChange, map[types.UID]uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	scales, pods := v.scales, v.pods
	v.scales, v.pods = nil, nil
	last := make(map[types.UID]uint64, len(v.replicas))
	for uid := range v.replicas {
		last[uid] = v.last[uid]
	}
	// A pod whose ReplicaSet is not observed yet waits for it.
	return scales, pods, last
}

// caughtUp says whether the state of uid at rv has been observed: the
// informer's store changes before its handlers hear of it, so a read
// can be ahead of what was observed.
func (v *versions) caughtUp(uid types.UID, rv string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last[uid] >= rvOf(rv)
}

// at is the resourceVersion at which m last appeared; 0 if unknown.
func (v *versions) at(m string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.since[m].rv
}

// endedAt is the resourceVersion at which m last went; 0 if unknown.
func (v *versions) endedAt(m string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.ended[m].rv
}

// forget drops what is older than rv about objects that are gone: the
// timeline no longer keeps an action that old.
func (v *versions) forget(rv uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, ms := range []map[string]mark{v.since, v.ended} {
		for k, m := range ms {
			if _, live := v.marks[m.uid]; !live && m.rv < rv {
				delete(ms, k)
			}
		}
	}
	for uid, rv0 := range v.last {
		if _, live := v.marks[uid]; !live && rv0 < rv {
			delete(v.last, uid)
		}
	}
}
