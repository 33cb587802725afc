package main

import (
	"context"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/tui"
	"github.com/k8slab/k8slab/workshop"
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
			return tui.ClassTableMsg{Table: t}
		case err := <-failed:
			return tui.ClassErrMsg{Err: err}
		case <-ctx.Done():
			return nil
		}
	}
	_, err := tea.NewProgram(tui.NewClassView(name, next, os.Getenv("NO_COLOR") != ""), tea.WithContext(ctx)).Run()
	return err
}
