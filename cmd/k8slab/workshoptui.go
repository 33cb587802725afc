package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/workshop"
)

func runWorkshopTUI(cmd *cobra.Command, c workshop.Clients, name string, labs []*checks.Lab) error {
	return errors.New("the live table is not built yet; use --format csv, json or junit")
}
