package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/clusterview"
	"github.com/k8slab/k8slab/labfile"
)

// MapService feeds the map: it calls onChange with a new view whenever an
// object in the lab's namespace (or a node) changes, until ctx ends.
type MapService interface {
	WatchMap(ctx context.Context, lab *labfile.Lab, onChange func(clusterview.View)) error
}

// renderClusterMap draws the view for a width. It is called when the view
// or the size changes, never from View.
func renderClusterMap(v clusterview.View, s *Styles, width int) string {
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
	for _, p := range v.Pending {
		// What the scheduler says is the point of looking: it wraps
		// rather than being cut.
		text := fmt.Sprintf("◇ %s pending, on no node: %s", p.Name, p.Unscheduled)
		wrapped := strings.ReplaceAll(lipgloss.Wrap(text, max(20, width-2), " "), "\n", "\n ")
		b.WriteString("\n " + s.Wrong.Render(wrapped))
	}
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
	line := ""
	for _, e := range []string{"● ready", "○ starting", "◐ running, not ready (readiness fails)", "✗ cannot run (reason below it)", "✕ terminating", "◇ pending", "bold: newest revision"} {
		if line != "" && lipgloss.Width(line+"  "+e) >= width {
			b.WriteString("\n" + s.Muted.Render(line))
			line = ""
		}
		line += " " + e + " "
	}
	b.WriteString("\n" + s.Muted.Render(strings.TrimRight(line, " ")))
	return b.String()
}

func renderNode(n clusterview.Node, s *Styles, width int) string {
	status := s.Done.Render("Ready")
	if !n.Ready {
		status = s.Wrong.Render("NotReady")
	}
	title := truncate(n.Name, width-6)
	lines := []string{s.Bold.Render(title), s.Muted.Render(n.Role) + " " + status}
	const maxPods = 8
	names := make([]string, len(n.Pods))
	for i, p := range n.Pods {
		names[i] = p.Name
	}
	short := shortPodNames(names, width-12)
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
		case p.Problem != "":
			mark = "✗"
		case p.NotReady:
			mark = "◐"
		}
		label := short[i]
		if p.Revision != "" {
			label += " r" + p.Revision
		}
		style := s.Muted
		if p.Newest {
			style = s.Accent.Bold(true)
		}
		lines = append(lines, style.Render(mark+" "+label))
		if p.Problem != "" && !p.Terminating {
			lines = append(lines, s.Wrong.Render("  "+truncate(p.Problem, width-6)))
		}
	}
	if len(n.Pods) == 0 {
		lines = append(lines, s.Muted.Render("no lab pods"))
	}
	// The border takes two of the box's columns.
	return lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Width(width-2).Padding(0, 1).Render(strings.Join(lines, "\n"))
}

func renderRollout(r clusterview.Rollout, s *Styles, width int) string {
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

// shortPodNames shortens pod names to width keeping what tells them
// apart: a pod of a deployment is named <deployment>-<template
// hash>-<suffix>, and the suffix is what differs, so it is always kept.
// Names still alike once shortened keep more of their end.
func shortPodNames(names []string, width int) []string {
	out := make([]string, len(names))
	for keep := 0; ; keep++ {
		seen := map[string]int{}
		for i, n := range names {
			out[i] = shortPodName(n, width+keep)
			seen[out[i]]++
		}
		clash := false
		for _, c := range seen {
			clash = clash || c > 1
		}
		if !clash || width+keep >= 253 {
			return out
		}
	}
}

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
	if i := strings.LastIndex(name, "-"); i > 0 && len(name)-i+1 < width {
		// The front gives way to the suffix.
		return name[:width-(len(name)-i)-1] + "…" + name[i:]
	}
	r := []rune(name)
	return "…" + string(r[max(0, len(r)-width+1):])
}
