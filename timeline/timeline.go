// Package timeline tells what the cluster did after each change the
// learner made: who wrote what (metadata.managedFields), what the
// controllers, the scheduler and the kubelet did next (Events, pod
// conditions) and how a Service's endpoints moved (EndpointSlices),
// grouped per learner action and in causal order. It reads objects only;
// the lab screen and 'k8slab lab explain' draw its result.
package timeline

import (
	"sort"
	"strings"
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
	// rv is the write's resourceVersion, when followed live.
	rv uint64
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
	// Kind says what sort of step it is, for the course's note on why
	// it happens (assets/course/timeline.yaml); "" for none.
	Kind string `json:"kind,omitempty"`
	// Why is the course's sentence on why such a step happens, and
	// Lesson the title of the lesson that teaches it (see Annotate).
	Why    string `json:"why,omitempty"`
	Lesson string `json:"lesson,omitempty"`
}

// Annotate gives each step the course's note on its kind: note returns
// the why and the lesson's title ("" for none).
func Annotate(acts []Action, note func(kind string) (why, lesson string)) {
	for i := range acts {
		for k := range acts[i].Steps {
			st := &acts[i].Steps[k]
			if st.Kind != "" {
				st.Why, st.Lesson = note(st.Kind)
			}
		}
	}
}

// The kinds of step a timeline tells; the course may explain each.
const (
	KindRollout       = "rollout-replicaset" // a ReplicaSet scaled up from 0
	KindScale         = "scale-replicaset"
	KindPods          = "replicaset-pods" // a ReplicaSet created or deleted pods
	KindSchedule      = "schedule"
	KindUnschedulable = "unschedulable"
	KindStart         = "start" // the kubelet pulled, started, readied
	KindStop          = "stop"
	KindPullFailed    = "pull-failed"
	KindCrashLoop     = "crash-loop"
	KindProbeFailed   = "probe-failed"
	KindServe         = "serve"
	KindUnserve       = "unserve"
	KindCollect       = "garbage-collect"
)

// Kinds are every kind of step a timeline tells.
var Kinds = []string{KindRollout, KindScale, KindPods, KindSchedule, KindUnschedulable, KindStart, KindStop,
	KindPullFailed, KindCrashLoop, KindProbeFailed, KindServe, KindUnserve, KindCollect}

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
	// rv places the fact among the writes: a write's own
	// resourceVersion, or one the fact happened at or after (what the
	// controller reacted to) and before the next write. 0: unknown, the
	// clocks place it.
	rv uint64
	// starts marks a write by a person: it begins an action.
	starts  bool
	actor   string
	manager string
	// object is what a starting write wrote, to merge one apply of
	// several objects into one action.
	object string
	text   string
	kind   string
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
// A fact follows the latest write before it happened. Writes followed
// live carry their resourceVersion, and so do the facts after them:
// those are placed by it, whatever delays the watches had. Facts read
// after the fact are placed by the clocks. Steps are ordered by when
// they happened, on the recording component's clock where it is precise
// (events reach the API server asynchronously, up to seconds after the
// fact, so when k8slab saw them says little).
func build(facts []*fact, n int) []Action {
	present := map[string]bool{}
	for _, f := range facts {
		if f.provides != "" {
			present[f.provides] = true
		}
	}
	// Facts read after the fact, with the writes so read, are placed
	// by the clocks; the rest by resourceVersion, after the first write
	// that has one.
	var kept []*fact
	var firstLive uint64
	for _, f := range facts {
		if f.replacedBy != "" && present[f.replacedBy] {
			continue
		}
		kept = append(kept, f)
		if f.starts && f.rv > 0 && (firstLive == 0 || f.rv < firstLive) {
			firstLive = f.rv
		}
	}
	var old, live []*fact
	for _, f := range kept {
		if firstLive > 0 && f.rv >= firstLive {
			live = append(live, f)
		} else {
			old = append(old, f)
		}
	}
	groups := byClock(old)
	for _, g := range byVersion(live) {
		if cur := last(groups); cur != nil && cur.base != nil && g.base != nil && merges(cur, g.base) {
			cur.join(g.base)
			cur.followers = append(cur.followers, g.followers...)
			continue
		}
		groups = append(groups, g)
	}
	if n > 0 && len(groups) > n {
		groups = groups[len(groups)-n:]
	}
	out := make([]Action, 0, len(groups))
	for _, g := range groups {
		sortBy(g.followers, (*fact).happened)
		chains(g.followers)
		a := g.act
		var merge []string
		var items [][]string
		var prev time.Duration
		for _, f := range g.followers {
			off, precise := offset(g.base, f)
			// A step is not shown before what caused it: the records
			// are late by different amounts.
			off = max(off, prev, 0)
			prev = off
			if k := len(a.Steps); k > 0 && f.mergeKey != "" && merge[k-1] == f.mergeKey && a.Steps[k-1].Actor == f.actor {
				items[k-1] = append(items[k-1], f.item)
				a.Steps[k-1].Text = f.head + " " + strings.Join(items[k-1], ", ") + f.tail
				continue
			}
			a.Steps = append(a.Steps, Step{Offset: off, Precise: precise, Time: f.happened(), Actor: f.actor, Text: f.text, Kind: f.kind})
			merge = append(merge, f.mergeKey)
			items = append(items, []string{f.item})
		}
		out = append(out, a)
	}
	return out
}

