package workshop

import (
	"fmt"
	"slices"
	"sort"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Access is what a workshop's labs need beyond the learner's own
// namespaces, and what a learner cannot do at all.
type Access struct {
	// ClusterRead are cluster-scoped resources the checks read (nodes):
	// learners get read-only access through a ClusterRole.
	ClusterRead []schema.GroupVersionResource
	// NamespaceRead are resources the checks read in namespaces outside
	// the learner's (pods in kube-system): read-only Roles there.
	NamespaceRead map[string][]schema.GroupVersionResource
	// Restricted are tasks that need cluster-wide write rights; learners
	// cannot do them in a workshop, and status does not grade them.
	Restricted []Restricted
	// SetupClusterObjects are cluster-scoped kinds (volumes) labs' setups
	// make for a lab namespace. A learner may get only their own, by
	// name (OwnClusterObjects): listing them would show every learner's
	// namespace, and with a roster the class's names.
	SetupClusterObjects []schema.GroupVersionResource
}

// Restricted is a task a workshop learner cannot do.
type Restricted struct {
	Lab, Task string
	Reason    string
}

func (r Restricted) String() string {
	return fmt.Sprintf("lab %s, task %s: %s", r.Lab, r.Task, r.Reason)
}

// placeholder stands for the learner's namespace while analysing what
// checks read.
const placeholder = "k8slab-placeholder-namespace"

// Analyse works out the access a set of labs needs.
func Analyse(labs []*labfile.Lab) Access {
	a := Access{NamespaceRead: map[string][]schema.GroupVersionResource{}}
	for _, lab := range labs {
		// What the setup made outside the namespace (a volume), the
		// learner may read: a reset then says plainly when only the
		// instructor can make it anew.
		for _, r := range labenv.ClusterScopedResources(lab) {
			a.SetupClusterObjects = addGVR(a.SetupClusterObjects, r)
		}
		for i := range lab.Tasks {
			task := &lab.Tasks[i]
			if slices.Contains(task.Features, labfile.ClusterWide) {
				a.Restricted = addRestricted(a.Restricted, Restricted{Lab: lab.ID, Task: task.ID,
					Reason: "it changes cluster-wide objects (it declares cluster-wide), which a workshop learner may not; demonstrate it"})
			}
			if slices.Contains(lab.Needs(task), labfile.NodePortFromHost) {
				a.Restricted = addRestricted(a.Restricted, Restricted{Lab: lab.ID, Task: task.ID,
					Reason: "it reaches a NodePort from the machine that runs the cluster (it declares nodeport-from-host), where a workshop learner is not; demonstrate it"})
			}
			for _, n := range checks.Needs(lab, placeholder, []string{task.ID}) {
				switch n.Namespace {
				case placeholder:
				case "":
					a.ClusterRead = addGVR(a.ClusterRead, n.Resource)
					if task.Question == nil {
						// A task graded on cluster-scoped objects asks the
						// learner to change them.
						a.Restricted = addRestricted(a.Restricted, Restricted{Lab: lab.ID, Task: task.ID,
							Reason: fmt.Sprintf("it changes cluster-wide %s, which a workshop learner may not; demonstrate it, or adapt the lab", n.Resource.Resource)})
					}
				default:
					a.NamespaceRead[n.Namespace] = addGVR(a.NamespaceRead[n.Namespace], n.Resource)
				}
			}
		}
	}
	return a
}

func addGVR(list []schema.GroupVersionResource, g schema.GroupVersionResource) []schema.GroupVersionResource {
	if slices.Contains(list, g) {
		return list
	}
	list = append(list, g)
	sort.Slice(list, func(i, j int) bool { return list[i].String() < list[j].String() })
	return list
}

func addRestricted(list []Restricted, r Restricted) []Restricted {
	for _, x := range list {
		if x.Lab == r.Lab && x.Task == r.Task {
			return list
		}
	}
	return append(list, r)
}

// IsRestricted reports whether a learner cannot do the task.
func (a Access) IsRestricted(lab, task string) bool {
	for _, r := range a.Restricted {
		if r.Lab == lab && r.Task == task {
			return true
		}
	}
	return false
}

// OwnClusterObjects are the rules that let a learner get, by name, the
// cluster-scoped objects the labs' setups make for their lab namespaces
// (a volume the storage lab provides): enough for a lab start or reset to
// see that a volume was released and say so, while the names of other
// learners' volumes (and so their namespaces) stay hidden.
func OwnClusterObjects(workshop, learner string, labs []*labfile.Lab) []rbacv1.PolicyRule {
	names := map[schema.GroupVersionResource][]string{}
	for _, lab := range labs {
		if !labenv.HasClusterScopedSetup(lab) {
			continue
		}
		objs, err := labenv.SetupObjects(lab, LabNamespace(workshop, learner, lab.ID))
		if err != nil {
			continue
		}
		for _, o := range objs {
			k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind())
			if err != nil || k.Namespaced {
				continue
			}
			if !slices.Contains(names[k.GVR], o.GetName()) {
				names[k.GVR] = append(names[k.GVR], o.GetName())
			}
		}
	}
	gvrs := make([]schema.GroupVersionResource, 0, len(names))
	for g := range names {
		gvrs = append(gvrs, g)
	}
	sort.Slice(gvrs, func(i, j int) bool { return gvrs[i].String() < gvrs[j].String() })
	var rules []rbacv1.PolicyRule
	for _, g := range gvrs {
		sort.Strings(names[g])
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g.Group}, Resources: []string{g.Resource}, ResourceNames: names[g], Verbs: []string{"get"}})
	}
	return rules
}
