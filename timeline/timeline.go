// Package timeline tells what the cluster did after each change the
// learner made: who wrote what (metadata.managedFields), what the
// controllers, the scheduler and the kubelet did next (Events, pod
// conditions) and how a Service's endpoints moved (EndpointSlices),
// grouped per learner action and in causal order. It reads objects only;
// the lab screen and 'k8slab lab explain' draw its result.
package timeline

import (
	"sort"
	"time"
)

// Action is one change a person made (the learner, or the lab's setup)
// and what the cluster did because of it.
type Action struct {
	// Time is when the change was written: the server's record (to the
	// second), or when k8slab saw it, whichever is finer.
	Time time.Time `json:"time"`
	// Actor is who made the change in plain words: "you (kubectl-scale)".
	Actor string `json:"actor"`
	// Manager is the field manager the write was recorded under ("" for
	// a delete, which records none).
	Manager string `json:"manager,omitempty"`
	Text    string `json:"text"`
	Steps   []Step `json:"steps"`

	// merge and items hold, while building, what each step may merge
	// with.
	merge []string
	items [][]string
}

// Step is one thing the cluster did after an action.
type Step struct {
	// Offset is the time since the action; Precise says it is measured
	// finer than the second (both ends seen by k8slab, or recorded to the
	// microsecond).
	Offset  time.Duration `json:"offset"`
	Precise bool          `json:"precise"`
	Time    time.Time     `json:"time"`
	// Actor is who did it in plain words: "scheduler", "kubelet on w1".
	Actor string `json:"actor"`
	Text  string `json:"text"`
}

// DefaultActions is how many actions a timeline keeps.
const DefaultActions = 20

// fact is one thing the cluster records, before grouping.
type fact struct {
	// key identifies the record, so that reading the same state again
	// adds nothing.
	key string
	// time is the server's record; precise when finer than the second.
	time    time.Time
	precise bool
	// seen is when k8slab saw the record appear (zero when it was there
	// before k8slab looked).
	seen time.Time
	// starts marks a write by a person: it begins an action.
	starts  bool
	actor   string
	manager string
	// object is what a starting write wrote, to merge one apply of
	// several objects into one action.
	object string
	text   string
	// rank orders what happens within one step of a chain: a controller
	// scales, pods are created, placed, pulled, started, ready, served.
	rank int
	// subject is the pod a fact is about: a pod's own chain is kept in
	// rank order whatever the clocks say.
	subject string
	// mergeKey joins adjacent facts of one actor into one line: head
	// followed by each item ("created pods a, b"; "p pulled, started").
	mergeKey, head, item, tail string
	// replacedBy names a fact that, when present, makes this one
	// redundant (the Scheduled event over the PodScheduled condition).
	replacedBy string
	// provides is what this fact makes redundant ("scheduled|POD").
	provides string
}

const (
	rankWrite = iota
	rankScale
	rankPods
	rankSchedule
	rankStop
	rankPull
	rankPulled
	rankCreated
	rankStarted
	rankReady
	rankEndpoints
)

// eff is when a fact happened for ordering: when k8slab saw it, else the
// server's record.
func (f *fact) eff() time.Time {
	if !f.seen.IsZero() {
		return f.seen
	}
	return f.time
}

// build groups facts into actions, oldest first, keeping the last n.
func build(facts []*fact, n int) []Action {
	present := map[string]bool{}
	for _, f := range facts {
		if f.provides != "" {
			present[f.provides] = true
		}
	}
	var fs []*fact
	for _, f := range facts {
		if f.replacedBy != "" && present[f.replacedBy] {
			continue
		}
		fs = append(fs, f)
	}
	order(fs)
	var out []Action
	var cur *Action
	var base *fact
	var lastObj map[string]bool
	for _, f := range fs {
		if f.starts {
			if cur != nil && base != nil && f.actor == base.actor && len(cur.Steps) == 0 &&
				f.eff().Sub(base.eff()) <= time.Second && !lastObj[f.object] {
				// One apply or setup of several objects is one action.
				cur.Text += ", " + f.text
				lastObj[f.object] = true
				continue
			}
			out = append(out, Action{Time: f.eff(), Actor: f.actor, Manager: f.manager, Text: f.text})
			cur, base = &out[len(out)-1], f
			lastObj = map[string]bool{f.object: true}
			continue
		}
		if cur == nil {
			out = append(out, Action{Time: f.eff(), Text: "before any change k8slab can attribute"})
			cur, base = &out[len(out)-1], f
			lastObj = map[string]bool{}
		}
		off, precise := offset(base, f)
		st := Step{Offset: off, Precise: precise, Time: f.eff(), Actor: f.actor, Text: f.text}
		if k := len(cur.Steps); k > 0 && f.mergeKey != "" && cur.merge[k-1] == f.mergeKey && cur.Steps[k-1].Actor == f.actor {
			cur.items[k-1] = append(cur.items[k-1], f.item)
			cur.Steps[k-1].Text = f.head + " " + joinItems(cur.items[k-1]) + f.tail
			continue
		}
		cur.Steps = append(cur.Steps, st)
		cur.merge = append(cur.merge, f.mergeKey)
		cur.items = append(cur.items, []string{f.item})
	}
	for i := range out {
		out[i].merge, out[i].items = nil, nil
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

func joinItems(items []string) string {
	s := ""
	for i, it := range items {
		if i > 0 {
			s += ", "
		}
		s += it
	}
	return s
}

// offset is the time from an action's write to a later fact, measured on
// one clock: k8slab's when it saw both, else the server's records.
func offset(base, f *fact) (time.Duration, bool) {
	if !base.seen.IsZero() && !f.seen.IsZero() {
		return f.seen.Sub(base.seen), true
	}
	return f.time.Sub(base.time), base.precise && f.precise
}

// order sorts facts by when they happened, writes first on a tie, then
// puts each pod's own facts in causal order (created, placed, pulled,
// started, ready, served): the records come from clocks of different
// precision and events are written asynchronously, so time alone can put
// "started" before "placed".
func order(fs []*fact) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		ta, tb := a.eff(), b.eff()
		if !a.precise && a.seen.IsZero() || !b.precise && b.seen.IsZero() {
			// One side is only known to the second: within that second,
			// causality decides.
			ta, tb = ta.Truncate(time.Second), tb.Truncate(time.Second)
		}
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return a.key < b.key
	})
	positions := map[string][]int{}
	for i, f := range fs {
		if f.subject != "" && !f.starts {
			positions[f.subject] = append(positions[f.subject], i)
		}
	}
	for _, pos := range positions {
		if len(pos) < 2 {
			continue
		}
		chain := make([]*fact, len(pos))
		for k, i := range pos {
			chain[k] = fs[i]
		}
		sort.SliceStable(chain, func(i, j int) bool { return chain[i].rank < chain[j].rank })
		for k, i := range pos {
			fs[i] = chain[k]
		}
	}
}
