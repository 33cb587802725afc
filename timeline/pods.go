package timeline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// What the control plane did to pods and endpoints, read from their
// status and from EndpointSlices.

// pod reads what the kubelet and the scheduler recorded in a pod's
// status, and a pod that is going away.
func (r *reading) pod(u *unstructured.Unstructured) {
	if r.behind(u) || !r.changed(u) {
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
			r.add(&fact{key: "ready|" + string(uid) + "|" + at.String(), time: at, rv: r.rvAt("ready|" + string(uid)), actor: kubelet, text: name + " ready",
				rank: rankReady, subject: name, mergeKey: "kubelet|" + name, head: name, item: "ready", kind: KindStart})
		case "PodScheduled":
			if node == "" {
				continue
			}
			r.add(&fact{key: "sched|" + string(uid), time: at, rv: r.rvAt("sched|" + string(uid)), actor: "scheduler", text: "placed " + name + " on " + node,
				rank: rankSchedule, subject: name, replacedBy: "scheduled|" + name, kind: KindSchedule})
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
		r.deleted(uid, name, ps, at, r.rvAt("deleting|"+string(uid)))
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
	r.add(&fact{key: "podc|" + string(u.GetUID()), time: u.GetCreationTimestamp().Time, rv: r.rvAt("obj|" + string(u.GetUID())), starts: true, actor: actor, manager: manager, object: obj, text: "created " + obj})
}

// deleted records a pod going away: the replicaset controller's own
// deletes have an event; the garbage collector removes the pods of a
// ReplicaSet that is gone; any other delete was a person's (a delete
// records no field manager).
func (r *reading) deleted(uid types.UID, name string, ps *podSummary, at time.Time, rv uint64) {
	if ps.replicaSet != "" && !r.replicaSets[ps.replicaSet] {
		r.add(&fact{key: "del|" + string(uid), time: at, rv: rv, actor: "garbage collector", text: "removed " + name + " (its replicaset is gone)",
			rank: rankPods, subject: name + "~", replacedBy: "deleted|" + name, kind: KindCollect})
		return
	}
	r.add(&fact{key: "del|" + string(uid), time: at, rv: rv, starts: true, actor: "you", object: "pod/" + name, text: "deleted pod " + name,
		replacedBy: "deleted|" + name})
}

// gone handles objects that left the state since the last Update.
func (r *reading) gone() {
	for uid, s := range r.j.objects {
		if r.present[uid] {
			continue
		}
		gone := r.rvAt("gone|" + string(uid))
		if r.live && r.j.v != nil && gone == 0 {
			// Its deletion is not observed yet: the next update,
			// which that observation brings, places it.
			r.present[uid] = true
			continue
		}
		delete(r.j.objects, uid)
		delete(r.j.rv, uid)
		switch {
		case s.pod != nil:
			if !s.pod.deleting {
				// A graceful delete began when the pod was marked
				// deleting, which the watch saw though no read did:
				// what the delete caused came after that, not after
				// the pod was finally removed.
				at := gone
				if d := r.rvAt("deleting|" + string(uid)); d > 0 {
					at = d
				}
				r.deleted(uid, s.name, s.pod, r.seen, at)
			}
		case r.live:
			obj := s.kind + "/" + s.name
			r.add(&fact{key: "gone|" + string(uid), time: r.seen, rv: gone, starts: true, actor: "you", object: obj, text: "deleted " + obj})
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
	for i := range items {
		u := &items[i]
		if r.behind(u) {
			// Compared once all are observed, so that each address
			// that came or went is placed by resourceVersion.
			for j := range items {
				r.present[items[j].GetUID()] = true
			}
			return
		}
	}
	now := map[string]map[string]string{}
	for i := range items {
		u := &items[i]
		r.present[u.GetUID()] = true
		r.j.rv[u.GetUID()] = u.GetResourceVersion()
		svc := u.GetLabels()["kubernetes.io/service-name"]
		if svc == "" {
			continue
		}
		if now[svc] == nil {
			now[svc] = map[string]string{}
		}
		for _, a := range readyAddresses(u) {
			_, pod, _ := strings.Cut(a, "|")
			now[svc][a] = pod
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

// readyAddresses are a slice's ready endpoints, each as "address|pod":
// the same address may come back on another pod.
func readyAddresses(u *unstructured.Unstructured) []string {
	var out []string
	eps, _, _ := unstructured.NestedSlice(u.Object, "endpoints")
	for _, e := range eps {
		m, _ := e.(map[string]any)
		if ready, ok, _ := unstructured.NestedBool(m, "conditions", "ready"); ok && !ready {
			continue
		}
		addrs, _, _ := unstructured.NestedStringSlice(m, "addresses")
		pod, _, _ := unstructured.NestedString(m, "targetRef", "name")
		for _, a := range addrs {
			out = append(out, a+"|"+pod)
		}
	}
	return out
}

func (r *reading) endpoint(svc, addrPod, pod string, added bool) {
	addr, _, _ := strings.Cut(addrPod, "|")
	verb, prep, subject, kind := "added", " to service ", pod, KindServe
	if !added {
		verb, prep, subject, kind = "removed", " from service ", pod+"~", KindUnserve
	}
	item := addr
	if pod != "" {
		item += " (" + pod + ")"
	}
	rv := r.rvAt("ep|" + svc + "|" + addrPod)
	if !added {
		rv = r.rvEnded("ep|" + svc + "|" + addrPod)
	}
	r.add(&fact{key: fmt.Sprintf("ep|%s|%s|%s|%d", svc, addrPod, verb, r.seen.UnixNano()), time: r.seen, rv: rv, actor: "endpointslice controller",
		text: verb + " " + item + prep + svc, rank: rankEndpoints, subject: subject,
		mergeKey: "ep|" + verb + "|" + svc, head: verb, item: item, tail: prep + svc, kind: kind})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
