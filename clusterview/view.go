// Package clusterview turns the Kubernetes objects of a lab namespace into
// what the cluster map draws: nodes with their pods, services and where
// their endpoints point, rollouts in progress. It knows the API types; the
// TUI only draws its result.
package clusterview

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/k8slab/k8slab/internal/kube"
)

// View is what the cluster map draws: nodes with their pods, the
// services and where their endpoints point, and rollouts in progress.
type View struct {
	Nodes    []Node
	Services []Service
	Rollouts []Rollout
	// Pending are the pods no node runs yet: not scheduled, with why.
	Pending []Pod
}

// Node is one node and the lab's pods on it.
type Node struct {
	Name  string
	Role  string
	Ready bool
	Pods  []Pod
}

// Pod is one pod as the map shows it.
type Pod struct {
	Name        string
	Ready       bool
	Terminating bool
	Phase       string
	// Revision is the deployment revision of the pod's ReplicaSet ("" when
	// it has none); Newest marks the deployment's current one.
	Revision string
	Newest   bool
	// Problem is why a container of the pod is not running
	// (ImagePullBackOff, CrashLoopBackOff, ...), from its waiting state.
	Problem string
	// NotReady is a pod whose containers all run but which is not ready:
	// its readiness probe fails.
	NotReady bool
	// Unscheduled says why a pod has no node (the scheduler's message).
	Unscheduled string
}

// Service is a service and the pods its endpoints point at.
type Service struct {
	Name      string
	Type      string
	Endpoints []string
}

// Rollout counts a deployment's pods by revision.
type Rollout struct {
	Deployment string
	Desired    int
	NewReady   int
	New        int
	Old        int
	Revision   string
}

// Build turns API objects into a view. Pods without a node (not
// scheduled yet) are listed apart, as they have no box to sit in.
func Build(nodes []corev1.Node, pods []corev1.Pod, rss []appsv1.ReplicaSet, deps []appsv1.Deployment, svcs []corev1.Service, slices []discoveryv1.EndpointSlice) View {
	var v View
	revisionOfRS := map[string]string{}
	newestRS := map[string]bool{}
	newestOf := map[string]string{}
	for _, rs := range rss {
		revisionOfRS[rs.Name] = rs.Annotations[kube.RevisionAnnotation]
	}
	for i := range deps {
		if rs := kube.NewestReplicaSet(&deps[i], rss); rs != nil {
			newestRS[rs.Name] = true
			newestOf[deps[i].Name] = revisionOfRS[rs.Name]
		}
	}
	byNode := map[string][]Pod{}
	for _, p := range pods {
		pv := Pod{Name: p.Name, Phase: string(p.Status.Phase), Terminating: p.DeletionTimestamp != nil}
		pv.Ready = kube.PodReady(&p)
		if rs := kube.ReplicaSetOf(&p); rs != "" {
			pv.Revision, pv.Newest = revisionOfRS[rs], newestRS[rs]
		}
		pv.Problem, pv.NotReady = containerState(&p, pv.Ready)
		if p.Spec.NodeName == "" {
			pv.Unscheduled = "not scheduled yet"
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
					pv.Unscheduled = c.Message
				}
			}
			v.Pending = append(v.Pending, pv)
			continue
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], pv)
	}
	sort.Slice(v.Pending, func(i, j int) bool { return v.Pending[i].Name < v.Pending[j].Name })
	for _, n := range nodes {
		nv := Node{Name: n.Name, Role: kube.NodeRole(&n), Ready: kube.NodeReady(&n), Pods: byNode[n.Name]}
		sort.Slice(nv.Pods, func(i, j int) bool { return nv.Pods[i].Name < nv.Pods[j].Name })
		v.Nodes = append(v.Nodes, nv)
	}
	sort.Slice(v.Nodes, func(i, j int) bool { return v.Nodes[i].Name < v.Nodes[j].Name })
	for _, s := range svcs {
		sv := Service{Name: s.Name, Type: string(s.Spec.Type)}
		for _, es := range slices {
			if es.Labels[discoveryv1.LabelServiceName] != s.Name {
				continue
			}
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				if ep.TargetRef != nil {
					sv.Endpoints = append(sv.Endpoints, ep.TargetRef.Name)
				} else if len(ep.Addresses) > 0 {
					sv.Endpoints = append(sv.Endpoints, ep.Addresses[0])
				}
			}
		}
		sort.Strings(sv.Endpoints)
		v.Services = append(v.Services, sv)
	}
	sort.Slice(v.Services, func(i, j int) bool { return v.Services[i].Name < v.Services[j].Name })
	for _, d := range deps {
		rv := Rollout{Deployment: d.Name, Desired: 1, Revision: newestOf[d.Name]}
		if d.Spec.Replicas != nil {
			rv.Desired = int(*d.Spec.Replicas)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			continue
		}
		for _, p := range pods {
			if !sel.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil {
				continue
			}
			if newestRS[kube.ReplicaSetOf(&p)] {
				rv.New++
				if kube.PodReady(&p) {
					rv.NewReady++
				}
			} else {
				rv.Old++
			}
		}
		v.Rollouts = append(v.Rollouts, rv)
	}
	sort.Slice(v.Rollouts, func(i, j int) bool { return v.Rollouts[i].Deployment < v.Rollouts[j].Deployment })
	return v
}

// containerState reads why a pod's containers do not run (the first
// waiting reason other than the ordinary ContainerCreating), and whether
// they all run without the pod being ready, which is a failing readiness
// probe.
func containerState(p *corev1.Pod, ready bool) (problem string, notReady bool) {
	running := len(p.Status.ContainerStatuses) > 0
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && problem == "" {
			problem = w.Reason
		}
		if c.State.Running == nil {
			running = false
		}
	}
	return problem, running && !ready && p.DeletionTimestamp == nil
}
