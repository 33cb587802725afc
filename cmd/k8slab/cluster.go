package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/console"
	"github.com/k8slab/k8slab/labsession"
)

type clusterFlags struct {
	provider   string
	name       string
	instant    bool
	nodeImage  string
	kubeconfig string
	context    string
	merge      bool
	buildSim   bool
	simNodes   clusterctl.SimNodes
}

func (g *globals) clusterConfig(f *clusterFlags) (clusterctl.Config, error) {
	state, err := g.stateDirectory()
	if err != nil {
		return clusterctl.Config{}, err
	}
	cache, err := clusterctl.DefaultCacheDir()
	if err != nil {
		return clusterctl.Config{}, err
	}
	provider := f.provider
	if (f.kubeconfig != "" || f.context != "") && provider == clusterctl.Auto {
		provider = clusterctl.Existing
	}
	// A course folder given with --content brings its own image catalogue.
	var simCourse fs.FS
	if g.contentDir != "" {
		simCourse = os.DirFS(g.contentDir)
	}
	var supervisor []string
	if selfExe != "" {
		// Absolute state folder and name: the supervisor outlives this
		// shell and its environment.
		abs, err := filepath.Abs(state)
		if err != nil {
			return clusterctl.Config{}, err
		}
		supervisor = []string{selfExe, "--state-dir", abs, "cluster", "supervise", "--provider", clusterctl.Sim, "--name", f.name}
	}
	return clusterctl.Config{
		SimCourse:  simCourse,
		Supervisor: supervisor,
		Provider:   provider,
		Name:       f.name,
		StateDir:   state,
		CacheDir:   cache,
		SimBinDir:  os.Getenv("K8SLAB_SIM_BIN"),
		SimInstant: f.instant,
		Kubeconfig: f.kubeconfig,
		Context:    f.context,
		NodeImage:  f.nodeImage,
		SimNodes:   f.simNodes,
		Engine:     os.Getenv(clusterctl.EngineEnv),
	}, nil
}

// selectCluster resolves the flags to a provider.
func (g *globals) selectCluster(ctx context.Context, f *clusterFlags) (clusterctl.Config, clusterctl.Provider, string, error) {
	cfg, err := g.clusterConfig(f)
	if err != nil {
		return cfg, nil, "", err
	}
	p, reason, err := clusterctl.Select(ctx, cfg)
	return cfg, p, reason, err
}

func newClusterCmd(g *globals) *cobra.Command {
	f := &clusterFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create and manage the cluster the labs run on",
		Long: `Labs run against a Kubernetes cluster. 'k8slab cluster up' makes one:

  kind      a real cluster in containers (needs Docker or Podman running)
  sim       a simulated cluster: the real Kubernetes control plane, with fake
            nodes whose pods become Ready without running containers
  existing  a cluster you already have, named by --kubeconfig/--context;
            k8slab never creates, changes or deletes it

With --provider auto (the default) k8slab uses kind when a container engine
answers and the simulator otherwise, and says which. k8slab writes the
cluster's kubeconfig to its own file and deletes only clusters it created.`,
		Example: `  k8slab cluster up
  eval "$(k8slab cluster env)"   # point kubectl in this shell at the lab cluster
  kubectl get nodes
  k8slab cluster down`,
	}
	cmd.PersistentFlags().StringVar(&f.provider, "provider", clusterctl.Auto, "auto, kind, sim or existing")
	cmd.PersistentFlags().StringVar(&f.name, "name", clusterctl.DefaultName, "cluster name")
	cmd.PersistentFlags().StringVar(&f.kubeconfig, "kubeconfig", "", "use the existing cluster in this kubeconfig file")
	cmd.PersistentFlags().StringVar(&f.context, "context", "", "use this kubeconfig context (an existing cluster)")
	cmd.AddCommand(newClusterUpCmd(g, f), newClusterDownCmd(g, f), newClusterStatusCmd(g, f), newClusterKubeconfigCmd(g, f), newClusterEnvCmd(g, f), newClusterSuperviseCmd(g, f))
	return cmd
}

