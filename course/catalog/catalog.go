// Package catalog lists a course's labs and a lab's tasks for 'k8slab
// labs', as a table or JSON: what each asks, how it is graded and what it
// needs of the cluster.
package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/k8slab/k8slab/labfile"
)

// WriteLabs lists labs, one a row, with their tasks' ids, points and
// needs, as "text" or "json".
func WriteLabs(w io.Writer, format string, all []*labfile.Lab) error {
	type labInfo struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		Module    string   `json:"module"`
		Namespace string   `json:"namespace"`
		Tasks     int      `json:"tasks"`
		TaskIDs   []string `json:"taskIds"`
		Points    int      `json:"points"`
		// Features the whole lab needs; TaskFeatures what single
		// tasks need beyond them.
		Features     []string            `json:"features"`
		TaskFeatures map[string][]string `json:"taskFeatures,omitempty"`
		// ManifestTasks are the tasks applying manifests completes
		// ('check --tasks manifests').
		ManifestTasks []string `json:"manifestTasks"`
	}
	var labs []labInfo
	for _, l := range all {
		info := labInfo{ID: l.ID, Title: l.Title, Module: l.Module, Namespace: l.Namespace, Tasks: len(l.Tasks),
			Features: []string{}, ManifestTasks: []string{}}
		for _, t := range l.Tasks {
			info.Points += t.Points
			info.TaskIDs = append(info.TaskIDs, t.ID)
			if t.Grading == labfile.GradedFromManifests {
				info.ManifestTasks = append(info.ManifestTasks, t.ID)
			}
			for _, f := range t.Features {
				if info.TaskFeatures == nil {
					info.TaskFeatures = map[string][]string{}
				}
				info.TaskFeatures[t.ID] = append(info.TaskFeatures[t.ID], string(f))
			}
		}
		info.Features = append(info.Features, names(l.Features)...)
		labs = append(labs, info)
	}
	if format == "json" {
		return writeJSON(w, labs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tMODULE\tTASKS\tMANIFESTS\tFEATURES")
	for _, l := range labs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", l.ID, l.Title, l.Module, l.Tasks, len(l.ManifestTasks), featureSummary(l.Features, l.TaskFeatures))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(w, `
MANIFESTS: tasks that applying manifests completes (check --tasks manifests).
FEATURES: a simulated cluster lacks containers, storage, nodeport-from-host.
'k8slab labs LAB' lists a lab's tasks with their ids and how each is graded.
`)
	return nil
}

// featureSummary is a lab's FEATURES cell: the lab's own, then each one
// only some tasks need, with how many.
func featureSummary(lab []string, tasks map[string][]string) string {
	out := slices.Clone(lab)
	count := map[string]int{}
	var order []string
	for _, id := range slices.Sorted(maps.Keys(tasks)) {
		for _, f := range tasks[id] {
			if count[f] == 0 && !slices.Contains(lab, f) {
				order = append(order, f)
			}
			count[f]++
		}
	}
	for _, f := range order {
		out = append(out, fmt.Sprintf("%s (%d %s)", f, count[f], map[bool]string{true: "task", false: "tasks"}[count[f] == 1]))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// WriteTasks lists one lab's tasks with the ids check takes, how each
// is graded, and what each needs of the cluster.
func WriteTasks(w io.Writer, format string, lab *labfile.Lab) error {
	type taskInfo struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Points   int    `json:"points"`
		Question bool   `json:"question"`
		// Grading: "manifests" or "live" (see labfile.Task.Grading).
		Grading string `json:"grading,omitempty"`
		// Needs: the features the task needs, the lab's included.
		Needs []string `json:"needs"`
	}
	var tasks []taskInfo
	for i := range lab.Tasks {
		t := &lab.Tasks[i]
		info := taskInfo{ID: t.ID, Title: t.Title, Points: t.Points, Question: t.Question != nil, Grading: string(t.Grading), Needs: []string{}}
		info.Needs = append(info.Needs, names(lab.Needs(t))...)
		tasks = append(tasks, info)
	}
	if format == "json" {
		return writeJSON(w, tasks)
	}
	fmt.Fprintf(w, "%s (lab %s, namespace %s)\n\n", lab.Title, lab.ID, lab.Namespace)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tTITLE\tPOINTS\tGRADING\tNEEDS")
	kindOnly := false
	for _, t := range tasks {
		grading := t.Grading
		if grading == "" {
			grading = "not marked"
		}
		if t.Question {
			grading += ": question (--answer " + t.ID + "=...)"
		}
		var needs []string
		for _, f := range t.Needs {
			if slices.Contains(labfile.SimulatedClusterLacks, labfile.Feature(f)) {
				f += " (kind only)"
				kindOnly = true
			}
			needs = append(needs, f)
		}
		if len(needs) == 0 {
			needs = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", t.ID, t.Title, t.Points, grading, strings.Join(needs, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmanifests: applying manifests completes it; CI grades those with\n  k8slab check %s --tasks manifests\n", lab.ID)
	fmt.Fprintln(w, "live: it needs actions on the live cluster (delete a pod, roll back, answer).")
	if kindOnly {
		fmt.Fprintln(w, "kind only: a simulated cluster lacks it; there the task is shown, not graded.")
	}
	return nil
}

func names(fs []labfile.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
