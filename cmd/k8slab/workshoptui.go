package main

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
	"github.com/k8slab/k8slab/workshop/classview"
)

// runWorkshopTUI shows the live class table. The grader runs beside the
// program and hands over only its latest table, so a slow terminal never
// holds grading back.
func runWorkshopTUI(cmd *cobra.Command, c workshop.Clients, name string, labs []*labfile.Lab) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	tables := make(chan workshop.Table, 1)
	failed := make(chan error, 1)
	go func() {
		err := workshop.NewGrader(c, name, labs).Run(ctx, 200*time.Millisecond, func(t workshop.Table) {
			select {
			case <-tables: // drop the stale one
			default:
			}
			tables <- t
		})
		if err != nil {
			failed <- err
		}
	}()
	next := func() tea.Msg {
		select {
		case t := <-tables:
			return classview.TableMsg{Table: t}
		case err := <-failed:
			return classview.ErrMsg{Err: err}
		case <-ctx.Done():
			return nil
		}
	}
	_, err := tea.NewProgram(classview.New(name, next), tea.WithContext(ctx)).Run()
	return err
}
