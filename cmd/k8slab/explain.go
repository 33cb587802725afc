package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/timeline"
)

func newLabExplainCmd(g *globals) *cobra.Command {
	var (
		t      target
		format string
		last   int
	)
	cmd := &cobra.Command{
		Use:   "explain LAB",
		Short: "Show what the cluster did after each change in a lab",
		Long: `Print the timeline of a lab's namespace: each change a person made (who, with
which kubectl command, what it set) and what the controllers, the scheduler and
the kubelets did next, in order. It reads what the cluster keeps: managedFields
(who wrote what, to the second), Events (about an hour) and pod conditions. The
value a write replaced and the endpoints a Service had are known only to the
live timeline on the lab screen, which watches as they change. The first step
of each kind is followed by why it happens and the lesson that teaches it.`,
		Example: "  k8slab lab explain deployments\n  k8slab lab explain deployments -n lab-ada --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: use text or json", format)
			}
			// The whole course, for its notes on why each step happens.
			c, err := g.loadCourse()
			if err != nil {
				return err
			}
			lab, ok := c.Lab(args[0])
			if !ok {
				if _, err := g.findLab(args[0]); err != nil {
					return err // says which labs there are
				}
				return fmt.Errorf("no lab %q", args[0])
			}
			cfg, err := g.restConfig(&t)
			if err != nil {
				return err
			}
			if err := clusterctl.Reach(cmd.Context(), cfg); err != nil {
				return err
			}
			client, err := dynamic.NewForConfig(cfg)
			if err != nil {
				return err
			}
			ns := g.labNamespace(&t, lab)
			state, err := timeline.Read(cmd.Context(), clustercache.NewSnapshot(client, nil), ns)
			if err != nil {
				return fmt.Errorf("reading namespace %s: %w", ns, err)
			}
			acts := timeline.Explain(state, last)
			timeline.Annotate(acts, c.TimelineWhy)
			if format == "json" {
				return timeline.WriteJSON(g.out, acts)
			}
			return timeline.WriteText(g.out, acts, time.Local)
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&last, "last", timeline.DefaultActions, "how many of the latest actions to show")
	return cmd
}