func newClusterUpCmd(g *globals, f *clusterFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create the lab cluster (or report that it is running)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, p, reason, err := g.selectCluster(ctx, f)
			if err != nil {
				return err
			}
			sized := cmd.Flags().Changed("nodes") || cmd.Flags().Changed("node-cpu") || cmd.Flags().Changed("node-memory") || cmd.Flags().Changed("node-pods")
			if sized && p.Name() != clusterctl.Sim {
				return fmt.Errorf("--nodes and --node-cpu, --node-memory, --node-pods size a simulated cluster; add --provider sim (a kind cluster has three nodes, each seeing this machine's CPUs and memory)")
			}
			fmt.Fprintf(g.out, "Using %s.\n", reason)
			if dir, need := clusterctl.SimBuildDir(cfg, p); need {
				if err := console.OfferSimBuild(ctx, g.in, g.out, dir, f.buildSim); err != nil {
					return err
				}
				// The provider looks for its binaries when it is made.
				if cfg, p, _, err = g.selectCluster(ctx, f); err != nil {
					return err
				}
			}
			steps := console.NewSteps(g.out)
			p, err = clusterctl.UpOrFallBack(ctx, p, clusterctl.NewRecords(cfg.StateDir), steps.Step, clusterctl.SimFallback(ctx, cfg))
			steps.Stop()
			switch {
			case errors.Is(err, clusterctl.ErrAlreadyRunning):
				fmt.Fprintf(g.out, "The %s cluster %q is already running and healthy.\n", p.Name(), p.ClusterName())
			case err != nil:
				return err
			default:
				fmt.Fprintf(g.out, "Cluster %q is ready.\n", p.ClusterName())
			}
			if f.merge {
				if _, err := clusterctl.MergeKubeconfig(p.KubeconfigPath()); err != nil {
					return err
				}
				fmt.Fprintln(g.out, "Its context was added to your default kubeconfig, as you asked.")
			}
			fmt.Fprintf(g.out, "Point kubectl at it with:\n  eval \"$(%s)\"\n", envCommand(p.ClusterName()))
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.instant, "instant", false, "sim: pods start at once instead of after a realistic 1-2 s")
	cmd.Flags().IntVar(&f.simNodes.Count, "nodes", clusterctl.DefaultSimNodes, "sim: nodes in all, the control plane included (a workshop needs more; see the README)")
	cmd.Flags().StringVar(&f.simNodes.CPU, "node-cpu", clusterctl.DefaultSimCPU, "sim: CPUs each node has")
	cmd.Flags().StringVar(&f.simNodes.Memory, "node-memory", clusterctl.DefaultSimMemory, "sim: memory each node has")
	cmd.Flags().IntVar(&f.simNodes.Pods, "node-pods", clusterctl.DefaultSimPods, "sim: pods each node takes")
	cmd.Flags().StringVar(&f.nodeImage, "node-image", "", "kind: node image to use instead of the pinned one")
	cmd.Flags().BoolVar(&f.buildSim, "build-sim", false, "sim: build the simulator's binaries with Go if they are missing, without asking")
	cmd.Flags().BoolVar(&f.merge, "merge-kubeconfig", false, "also add the cluster's context to your default kubeconfig (~/.kube/config)")
	return cmd
}

func newClusterDownCmd(g *globals, f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Delete the lab cluster (only one k8slab created)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.resolveUnnamed(cmd, f, true)
			cfg, p, _, err := g.selectCluster(cmd.Context(), f)
			if err != nil {
				return err
			}
			// The lab shells' kubeconfigs are copies of this cluster's:
			// read where it answered before its kubeconfig goes.
			servers := labsession.ClusterServers(p.KubeconfigPath())
			steps := console.NewSteps(g.out)
			err = clusterctl.Down(cmd.Context(), p, clusterctl.NewRecords(cfg.StateDir), steps.Step)
			steps.Stop()
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "No %s cluster %q is running now.\n", p.Name(), p.ClusterName())
			n, err := labsession.ForgetShellFiles(cfg.StateDir, servers)
			if n > 0 {
				fmt.Fprintf(g.out, "Removed the kubeconfigs of %d lab %s that pointed at it.\n", n, map[bool]string{true: "shell", false: "shells"}[n == 1])
			}
			return err
		},
	}
}

