package timeline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/k8slab/k8slab/internal/textsafe"
)

// What people wrote to Deployments and Services, read from their
// managedFields, and how a write is told.

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
	readBefore := rvOf(r.j.rv[u.GetUID()])
	if r.behind(u) || !r.changed(u) {
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
			if r.live {
				text += " (" + describe(cur.values) + ")"
			}
			m := writes[0]
			for _, w := range writes {
				if !w.time.IsZero() { // untimed /scale records sort first
					m = w
					break
				}
			}
			r.add(&fact{key: "create|" + string(uid), time: created, rv: r.rvAt("obj|" + string(uid)), starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: text})
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
	// The write is the state where the spec, as marked, first was.
	var spec uint64
	if kind == "deployment" {
		spec = r.rvAt(fmt.Sprintf("spec|%s|%d", uid, u.GetGeneration()))
	} else {
		spec = r.rvAt("spec|" + string(uid) + "|" + describe(cur.values))
	}
	if r.live && r.j.v != nil && spec <= readBefore {
		// A change the marks do not tell (a Service's label): it was
		// written since the last read, at the latest now.
		spec = rvOf(u.GetResourceVersion())
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
		r.add(&fact{key: keyOf(m), time: at(m), rv: spec, starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: changeText(obj, prev.values, cur.values)})
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
		r.add(&fact{key: key, time: at(m), rv: spec, starts: true, actor: actorOf(m), manager: m.manager, object: obj, text: changeText(obj, prev.values, cur.values)})
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
