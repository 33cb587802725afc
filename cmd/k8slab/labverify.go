package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labverify"
)

func newLabVerifyCmd(g *globals) *cobra.Command {
	var (
		t      target
		format string
		force  bool
		jobs   int
	)
	cmd := &cobra.Command{
		Use:   "verify [LAB]",
		Short: "Prove labs against the cluster (for lab authors)",
		Long: `Prove that a lab keeps its promises, against the current cluster: nothing
passes at the start, the reference solution passes task by task, every
mistake fails with the message it promises, a reset restores the start, and
the lab's CI submission, applied with kubectl apply -f, gets full marks where
each wrong one loses the task it names. Each run uses a throwaway namespace
that is deleted afterwards; node labels a lab changes are put back. On the
simulator (known by its nodes) what it cannot show is skipped, with why.
Without LAB, every lab of the course is proved. --jobs makes that many of a
lab's mistakes at once, each in its own namespace: on a real cluster most of
a proof is waiting for the kubelet, so a lab with many mistakes takes a
fraction of the time (mistakes that change nodes or may hold a nodePort
still go one at a time).

Point --content at your course folder to prove labs you are writing.`,
		Example: `  k8slab lab verify
  k8slab lab verify deployments --content ./my-course
  k8slab lab verify rolling-updates --jobs 4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			if err := g.refuseDuringExam("lab verify", force); err != nil {
				return err
			}
			if jobs < 1 {
				return fmt.Errorf("--jobs %d: make at least one mistake at a time", jobs)
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: use text or json", format)
			}
			var labs []*labfile.Lab
			if len(args) == 1 {
				lab, err := g.findLab(args[0])
				if err != nil {
					return err
				}
				labs = []*labfile.Lab{lab}
			} else {
				course, err := g.loadCourse()
				if err != nil {
					return err
				}
				labs = course.AllLabs()
			}
			if t.namespace != "" {
				return fmt.Errorf("lab verify makes throwaway namespaces of its own; drop --namespace")
			}
			restCfg, err := g.restConfig(&t)
			if err != nil {
				return err
			}
			client, err := dynamic.NewForConfig(restCfg)
			if err != nil {
				return err
			}
			tg := g.resolve(&t)
			cfg := labverify.Config{Kubeconfig: tg.Kubeconfig, Context: tg.Context, Client: client, Jobs: jobs}
			// Reached through a kubeconfig, the simulator is known by
			// its nodes.
			if tg.Simulated() || clusterctl.RunsOnSimulator(cmd.Context(), restCfg) {
				cfg.Lacks = map[labfile.Feature]bool{}
				for _, f := range labfile.SimulatedClusterLacks {
					cfg.Lacks[f] = true
				}
			}
			if format == "text" {
				cfg.Progress = g.out
			}
			var reports []labverify.LabReport
			failed := 0
			for _, lab := range labs {
				if format == "text" {
					fmt.Fprintf(g.out, "Proving lab %s (%d tasks)...\n", lab.ID, len(lab.Tasks))
				}
				rep := labverify.VerifyLab(cmd.Context(), cfg, lab)
				reports = append(reports, rep)
				if !rep.Passed() {
					failed++
				}
				if format == "text" {
					rep.WriteText(g.out)
				}
			}
			if format == "json" {
				enc := json.NewEncoder(g.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(reports); err != nil {
					return err
				}
			}
			if failed > 0 {
				if format == "text" {
					fmt.Fprintf(g.out, "%d of %d labs broke a promise.\n", failed, len(labs))
				}
				return exitCode(1)
			}
			return nil
		},
	}
	t.flags(cmd)
	namespaceUsage(cmd, "not used: lab verify makes throwaway namespaces of its own")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&jobs, "jobs", 1, "how many of a lab's mistakes to make at once, each in its own namespace")
	cmd.Flags().BoolVar(&force, "force", false, "run even during a practice exam (it applies the reference solutions)")
	return cmd
}
