package timeline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/k8slab/k8slab/internal/textsafe"
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

func deploymentSummary(u *unstructured.Unstructured) [][2]string {
	replicas := "1"
	if v, ok, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); ok {
		replicas = fmt.Sprint(v)
	}
	return [][2]string{{"replicas", replicas}, {"image", images(u)}}
}

func images(u *unstructured.Unstructured) string {
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	var parts []string
	for _, c := range cs {
		m, _ := c.(map[string]any)
		img, _ := m["image"].(string)
		if len(cs) > 1 {
			name, _ := m["name"].(string)
			img = name + "=" + img
		}
		parts = append(parts, img)
	}
	// An image is whatever the learner wrote: shown, never obeyed.
	return textsafe.Inert(strings.Join(parts, ","))
}

func serviceSummary(u *unstructured.Unstructured) [][2]string {
	typ, _, _ := unstructured.NestedString(u.Object, "spec", "type")
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
	var pairs []string
	for k, v := range sel {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
	var ps []string
	for _, p := range ports {
		m, _ := p.(map[string]any)
		proto, _ := m["protocol"].(string)
		s := fmt.Sprint(m["port"])
		if t, ok := m["targetPort"]; ok && fmt.Sprint(t) != s {
			s += ":" + fmt.Sprint(t)
		}
		if proto != "" && proto != "TCP" {
			s += "/" + proto
		}
		ps = append(ps, s)
	}
	return [][2]string{{"type", typ}, {"selector", strings.Join(pairs, ",")}, {"ports", strings.Join(ps, ",")}}
}

// person says whether a managedFields entry is a write by a person (the
// learner, or the lab's setup) rather than by the control plane: the
// controllers of kube-controller-manager record their writes under that
// one name (the apiserver names a manager by its user agent's first word
// when the client gives none), the scheduler and kubelets under theirs,
// and status is never written by a person's kubectl.
func person(manager, subresource string) bool {
	if subresource == "status" {
		return false
	}
	switch manager {
	case "kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver", "kwok", "kwok-controller", "kubectl-last-applied":
		return false
	}
	return true
}

// setupManager is the field manager of k8slab's own writes (labenv).
const setupManager = "k8slab"

// actorOf names a person's write; kubectl writes /scale under its
// user agent's name.
func actorOf(m managed) string {
	if m.manager == "kubectl" && m.subresource != "" {
		return "you (kubectl, " + m.subresource + ")"
	}
	return actorOfManager(m.manager)
}

// actorOfManager names a person's write.
func actorOfManager(manager string) string {
	if manager == setupManager {
		return "the lab's setup"
	}
	return "you (" + manager + ")"
}

type managed struct {
	manager, operation, subresource string
	time                            time.Time
	fields                          string
}

func managedOf(u *unstructured.Unstructured) []managed {
	var out []managed
	for _, e := range u.GetManagedFields() {
		m := managed{manager: e.Manager, operation: string(e.Operation), subresource: e.Subresource}
		if e.Time != nil {
			m.time = e.Time.Time
		}
		if e.FieldsV1 != nil {
			m.fields = e.FieldsV1.GetRawString()
		}
		out = append(out, m)
	}
	return out
}

// workload reads the person writes to a Deployment or Service from its
// managedFields and, when the journal knew the object before, what they
// changed.
func (r *reading) workload(u *unstructured.Unstructured, kind string, values func(*unstructured.Unstructured) [][2]string) {
	if !r.changed(u) {
		return
	}
	uid := u.GetUID()
	prev := r.j.objects[uid]
	cur := &summary{kind: kind, name: u.GetName(), values: values(u), generation: u.GetGeneration()}
	r.j.objects[uid] = cur
	obj := kind + "/" + u.GetName()
	created := u.GetCreationTimestamp().Time
	var writes []managed
	for _, m := range managedOf(u) {
		if person(m.manager, m.subresource) {
			// A write through /scale by a manager new to the object
			// is recorded without a time (apimachinery's
			// managedfields.ScaleHandler.ToParent): when k8slab sees
			// it is all there is.
			writes = append(writes, m)
		}
	}
	sort.SliceStable(writes, func(i, k int) bool { return writes[i].time.Before(writes[k].time) })
	cur.writes = map[string]bool{}
	keyOf := func(m managed) string {
		return fmt.Sprintf("w|%s|%s|%s|%s|%d", uid, m.manager, m.operation, m.subresource, m.time.Unix())
	}
	var fresh []int
	for i, m := range writes {
		k := keyOf(m)
		cur.writes[k] = true
		if prev == nil || !prev.writes[k] {
			fresh = append(fresh, i)
		}
	}
	at := func(m managed) time.Time {
		if m.time.IsZero() {
			return r.seen
		}
		return m.time
	}
	if prev == nil {
		// New, or read after the fact: its creation, by the earliest
		// writer (a record's time moves when a later write takes
		// fields from it, so it may be later than the creation), and
		// every later write it records.
		if len(writes) > 0 {
			text := "created " + obj
			when := created
			if r.live {
				text += " (" + describe(cur.values) + ")"
				when = r.seen
			}
			m := writes[0]
			for _, w := range writes {
				if !w.time.IsZero() { // untimed /scale records sort first
					m = w
					break
				}
			}
			r.add(&fact{key: "create|" + string(uid), time: when, starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: text})
		}
		for _, i := range fresh {
			m := writes[i]
			if m.time.IsZero() || m.time.Sub(created) < time.Second {
				continue // the creation, or no time to place it at
			}
			r.add(&fact{key: keyOf(m), time: m.time, starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: ownedText(obj, m.fields, cur.values)})
		}
		return
	}
	// One change is one write, though several records may move: a
	// write that takes a field from another manager updates that
	// manager's record too. The writer is the one that now owns a
	// changed field, the latest if several.
	pick := -1
	for _, i := range fresh {
		if pick < 0 || ownsChanged(writes[i].fields, prev.values, cur.values) || !ownsChanged(writes[pick].fields, prev.values, cur.values) {
			pick = i
		}
	}
	switch {
	case pick >= 0:
		m := writes[pick]
		r.add(&fact{key: keyOf(m), time: at(m), starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: changeText(obj, prev.values, cur.values)})
	case cur.generation > prev.generation && len(writes) > 0:
		// Written again within the second of the last record (or by a
		// record without a time): the record did not move, the spec
		// did. The writer is the latest owner of a changed field.
		pick = len(writes) - 1
		for i := range writes {
			if ownsChanged(writes[i].fields, prev.values, cur.values) {
				pick = i
			}
		}
		m := writes[pick]
		key := fmt.Sprintf("w|%s|%s|gen%d", uid, m.manager, cur.generation)
		r.add(&fact{key: key, time: at(m), starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: changeText(obj, prev.values, cur.values)})
	}
}

// ownsChanged says whether a manager's fields include one whose value
// changed.
func ownsChanged(fields string, before, after [][2]string) bool {
	for i := range after {
		if i < len(before) && before[i][1] != after[i][1] && strings.Contains(fields, `"f:`+after[i][0]+`"`) {
			return true
		}
	}
	return false
}

func describe(values [][2]string) string {
	var parts []string
	for _, v := range values {
		if v[1] != "" {
			parts = append(parts, v[0]+" "+v[1])
		}
	}
	return strings.Join(parts, ", ")
}

// changeText says what a write changed: "set deployment/web replicas 3 → 5".
func changeText(obj string, before, after [][2]string) string {
	var parts []string
	for i := range after {
		if i < len(before) && before[i][1] != after[i][1] {
			parts = append(parts, after[i][0]+" "+orNone(before[i][1])+" → "+orNone(after[i][1]))
		}
	}
	if len(parts) == 0 {
		return "wrote " + obj
	}
	return "set " + obj + " " + strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ownedText describes a write read after the fact: the cluster keeps which
// fields a manager owns and their value now, not the value before.
func ownedText(obj, fields string, values [][2]string) string {
	var parts []string
	for _, v := range values {
		if strings.Contains(fields, `"f:`+v[0]+`"`) {
			parts = append(parts, v[0]+" (now "+orNone(v[1])+")")
		}
	}
	if len(parts) == 0 {
		return "wrote " + obj
	}
	return "set " + obj + " " + strings.Join(parts, ", ")
}

// pod reads what the kubelet and the scheduler recorded in a pod's
// status, and a pod that is going away.
func (r *reading) pod(u *unstructured.Unstructured) {
	if !r.changed(u) {
		return
	}
	uid, name := u.GetUID(), u.GetName()
	node, _, _ := unstructured.NestedString(u.Object, "spec", "nodeName")
	ps := &podSummary{node: node, deleting: u.GetDeletionTimestamp() != nil}
	for _, o := range u.GetOwnerReferences() {
		if o.Kind == "ReplicaSet" {
			ps.replicaSet = o.Name
		}
	}
	prev := r.j.objects[uid]
	r.j.objects[uid] = &summary{kind: "pod", name: name, pod: ps}
	kubelet := "kubelet on " + node
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		at, err := time.Parse(time.RFC3339, fmt.Sprint(m["lastTransitionTime"]))
		if err != nil {
			continue
		}
		switch m["type"] {
		case "Ready":
			if ps.deleting {
				continue
			}
			r.add(&fact{key: "ready|" + string(uid) + "|" + at.String(), time: at, actor: kubelet, text: name + " ready",
				rank: rankReady, subject: name, mergeKey: "kubelet|" + name, head: name, item: "ready"})
		case "PodScheduled":
			if node == "" {
				continue
			}
			r.add(&fact{key: "sched|" + string(uid), time: at, actor: "scheduler", text: "placed " + name + " on " + node,
				rank: rankSchedule, subject: name, replacedBy: "scheduled|" + name})
		}
	}
	if len(u.GetOwnerReferences()) == 0 {
		r.ownerless(u, prev == nil)
	}
	if ps.deleting && (prev == nil || !prev.pod.deleting) {
		at := u.GetDeletionTimestamp().Time
		if g := u.GetDeletionGracePeriodSeconds(); g != nil {
			at = at.Add(-time.Duration(*g) * time.Second)
		}
		r.deleted(uid, name, ps, at)
	}
}

// ownerless records a pod a person created (kubectl run): no controller
// owns it.
func (r *reading) ownerless(u *unstructured.Unstructured, first bool) {
	if !first {
		return
	}
	manager := ""
	for _, m := range managedOf(u) {
		if m.operation != "" && person(m.manager, m.subresource) {
			manager = m.manager
			break
		}
	}
	actor := "you"
	switch {
	case manager != "":
		actor = actorOfManager(manager)
	case !r.live:
		// Its managedFields were not read and it was there before
		// k8slab looked: the lab's setup, or the learner, made it.
		return
	}
	obj := "pod/" + u.GetName()
	r.add(&fact{key: "podc|" + string(u.GetUID()), time: u.GetCreationTimestamp().Time, starts: true, actor: actor, manager: manager, object: obj, text: "created " + obj})
}

// deleted records a pod going away: the replicaset controller's own
// deletes have an event; the garbage collector removes the pods of a
// ReplicaSet that is gone; any other delete was a person's (a delete
// records no field manager).
func (r *reading) deleted(uid types.UID, name string, ps *podSummary, at time.Time) {
	if ps.replicaSet != "" && !r.replicaSets[ps.replicaSet] {
		r.add(&fact{key: "del|" + string(uid), time: at, actor: "garbage collector", text: "removed " + name + " (its replicaset is gone)",
			rank: rankPods, subject: name + "~", replacedBy: "deleted|" + name})
		return
	}
	r.add(&fact{key: "del|" + string(uid), time: at, starts: true, actor: "you", object: "pod/" + name, text: "deleted pod " + name,
		replacedBy: "deleted|" + name})
}

// gone handles objects that left the state since the last Update.
func (r *reading) gone() {
	for uid, s := range r.j.objects {
		if r.present[uid] {
			continue
		}
		delete(r.j.objects, uid)
		delete(r.j.rv, uid)
		switch {
		case s.pod != nil:
			if !s.pod.deleting {
				r.deleted(uid, s.name, s.pod, r.seen)
			}
		case r.live:
			obj := s.kind + "/" + s.name
			r.add(&fact{key: "gone|" + string(uid), time: r.seen, starts: true, actor: "you", object: obj, text: "deleted " + obj})
		}
	}
	for uid := range r.j.rv {
		if !r.present[uid] {
			delete(r.j.rv, uid)
		}
	}
}

// slices compares each Service's ready endpoints with the last state:
// the EndpointSlice keeps only the addresses of now.
func (r *reading) slices(items []unstructured.Unstructured) {
	now := map[string]map[string]string{}
	for i := range items {
		u := &items[i]
		r.present[u.GetUID()] = true
		svc := u.GetLabels()["kubernetes.io/service-name"]
		if svc == "" {
			continue
		}
		if now[svc] == nil {
			now[svc] = map[string]string{}
		}
		eps, _, _ := unstructured.NestedSlice(u.Object, "endpoints")
		for _, e := range eps {
			m, _ := e.(map[string]any)
			if ready, ok, _ := unstructured.NestedBool(m, "conditions", "ready"); ok && !ready {
				continue
			}
			addrs, _, _ := unstructured.NestedStringSlice(m, "addresses")
			pod, _, _ := unstructured.NestedString(m, "targetRef", "name")
			for _, a := range addrs {
				// The same address may come back on another pod.
				now[svc][a+"|"+pod] = pod
			}
		}
	}
	if r.live {
		for svc, addrs := range now {
			before := r.j.endpoints[svc]
			for _, a := range sortedKeys(addrs) {
				if _, ok := before[a]; !ok {
					r.endpoint(svc, a, addrs[a], true)
				}
			}
		}
		for svc, before := range r.j.endpoints {
			for _, a := range sortedKeys(before) {
				if _, ok := now[svc][a]; !ok {
					r.endpoint(svc, a, before[a], false)
				}
			}
		}
	}
	r.j.endpoints = now
}

func (r *reading) endpoint(svc, addrPod, pod string, added bool) {
	addr, _, _ := strings.Cut(addrPod, "|")
	verb, prep, subject := "added", " to service ", pod
	if !added {
		verb, prep, subject = "removed", " from service ", pod+"~"
	}
	item := addr
	if pod != "" {
		item += " (" + pod + ")"
	}
	r.add(&fact{key: fmt.Sprintf("ep|%s|%s|%s|%d", svc, addrPod, verb, r.seen.UnixNano()), time: r.seen, actor: "endpointslice controller",
		text: verb + " " + item + prep + svc, rank: rankEndpoints, subject: subject,
		mergeKey: "ep|" + verb + "|" + svc, head: verb, item: item, tail: prep + svc})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
