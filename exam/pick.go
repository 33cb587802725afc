// Package exam is k8slab's practice exam, apart from any screen: which
// tasks an exam asks (picked from a seed, so it can be taken again), its
// clock, how it is graded, and the result and its exports. The TUI and
// the headless command both drive it; starting labs and reading the
// cluster stay with labenv and checks.
package exam

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/k8slab/k8slab/labfile"
)

// Item is one task of an exam, in the lab it belongs to.
type Item struct {
	Lab  *labfile.Lab
	Task *labfile.Task
}

// Key names the item as exports and progress do: LAB/TASK.
func (it Item) Key() string { return it.Lab.ID + "/" + it.Task.ID }

// Plan is a picked exam: its tasks in the order they are shown.
type Plan struct {
	Seed int64
	// Workshop names the workshop whose instructor set the exam
	// ('k8slab workshop exam'), which only the instructor can set again;
	// "" for an exam the learner picked.
	Workshop string
	Items    []Item
	// Labs are the labs the tasks come from, in the order first shown.
	Labs []*labfile.Lab
}

// Pick chooses n tasks of labs for an exam, reproducibly from seed.
//
// Tasks of a lab build on each other (scaling needs the deployment an
// earlier task made), and lab files do not say which do; so an exam takes
// each lab's tasks from its start, never a later task without the ones
// before it. Each pick chooses a lab at random, weighted by the points of
// the lab's next task, and takes that task. The order shown is random
// too, except that a lab's tasks keep their order among themselves.
//
// Question tasks are left out: they ask about the cluster rather than
// change it, so no later task needs them. So is every task from the
// first one that needs a feature the cluster lacks (lacks), since later
// tasks may build on it.
func Pick(labs []*labfile.Lab, n int, seed int64, lacks []labfile.Feature) (Plan, error) {
	if len(labs) == 0 {
		return Plan{}, fmt.Errorf("an exam needs at least one lab")
	}
	if n < 1 {
		return Plan{}, fmt.Errorf("--tasks %d: an exam asks at least one task", n)
	}
	pools := make([][]*labfile.Task, len(labs))
	total := 0
	for i, lab := range labs {
		pools[i] = Usable(lab, lacks)
		total += len(pools[i])
	}
	if n > total {
		return Plan{}, fmt.Errorf("--tasks %d: labs %s have %d tasks an exam can ask on this cluster; ask for fewer or add labs", n, labIDs(labs), total)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b38736c6162))
	taken := make([]int, len(labs))
	var order []int // the lab of each pick
	for range n {
		weight := 0
		for i, p := range pools {
			if taken[i] < len(p) {
				weight += points(p[taken[i]])
			}
		}
		r := rng.IntN(weight)
		for i, p := range pools {
			if taken[i] >= len(p) {
				continue
			}
			if r -= points(p[taken[i]]); r < 0 {
				taken[i]++
				order = append(order, i)
				break
			}
		}
	}
	// Shuffling the labs of the picks, then giving each lab's slots its
	// tasks in order, mixes the labs and keeps each lab's own order.
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	next := make([]int, len(labs))
	plan := Plan{Seed: seed}
	seen := map[int]bool{}
	for _, i := range order {
		plan.Items = append(plan.Items, Item{Lab: labs[i], Task: pools[i][next[i]]})
		next[i]++
		if !seen[i] {
			seen[i] = true
			plan.Labs = append(plan.Labs, labs[i])
		}
	}
	return plan, nil
}

// Usable are the tasks of lab an exam may ask on a cluster that lacks
// lacks, in the lab's order (see Pick).
func Usable(lab *labfile.Lab, lacks []labfile.Feature) []*labfile.Task {
	var out []*labfile.Task
	for i := range lab.Tasks {
		t := &lab.Tasks[i]
		if len(lab.Lacking(t, lacks)) > 0 {
			break
		}
		if t.Question == nil {
			out = append(out, t)
		}
	}
	return out
}

func points(t *labfile.Task) int { return max(1, t.Points) }

func labIDs(labs []*labfile.Lab) string {
	ids := make([]string, len(labs))
	for i, l := range labs {
		ids[i] = l.ID
	}
	return strings.Join(ids, ",")
}

// TaskIDs are the plan's tasks of lab, in the lab's order.
func (p Plan) TaskIDs(lab string) []string {
	var out []string
	for _, it := range p.Items {
		if it.Lab.ID == lab {
			out = append(out, it.Task.ID)
		}
	}
	return out
}

// MaxScore is what the exam's tasks are worth.
func (p Plan) MaxScore() int {
	n := 0
	for _, it := range p.Items {
		n += it.Task.Points
	}
	return n
}
