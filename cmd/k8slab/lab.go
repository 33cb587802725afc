package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/console"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress"
	"github.com/k8slab/k8slab/workshop"
)

func newLabCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Start, reset or solve a lab in the cluster",
		Long: `Prepare a lab in the cluster. Each lab runs in its own namespace (lab-<id> by
default, or the one given with --namespace), which k8slab creates and labels;
k8slab never changes or deletes a namespace it did not create.`,
	}
	cmd.AddCommand(newLabOpenCmd(g), newLabStartCmd(g, false), newLabStartCmd(g, true), newLabSolveCmd(g), newLabVerifyCmd(g), newLabExplainCmd(g))
	return cmd
}

func newLabStartCmd(g *globals, reset bool) *cobra.Command {
	var t target
	use, short := "start LAB", "Create the lab's namespace and apply its setup"
	if reset {
		use, short = "reset LAB", "Delete the lab's namespace and start the lab afresh"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			lab, err := g.findLab(args[0])
			if err != nil {
				return err
			}
			client, err := g.client(&t)
			if err != nil {
				return err
			}
			ns := g.labNamespace(&t, lab)
			switch {
			case reset && g.learner(&t) != nil:
				// A workshop learner may not delete the namespace: it is
				// emptied instead.
				err = console.Run(g.out, "Emptying namespace "+ns+" and applying the lab's setup again", func() error {
					return workshop.ResetLab(cmd.Context(), client, lab, ns)
				})
			case reset:
				// Deleting a namespace waits for everything in it to go,
				// which takes seconds: say so, step by step.
				err = console.Run(g.out, "Deleting namespace "+ns+" and what the lab made for it", func() error {
					return labenv.RemoveLab(cmd.Context(), client, lab, ns)
				})
				if err == nil {
					err = console.Run(g.out, "Creating namespace "+ns+" and applying the lab's setup", func() error {
						return labenv.StartLab(cmd.Context(), client, lab, ns)
					})
				}
			default:
				err = labenv.StartLab(cmd.Context(), client, lab, ns)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "Lab %q is ready in namespace %s.\nWork in it with: kubectl config set-context --current --namespace=%s\nCheck your work with: k8slab check %s\n", lab.Title, ns, ns, lab.ID)
			return nil
		},
	}
	t.flags(cmd)
	return cmd
}

func newLabSolveCmd(g *globals) *cobra.Command {
	var (
		t     target
		force bool
	)
	cmd := &cobra.Command{
		Use:   "solve LAB [TASK]",
		Short: "Apply the reference solution (for instructors and tests)",
		Long: `Apply a lab's reference solution, task by task, with the real kubectl. It is
meant for instructors and tests. In a namespace other than the lab's own
default (a workshop learner's namespace), or while a practice exam runs
('k8slab exam'), it refuses unless --force is given.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			lab, err := g.findLab(args[0])
			if err != nil {
				return err
			}
			if err := g.refuseDuringExam("lab solve", force); err != nil {
				return err
			}
			if m := g.learner(&t); m != nil {
				return fmt.Errorf("lab solve is for instructors and tests; in workshop %s, learner %s solves the lab themselves (hints are in the course)", m.Workshop, m.Learner)
			}
			ns := lab.Namespace
			if t.namespace != "" && t.namespace != lab.Namespace {
				if !force {
					return fmt.Errorf("namespace %s is not lab %s's own (%s): it may be a learner's; pass --force if you mean it", t.namespace, lab.ID, lab.Namespace)
				}
				ns = t.namespace
			}
			client, err := g.client(&t)
			if err != nil {
				return err
			}
			kubeconfig := g.kubeconfigPath(&t)
			dir, err := os.MkdirTemp("", "k8slab-solve-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			nsConfig := filepath.Join(dir, "kubeconfig")
			if err := clusterctl.WriteNamespacedKubeconfig(kubeconfig, t.context, ns, nsConfig); err != nil {
				return err
			}
			if err := labenv.StartLab(cmd.Context(), client, lab, ns); err != nil {
				return err
			}
			port, err := labenv.NodePort(cmd.Context(), client, lab, ns)
			if err != nil {
				return err
			}
			for _, task := range lab.Tasks {
				if len(args) == 2 && task.ID != args[1] {
					continue
				}
				for _, st := range task.Solution {
					if err := labenv.RunStep(cmd.Context(), client, nsConfig, ns, labfile.ExpandStep(st, port)); err != nil {
						return fmt.Errorf("task %s: %w", task.ID, err)
					}
				}
				fmt.Fprintf(g.out, "Applied the solution of task %s.\n", task.ID)
			}
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "solve in a namespace other than the lab's default, or during a practice exam")
	return cmd
}

func newLabOpenCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "open LAB",
		Short:   "Open the course straight on a lab's screen",
		Long:    "Open the full-screen course on a lab: its tasks, graded live as you work in another terminal (or in the shell it opens with t).",
		Example: "  k8slab lab open deployments",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.findLab(args[0]); err != nil {
				return err
			}
			g.start = progress.Position{Screen: "lab", ID: args[0]}
			return g.runTUI(cmd)
		},
	}
}
