package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ClusterView is what the cluster map draws: nodes with their pods, the
// services and where their endpoints point, and rollouts in progress.
type ClusterView struct {
	Nodes    []NodeView
	Services []ServiceView
	Rollouts []RolloutView
}

// NodeView is one node and the lab's pods on it.
type NodeView struct {
	Name  string
	Role  string
	Ready bool
	Pods  []PodView
}

// PodView is one pod as the map shows it.
type PodView struct {
	Name        string
	Ready       bool
	Terminating bool
	Phase       string
	// Revision is the deployment revision of the pod's ReplicaSet ("" when
	// it has none); Newest marks the deployment's current one.
	Revision string
	Newest   bool
}

// ServiceView is a service and the pods its endpoints point at.
type ServiceView struct {
	Name      string
	Type      string
	Endpoints []string
}

// RolloutView counts a deployment's pods by revision.
type RolloutView struct {
	Deployment string
	Desired    int
	NewReady   int
	New        int
	Old        int
	Revision   string
}

// MapService feeds the map: it calls onChange with a new view whenever an
// object in the lab's namespace (or a node) changes, until ctx ends.
type MapService interface {
	WatchMap(ctx context.Context, lab *labfile.Lab, onChange func(ClusterView)) error
}

// BuildClusterView turns API objects into a view. Pods without a node (not
// scheduled yet) are left out, as they have no box to sit in.
func BuildClusterView(nodes []corev1.Node, pods []corev1.Pod, rss []appsv1.ReplicaSet, deps []appsv1.Deployment, svcs []corev1.Service, slices []discoveryv1.EndpointSlice) ClusterView {
	var v ClusterView
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
	byNode := map[string][]PodView{}
	for _, p := range pods {
		if p.Spec.NodeName == "" {
			continue
		}
		pv := PodView{Name: p.Name, Phase: string(p.Status.Phase), Terminating: p.DeletionTimestamp != nil}
		pv.Ready = kube.PodReady(&p)
		if rs := kube.ReplicaSetOf(&p); rs != "" {
			pv.Revision, pv.Newest = revisionOfRS[rs], newestRS[rs]
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], pv)
	}
	for _, n := range nodes {
		nv := NodeView{Name: n.Name, Role: kube.NodeRole(&n), Ready: kube.NodeReady(&n), Pods: byNode[n.Name]}
		sort.Slice(nv.Pods, func(i, j int) bool { return nv.Pods[i].Name < nv.Pods[j].Name })
		v.Nodes = append(v.Nodes, nv)
	}
	sort.Slice(v.Nodes, func(i, j int) bool { return v.Nodes[i].Name < v.Nodes[j].Name })
	for _, s := range svcs {
		sv := ServiceView{Name: s.Name, Type: string(s.Spec.Type)}
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
		rv := RolloutView{Deployment: d.Name, Desired: 1, Revision: newestOf[d.Name]}
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

// renderClusterMap draws the view for a width. It is called when the view
// or the size changes, never from View.
func renderClusterMap(v ClusterView, s *Styles, width int) string {
	if len(v.Nodes) == 0 {
		return s.Muted.Render(" No nodes to show yet.")
	}
	// Three boxes fit 80 columns, the size most terminals open at.
	const boxWidth = 26
	perRow := max(1, width/boxWidth)
	var rows []string
	var row []string
	for _, n := range v.Nodes {
		row = append(row, renderNode(n, s, boxWidth))
		if len(row) == perRow {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	var b strings.Builder
	b.WriteString(strings.Join(rows, "\n"))
	for _, r := range v.Rollouts {
		b.WriteString("\n" + renderRollout(r, s, width))
	}
	for _, sv := range v.Services {
		eps := "no endpoints"
		if len(sv.Endpoints) > 0 {
			eps = fmt.Sprintf("%d endpoint(s): %s", len(sv.Endpoints), strings.Join(sv.Endpoints, ", "))
		}
		b.WriteString("\n" + ansi.Truncate(fmt.Sprintf(" service %s (%s) → %s", sv.Name, sv.Type, eps), width, "…"))
	}
	b.WriteString("\n" + s.Muted.Render(" ● ready  ○ starting  ✕ terminating  bold: newest revision"))
	return b.String()
}

func renderNode(n NodeView, s *Styles, width int) string {
	status := s.Done.Render("Ready")
	if !n.Ready {
		status = s.Wrong.Render("NotReady")
	}
	title := truncate(n.Name, width-6)
	lines := []string{s.Bold.Render(title), s.Muted.Render(n.Role) + " " + status}
	const maxPods = 8
	for i, p := range n.Pods {
		if i == maxPods {
			lines = append(lines, s.Muted.Render(fmt.Sprintf("… %d more", len(n.Pods)-maxPods)))
			break
		}
		mark := "○"
		switch {
		case p.Terminating:
			mark = "✕"
		case p.Ready:
			mark = "●"
		}
		label := shortPodName(p.Name, width-12)
		if p.Revision != "" {
			label += " r" + p.Revision
		}
		style := s.Muted
		if p.Newest {
			style = s.Accent.Bold(true)
		}
		lines = append(lines, style.Render(mark+" "+label))
	}
	if len(n.Pods) == 0 {
		lines = append(lines, s.Muted.Render("no lab pods"))
	}
	// The border takes two of the box's columns.
	return lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Width(width-2).Padding(0, 1).Render(strings.Join(lines, "\n"))
}

func renderRollout(r RolloutView, s *Styles, width int) string {
	barWidth := min(20, max(5, width-50))
	pct := 0
	if r.Desired > 0 {
		pct = min(100, r.NewReady*100/r.Desired)
	}
	state := "rolled out"
	if r.Old > 0 || r.NewReady < r.Desired {
		state = "rolling out"
	}
	return ansi.Truncate(fmt.Sprintf(" deployment %s %s %s r%s: %d/%d new ready, %d old", r.Deployment, bar(s, pct, barWidth), state, r.Revision, r.NewReady, r.Desired, r.Old), width, "…")
}

// shortPodName keeps what tells pods apart: a pod of a deployment is named
// <deployment>-<template hash>-<suffix>, and the suffix is what differs.
func shortPodName(name string, width int) string {
	if len(name) <= width {
		return name
	}
	parts := strings.Split(name, "-")
	if len(parts) >= 3 {
		suffix := parts[len(parts)-1]
		hash := parts[len(parts)-2]
		prefix := strings.Join(parts[:len(parts)-2], "-")
		short := prefix + "-" + hash[:min(3, len(hash))] + "…-" + suffix
		if len([]rune(short)) <= width {
			return short
		}
	}
	return truncate(name, width)
}
