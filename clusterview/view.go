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
// scheduled yet) are left out, as they have no box to sit in.
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
		if p.Spec.NodeName == "" {
			continue
		}
		pv := Pod{Name: p.Name, Phase: string(p.Status.Phase), Terminating: p.DeletionTimestamp != nil}
		pv.Ready = kube.PodReady(&p)
		if rs := kube.ReplicaSetOf(&p); rs != "" {
			pv.Revision, pv.Newest = revisionOfRS[rs], newestRS[rs]
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], pv)
	}
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
