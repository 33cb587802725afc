package timeline

import (
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// State is what the cluster holds now in a lab namespace: the objects a
// timeline reads. Deployments and Services need metadata.managedFields
// (who wrote them); the rest are read without.
type State struct {
	Deployments, ReplicaSets, Pods, Services, EndpointSlices, Events []unstructured.Unstructured
	// Seen, when set, is when k8slab first heard of a change to each
	// resource since the last state ("deployments", "pods", ...): the
	// watch's delivery, not when the state was read, which can be
	// later under load.
	Seen map[string]time.Time
}

// Journal turns successive states of a namespace into a timeline. What
// the cluster keeps (events, managedFields, conditions) is read from each
// state; what it does not keep (the value a write replaced, a deleted
// pod, an endpoint that went) is seen by comparing a state with the one
// before. It keeps the facts of the last n actions only.
type Journal struct {
	n     int
	facts map[string]*fact
	// rv is the resourceVersion of each object last read, so an object
	// that did not change is not read again.
	rv map[types.UID]string
	// objects is the last state of each Deployment, Service and pod,
	// to compare with the next.
	objects map[types.UID]*summary
	// endpoints maps a service to its ready addresses and their pods.
	endpoints map[string]map[string]string
	// updated is false until the first state is read: what it holds
	// was there before k8slab looked, so it has no seen time.
	updated bool
	// cutoff is when the oldest action kept began: older records are
	// forgotten and not read again.
	cutoff time.Time
	// v, when following a cache, is every state its watches delivered:
	// the resourceVersions that place each fact (nil: read after the
	// fact, placed by the clocks).
	v *versions
	// scales are the ReplicaSet scales observed and not yet placed;
	// floor is each ReplicaSet's resourceVersion at the first read:
	// what came before it was there before k8slab looked.
	scales []scale
	floor  map[types.UID]uint64
	// pods are the controllers' pod changes not yet placed; before is
	// the pods of the first read and the highest resourceVersion it
	// held: what those tell was there before k8slab looked.
	pods     []podChange
	before   map[types.UID]bool
	beforeRV uint64
	// surplus is how many pods each ReplicaSet was scaled down by and
	// has not yet been seen deleting: a pod marked deleting while its
	// ReplicaSet has a surplus is the controller's delete, any other a
	// person's. It is decided once the ReplicaSet's watch has delivered
	// the version of the delete, so that a scale-down seen late counts.
	surplus map[types.UID]int64
	// rsLast is how far each ReplicaSet's watch had delivered when the
	// scales were taken.
	rsLast map[types.UID]uint64
}

// NewJournal returns a journal that keeps the last n actions (n <= 0:
// DefaultActions).
func NewJournal(n int) *Journal {
	if n <= 0 {
		n = DefaultActions
	}
	return &Journal{n: n, facts: map[string]*fact{}, rv: map[types.UID]string{}, objects: map[types.UID]*summary{}, endpoints: map[string]map[string]string{}}
}

// Explain is the timeline of one state, read after the fact: what the
// cluster keeps, without the values writes replaced.
func Explain(s State, n int) []Action {
	j := NewJournal(n)
	j.Update(s, time.Time{})
	return j.Actions()
}

// Actions is the timeline, oldest action first.
func (j *Journal) Actions() []Action {
	fs := make([]*fact, 0, len(j.facts))
	for _, f := range j.facts {
		fs = append(fs, f)
	}
	acts := build(fs, j.n)
	j.trim(acts)
	return acts
}

// trim forgets the facts older than the oldest action kept.
func (j *Journal) trim(acts []Action) {
	if len(acts) < j.n {
		return
	}
	cut := acts[0].Time
	if !cut.After(j.cutoff) {
		return
	}
	j.cutoff = cut
	if j.v != nil && acts[0].rv > 0 {
		j.v.forget(acts[0].rv)
	}
	for k, f := range j.facts {
		if f.eff().Before(cut) {
			delete(j.facts, k)
		}
	}
}

// Update reads the next state, seen at the given time (zero: read after
// the fact).
func (j *Journal) Update(s State, seen time.Time) {
	if !j.updated {
		seen = time.Time{}
	}
	r := &reading{j: j, seen: seen, live: j.updated, present: map[types.UID]bool{}}
	at := func(resource string) {
		r.seen = seen
		if t, ok := s.Seen[resource]; ok && !t.IsZero() && !seen.IsZero() && t.Before(seen) {
			r.seen = t
		}
	}
	r.readReplicaSets(s.ReplicaSets)
	if j.v != nil {
		var scales []scale
		var pods []podChange
		scales, pods, j.rsLast = j.v.take()
		j.scales, j.pods = append(j.scales, scales...), append(j.pods, pods...)
	}
	r.readScales(s.ReplicaSets)
	r.readPods(s)
	at("events")
	for i := range s.Events {
		if r.changed(&s.Events[i]) {
			r.event(&s.Events[i])
		}
	}
	at("deployments")
	for i := range s.Deployments {
		r.workload(&s.Deployments[i], "deployment", deploymentSummary)
	}
	at("services")
	for i := range s.Services {
		r.workload(&s.Services[i], "service", serviceSummary)
	}
	at("pods")
	for i := range s.Pods {
		r.pod(&s.Pods[i])
	}
	at("endpointslices")
	r.slices(s.EndpointSlices)
	r.seen = seen
	r.gone()
	j.updated = true
}

// reading is one Update.
type reading struct {
	j       *Journal
	seen    time.Time
	live    bool
	present map[types.UID]bool
	// replicaSets are the live (not deleting) ReplicaSets by name.
	replicaSets map[string]bool
}

// readPods places the pods the ReplicaSet controller created and deleted
// since the last read.
func (r *reading) readPods(s State) {
	j := r.j
	if j.v == nil {
		return
	}
	if j.before == nil {
		j.before = map[types.UID]bool{}
		for _, items := range [][]unstructured.Unstructured{s.Deployments, s.ReplicaSets, s.Pods, s.Services, s.EndpointSlices} {
			for i := range items {
				j.before[items[i].GetUID()] = true
				j.beforeRV = max(j.beforeRV, rvOf(items[i].GetResourceVersion()))
			}
		}
	}
	if !r.live {
		return
	}
	if j.surplus == nil {
		j.surplus = map[types.UID]int64{}
	}
	sort.SliceStable(j.pods, func(a, b int) bool { return j.pods[a].rv < j.pods[b].rv })
	var pending []podChange
	for _, p := range j.pods {
		if p.rv <= j.beforeRV || !p.deleted && j.before[p.uid] {
			continue
		}
		if p.deleted {
			if j.rsLast[p.rs] < p.rv {
				pending = append(pending, p) // its ReplicaSet's scales are not all in
				continue
			}
			if j.surplus[p.rs] <= 0 {
				continue // a person's: the pod's own reading tells it
			}
			j.surplus[p.rs]--
		}
		verb, subject := "created", p.name
		f := &fact{time: p.at, precise: true, rv: p.rv, actor: "replicaset controller", rank: rankPods, kind: KindPods}
		if p.deleted {
			verb, subject = "deleted", p.name+"~"
			f.provides = "deleted|" + p.name
		}
		f.key = "rs" + verb + "|" + string(p.uid)
		f.subject, f.text = subject, verb+" pod "+p.name
		f.mergeKey, f.head, f.item = verb+"|"+p.rsName, verb+" pods", p.name
		r.add(f)
	}
	j.pods = pending
}

// readScales places the ReplicaSet scales observed since the last read.
func (r *reading) readScales(rss []unstructured.Unstructured) {
	j := r.j
	if j.v == nil {
		return
	}
	if j.floor == nil {
		j.floor = map[types.UID]uint64{}
		for i := range rss {
			j.floor[rss[i].GetUID()] = rvOf(rss[i].GetResourceVersion())
		}
	}
	if !r.live {
		return // the next read places what came after this one
	}
	if j.surplus == nil {
		j.surplus = map[types.UID]int64{}
	}
	for _, sc := range j.scales {
		if sc.rv <= j.floor[sc.uid] {
			continue
		}
		j.surplus[sc.uid] += max(0, sc.from-sc.to)
		kind := KindScale
		if sc.from == 0 {
			kind = KindRollout
		}
		r.add(&fact{key: fmt.Sprintf("scale|%s|%d", sc.uid, sc.rv), time: sc.at, precise: true, rv: sc.rv, actor: "deployment controller",
			text: fmt.Sprintf("scaled replicaset %s %d → %d", sc.name, sc.from, sc.to), rank: rankScale, kind: kind})
	}
	j.scales = nil
}

func (r *reading) readReplicaSets(rss []unstructured.Unstructured) {
	r.replicaSets = map[string]bool{}
	for i := range rss {
		if rss[i].GetDeletionTimestamp() == nil {
			r.replicaSets[rss[i].GetName()] = true
		}
	}
}

// changed says whether u differs from when it was last read, and
// remembers it.
func (r *reading) changed(u *unstructured.Unstructured) bool {
	uid := u.GetUID()
	r.present[uid] = true
	if r.j.rv[uid] == u.GetResourceVersion() {
		return false
	}
	r.j.rv[uid] = u.GetResourceVersion()
	return true
}

// behind says whether u changed since it was last read but its watch's
// handler has not observed that state yet (the informer's store changes
// first): it is read again at the next update, which that observation
// brings, so that every fact of it can be placed by resourceVersion.
func (r *reading) behind(u *unstructured.Unstructured) bool {
	uid := u.GetUID()
	if !r.live || r.j.v == nil || r.j.rv[uid] == u.GetResourceVersion() || r.j.v.caughtUp(uid, u.GetResourceVersion()) {
		return false
	}
	r.present[uid] = true
	return true
}

// rvAt is the resourceVersion at which a mark appeared, 0 when read
// after the fact.
func (r *reading) rvAt(m string) uint64 {
	if !r.live || r.j.v == nil {
		return 0
	}
	return r.j.v.at(m)
}

// rvEnded is the resourceVersion at which a mark went, 0 when read after
// the fact.
func (r *reading) rvEnded(m string) uint64 {
	if !r.live || r.j.v == nil {
		return 0
	}
	return r.j.v.endedAt(m)
}

// add records f unless it is known or older than what the journal keeps.
func (r *reading) add(f *fact) {
	if _, ok := r.j.facts[f.key]; ok {
		return
	}
	if !r.j.cutoff.IsZero() && f.eff().Before(r.j.cutoff.Add(-time.Second)) {
		return
	}
	if r.live {
		f.seen = r.seen
	}
	r.j.facts[f.key] = f
}

// summary is what the journal remembers of an object to tell what the
// next write changed.
type summary struct {
	kind, name string
	// values are the fields a write is described by, in order.
	values     [][2]string
	generation int64
	// writes are the keys of the person writes the object records.
	writes map[string]bool
	// pod only
	pod *podSummary
}

type podSummary struct {
	node, replicaSet string
	deleting         bool
}