func newClusterStatusCmd(g *globals, f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether the lab cluster exists, answers, and its nodes",
		Long: `Show the lab cluster's provider, version and nodes, and for a simulated
cluster the health of each component (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok). The exit status is 0 when the
cluster answers and is healthy, and 1 when it does not exist, does not answer
or is degraded (a component is down).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.resolveUnnamed(cmd, f, false)
			cfg, p, _, err := g.selectCluster(cmd.Context(), f)
			if err != nil {
				return err
			}
			well, err := console.Status(cmd.Context(), g.out, p, cfg.Context)
			if err != nil {
				return err
			}
			if !well {
				return exitCode(1)
			}
			return nil
		},
	}
}

func newClusterKubeconfigCmd(g *globals, f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the path of the lab cluster's kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.resolveUnnamed(cmd, f, true)
			path, err := g.clusterKubeconfig(cmd.Context(), f)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.out, path)
			return nil
		},
	}
}

func newClusterEnvCmd(g *globals, f *clusterFlags) *cobra.Command {
	var labID, namespace string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the shell command that points kubectl at the lab cluster",
		Long: "Print 'export KUBECONFIG=...' for the lab cluster; run it with eval \"$(k8slab cluster env)\". Only that shell is affected.\n" +
			"With --lab, kubectl in that shell also works in the lab's namespace, as in the lab screen's shell.",
		Example: `  eval "$(k8slab cluster env)"
  eval "$(k8slab cluster env --lab deployments)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.resolveUnnamed(cmd, f, true)
			path, err := g.clusterKubeconfig(cmd.Context(), f)
			if err != nil {
				return err
			}
			if labID != "" {
				if path, err = g.labKubeconfig(labID, &target{kubeconfig: path, context: f.context, namespace: namespace}); err != nil {
					return err
				}
			}
			fmt.Fprintf(g.out, "export KUBECONFIG=%s\n", shellQuote(path))
			return nil
		},
	}
	cmd.Flags().StringVar(&labID, "lab", "", "also make the lab's namespace kubectl's default (a copy of the kubeconfig; the cluster's own is not changed)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "with --lab: the namespace the lab runs in, when it is not the usual one (default lab-<id>; a workshop learner's own)")
	return cmd
}

// labKubeconfig writes the copy of t's kubeconfig that works in the lab's
// namespace, and returns its path. The namespace is the one the lab
// commands would use with the same kubeconfig: a workshop learner's own.
func (g *globals) labKubeconfig(labID string, t *target) (string, error) {
	lab, err := g.findLab(labID)
	if err != nil {
		return "", err
	}
	state, err := g.stateDirectory()
	if err != nil {
		return "", err
	}
	return labsession.WriteLabKubeconfig(state, t.kubeconfig, t.context, g.labNamespace(t, lab))
}

func (g *globals) clusterKubeconfig(ctx context.Context, f *clusterFlags) (string, error) {
	_, p, _, err := g.selectCluster(ctx, f)
	if err != nil {
		return "", err
	}
	if exists, err := p.Exists(ctx); err != nil {
		return "", err
	} else if !exists {
		return "", fmt.Errorf("there is no %s cluster %q yet; create it with 'k8slab cluster up'", p.Name(), p.ClusterName())
	}
	return p.KubeconfigPath(), nil
}

// envCommand is the command that prints the KUBECONFIG line for the
// cluster named name: without --name it finds the default one.
func envCommand(name string) string {
	if name == clusterctl.DefaultName {
		return "k8slab cluster env"
	}
	return "k8slab cluster env --name " + shellQuote(name)
}

// resolveUnnamed makes a cluster command given no --name, --provider,
// --kubeconfig or --context act on the cluster the TUI and 'check' find
// (clusterctl.Resolve): the one 'cluster up --name' made when there is no
// default one, or k8slab's cluster that $KUBECONFIG names. ownOnly leaves
// a cluster k8slab did not make alone: env, kubeconfig and down are about
// k8slab's own clusters, status about whichever the labs use.
func (g *globals) resolveUnnamed(cmd *cobra.Command, f *clusterFlags, ownOnly bool) {
	for _, name := range []string{"name", "provider", "kubeconfig", "context"} {
		if cmd.Flags().Changed(name) {
			return
		}
	}
	tg := g.resolve(&target{})
	switch {
	case tg.Own && tg.Config.Provider != clusterctl.Auto:
		f.provider, f.name = tg.Config.Provider, tg.Config.Name
	case !tg.Own && !ownOnly:
		f.provider, f.kubeconfig, f.context = clusterctl.Existing, tg.Kubeconfig, tg.Context
	}
}

func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// newClusterSuperviseCmd is the detached process 'cluster up' starts for a
// simulated cluster: it restarts components that exit until 'cluster down'
// stops it or the cluster is deleted. Hidden: learners never run it.
func newClusterSuperviseCmd(g *globals, f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:    "supervise",
		Short:  "Restart the simulated cluster's components when they exit",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			_, p, _, err := g.selectCluster(ctx, f)
			if err != nil {
				return err
			}
			return clusterctl.Supervise(ctx, p, g.out)
		},
	}
}
