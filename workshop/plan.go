// Package workshop runs instructor-led workshops on one shared cluster:
// it fences every learner into namespaces of their own (init), removes
// exactly what it made (delete), and grades the whole class live from
// one watch per resource kind (status).
package workshop

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// Labels on everything a workshop creates; delete finds objects by them.
const (
	WorkshopLabel = "k8slab.dev/workshop"
	LearnerLabel  = "k8slab.dev/learner"
	LabLabel      = labenv.LabLabel
)

// FieldManager is the name workshop writes appear under.
const FieldManager = "k8slab-workshop"

// LearnerAccount is the ServiceAccount each learner acts as, in their home
// namespace.
const LearnerAccount = "learner"

// Plan is a workshop: its name, its learners and the labs they do.
type Plan struct {
	Name     string
	Learners []string
	Labs     []*labfile.Lab
}

// LearnerIDs names n learners learner-01, learner-02, ... learner-100:
// numbers are never padded past two digits, so growing a class keeps
// every existing learner's name (and namespaces, and kubeconfig).
func LearnerIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("learner-%02d", i+1)
	}
	return ids
}

// ReadRoster reads learner names, one a line; blank lines and lines
// starting with # are skipped. Names become namespace-safe ids
// ("Ada Lovelace" → "ada-lovelace").
func ReadRoster(r io.Reader, file string) ([]string, error) {
	var ids []string
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id := learnerID(text)
		if id == "" {
			return nil, fmt.Errorf("%s:%d: %q has no letters or digits to name a learner by", file, line, text)
		}
		if prev, ok := seen[id]; ok {
			return nil, fmt.Errorf("%s:%d: %q is the same learner id (%s) as line %d; make the names differ", file, line, text, id, prev)
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no learners in it; write one name a line", file)
	}
	return ids, nil
}

func learnerID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// HomeNamespace holds a learner's ServiceAccount; the learner has no
// rights in it, so the account's tokens stay out of their reach.
func HomeNamespace(workshop, learner string) string {
	return workshop + "-" + learner
}

// LabNamespace is where a learner does a lab.
func LabNamespace(workshop, learner, lab string) string {
	return workshop + "-" + learner + "-" + lab
}

// The nodePorts a workshop gives its learners: 30080 (and below) stays
// for the instructor's own labs and the course text, and Kubernetes'
// default NodePort range ends at 32767.
const (
	nodePortFirst = 30100
	nodePortLast  = 32767
)

// NodePorts gives each learner's namespace of every lab that asks for a
// nodePort (labfile.NodePortPlaceholder) a port of its own, keyed by
// namespace: the k-th learner's, in the order of the class, for the labs
// in the order of their ids. The same plan gives the same ports, and a
// class grown at its end keeps everyone's; no two namespaces of the
// workshop share one. On a cluster, init allocates with AllocateNodePorts
// instead, around the ports others hold.
func (p Plan) NodePorts() map[string]int {
	ports, _ := p.AllocateNodePorts(nil, nil)
	return ports
}

// AllocateNodePorts is NodePorts on a cluster where some ports are
// already given: kept are the ports this workshop's namespaces hold (a
// re-init keeps them, as long as nobody else holds them too), taken the
// ports anything else holds (another workshop's namespaces, any Service's
// nodePort outside this workshop), keyed by port with who holds it. A
// namespace keeps its port; the others get the lowest free ones, in the
// order NodePorts uses, so on a cluster with nothing else the two agree.
// It fails when the range runs out, saying how many ports were free.
func (p Plan) AllocateNodePorts(kept map[string]int, taken map[int]string) (map[string]int, error) {
	var labs []string
	for _, lab := range p.Labs {
		if lab.UsesNodePort() {
			labs = append(labs, lab.ID)
		}
	}
	slices.Sort(labs)
	var order []string
	for _, learner := range p.Learners {
		for _, lab := range labs {
			order = append(order, LabNamespace(p.Name, learner, lab))
		}
	}
	return p.allocateNodePorts(order, kept, taken)
}

// allocateNodePorts gives each namespace of order a nodePort, as
// AllocateNodePorts says; a workshop exam gives its exam namespaces
// theirs this way too.
func (p Plan) allocateNodePorts(order []string, kept map[string]int, taken map[int]string) (map[string]int, error) {
	ports := map[string]int{}
	used := map[int]bool{}
	for port := range taken {
		used[port] = true
	}
	for _, ns := range order {
		if port, ok := kept[ns]; ok && !used[port] && port >= nodePortFirst && port <= nodePortLast {
			ports[ns] = port
			used[port] = true
		}
	}
	next := nodePortFirst
	for _, ns := range order {
		if _, ok := ports[ns]; ok {
			continue
		}
		for next <= nodePortLast && used[next] {
			next++
		}
		if next > nodePortLast {
			free, others := 0, map[int]string{}
			for port := nodePortFirst; port <= nodePortLast; port++ {
				if h, ok := taken[port]; ok {
					others[port] = h
				} else {
					free++
				}
			}
			held := ""
			if len(others) > 0 {
				held = fmt.Sprintf(" (%d are held by %s)", len(others), holders(others))
			}
			return nil, fmt.Errorf("%d learners need %d nodePorts (one per learner and lab that asks for one), but only %d are free from %d to %d%s; split the class into workshops on separate clusters, or leave those labs out with --labs",
				len(p.Learners), len(order), free, nodePortFirst, nodePortLast, held)
		}
		ports[ns] = next
		used[next] = true
	}
	return ports, nil
}

// holders names who holds ports, each once, at most three.
func holders(taken map[int]string) string {
	var names []string
	for _, h := range taken {
		if !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("and %d more", len(names)-3))
	}
	return strings.Join(names, ", ")
}

// Validate reports a plan whose names Kubernetes would refuse.
func (p Plan) Validate() error {
	if !ident.Valid(p.Name) || len(p.Name) > 30 {
		return fmt.Errorf("workshop name %q: use lowercase letters, digits and dashes, at most 30", p.Name)
	}
	if len(p.Learners) == 0 {
		return fmt.Errorf("the workshop has no learners; give --learners N or --roster FILE")
	}
	if len(p.Labs) == 0 {
		return fmt.Errorf("the course has no labs for a workshop")
	}
	if _, err := p.AllocateNodePorts(nil, nil); err != nil {
		return err
	}
	// Every namespace name must be one learner's: a home is
	// <workshop>-<learner> and a lab <workshop>-<learner>-<lab>, so
	// learners "sam" and "sam-pods" would share a namespace, and one could
	// act in (and mint tokens for) the other's.
	owner := map[string]string{}
	for _, l := range p.Learners {
		if !ident.Valid(l) {
			return fmt.Errorf("learner id %q: use lowercase letters, digits and dashes", l)
		}
		names := []string{HomeNamespace(p.Name, l)}
		for _, lab := range p.Labs {
			ns := LabNamespace(p.Name, l, lab.ID)
			if len(ns) > 63 {
				return fmt.Errorf("namespace %s for learner %s and lab %s is longer than the 63 characters Kubernetes allows; shorten the workshop name or the learner's name", ns, l, lab.ID)
			}
			names = append(names, ns)
		}
		for _, ns := range names {
			if other, ok := owner[ns]; ok && other != l {
				return fmt.Errorf("learners %s and %s would both get namespace %s (homes are %s-LEARNER, labs %s-LEARNER-LAB); rename one of them in the roster", other, l, ns, p.Name, p.Name)
			}
			owner[ns] = l
		}
	}
	return nil
}