// group is one action being built: the write that began it and what
// followed.
type group struct {
	base      *fact
	act       Action
	followers []*fact
	objects   map[string]bool
}

func newGroup(f *fact) *group {
	// The time shown is when k8slab saw the write, unless the server's
	// record (to the second) says it was seen late.
	at := f.eff()
	if !f.time.IsZero() && at.Sub(f.time) > time.Second {
		at = f.time
	}
	return &group{base: f, act: Action{Time: at, Actor: f.actor, Manager: f.manager, Text: f.text, rv: f.rv}, objects: map[string]bool{f.object: true}}
}

func last(gs []*group) *group {
	if len(gs) == 0 {
		return nil
	}
	return gs[len(gs)-1]
}

// merges says whether write f is part of g's: one apply or setup of
// several objects is one action. The server records both to the second.
func merges(g *group, f *fact) bool {
	d := f.time.Truncate(time.Second).Sub(g.base.time.Truncate(time.Second))
	return g.base.starts && f.actor == g.base.actor && d >= 0 && d <= time.Second && !g.objects[f.object]
}

func (g *group) join(f *fact) {
	g.act.Text += ", " + f.text
	g.objects[f.object] = true
}

// byClock groups facts in the order the clocks give: each follows the
// latest write before it.
func byClock(fs []*fact) []*group {
	sortBy(fs, (*fact).assignAt)
	var groups []*group
	for _, f := range fs {
		cur := last(groups)
		if f.starts {
			if cur != nil && len(cur.followers) == 0 && merges(cur, f) && f.eff().Sub(cur.base.eff()) <= time.Second {
				cur.join(f)
				continue
			}
			groups = append(groups, newGroup(f))
			continue
		}
		if cur == nil {
			cur = &group{base: f, act: Action{Time: f.eff(), Text: "before any change k8slab can attribute"}, objects: map[string]bool{}}
			groups = append(groups, cur)
		}
		cur.followers = append(cur.followers, f)
	}
	return groups
}

// byVersion groups facts by resourceVersion: each follows the latest
// write at or before its own. All have one, and the earliest is a write.
func byVersion(fs []*fact) []*group {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.rv != b.rv {
			return a.rv < b.rv
		}
		if a.starts != b.starts {
			return a.starts
		}
		return a.key < b.key
	})
	var groups []*group
	for _, f := range fs {
		if f.starts {
			groups = append(groups, newGroup(f))
			continue
		}
		cur := last(groups)
		if cur == nil { // cannot be: the first is a write
			cur = &group{base: f, act: Action{Time: f.eff(), Text: "before any change k8slab can attribute"}, objects: map[string]bool{}}
			groups = append(groups, cur)
		}
		cur.followers = append(cur.followers, f)
	}
	return groups
}

// seenLag is how much earlier than k8slab saw it a write may have
// happened: the watch of one resource may deliver later than another's,
// so a controller's precisely timed reaction can predate the sight of
// the write that caused it.
const seenLag = time.Second

// assignAt is when a fact happened for deciding which write it follows.
func (f *fact) assignAt() time.Time {
	if f.starts && !f.seen.IsZero() {
		t := f.seen.Add(-seenLag)
		if floor := f.time.Truncate(time.Second); t.Before(floor) {
			t = floor
		}
		return t
	}
	return f.happened()
}

// happened is when a fact happened as best known: the recording
// component's precise clock, else when k8slab saw it, else the server's
// record to the second.
func (f *fact) happened() time.Time {
	if f.precise {
		return f.time
	}
	return f.eff()
}

// sortBy orders facts by at, writes first on a tie, then by rank. A fact
// only known to the second is compared to the second: within it,
// causality (rank) decides.
func sortBy(fs []*fact, at func(*fact) time.Time) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		ta, tb := at(a), at(b)
		if !a.precise && a.seen.IsZero() || !b.precise && b.seen.IsZero() {
			ta, tb = ta.Truncate(time.Second), tb.Truncate(time.Second)
		}
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if a.starts != b.starts {
			return a.starts
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return a.key < b.key
	})
}

// chains puts each pod's own steps within one action in causal order
// (created, placed, pulled, started, ready, served) where the clocks
// disagree.
func chains(fs []*fact) {
	positions := map[string][]int{}
	for i, f := range fs {
		if f.subject != "" {
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

// offset is the time from an action's write to a later fact, measured on
// one clock: k8slab's when it saw both, else the server's records.
func offset(base, f *fact) (time.Duration, bool) {
	if !base.seen.IsZero() && (!f.seen.IsZero() || f.precise) {
		return f.happened().Sub(base.seen), true
	}
	return f.time.Sub(base.time), base.precise && f.precise
}
