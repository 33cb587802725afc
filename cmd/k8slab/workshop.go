package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/workshop"
)

func newWorkshopCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workshop",
		Short: "Run a workshop: many learners on one shared cluster",
		Long: `Run an instructor-led workshop on one shared cluster, with the instructor's
current kubeconfig and context. 'init' fences each learner into namespaces of
their own and writes them a kubeconfig; learners run
'k8slab --kubeconfig learner-01.kubeconfig' and get the normal course with
labs bound to their namespaces. 'status' grades the whole class live, and
'delete' removes exactly what init made.`,
	}
	cmd.AddCommand(newWorkshopInitCmd(g), newWorkshopExamCmd(g), newWorkshopStatusCmd(g), newWorkshopRevokeCmd(g), newWorkshopDeleteCmd(g))
	return cmd
}

func (g *globals) workshopClients(t *target) (workshop.Clients, error) {
	cfg, err := clusterctl.RESTConfig(g.kubeconfigPath(t), t.context)
	if err != nil {
		return workshop.Clients{}, fmt.Errorf("%w; pass --kubeconfig", err)
	}
	// A class is thousands of objects; the default client-side limit
	// would make init crawl.
	cfg.QPS, cfg.Burst = 200, 400
	// Every call the workshop makes has a context deadline of its own
	// (the status watches have none: clustercache.WatchClient).
	cfg.Timeout = 0
	return workshop.NewClients(cfg)
}

func newWorkshopInitCmd(g *globals) *cobra.Command {
	var (
		t        target
		learners int
		roster   string
		out      string
		ttl      time.Duration
		server   string
		labs     []string
		force    bool
	)
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Create learners' namespaces, rights, quotas and kubeconfigs",
		Long: `Set up workshop NAME for --learners N (learner-01, learner-02, ...) or the
names in --roster FILE (one a line). Each learner gets a namespace per lab,
labelled with the workshop, the learner and the lab; a ServiceAccount; a Role
and RoleBinding for lab work in those namespaces only; read-only access where
a lab reads outside them (nodes, kube-system pods); a ResourceQuota and a
LimitRange; Pod Security labels and a NetworkPolicy that keep their pods off
the nodes and away from other learners; and a kubeconfig with a time-limited
token, written 0600 into --out.

Each lab is set up when its learner first opens it, with the learner's own
rights and within the quota. With --labs, the workshop has only those labs
(the labs of the day), set up for everyone at once.

Before it makes anything, init counts what the class will request (each lab's
setup for each learner, and room for their own work) against what the
cluster's nodes have free, and refuses a class that does not fit, saying what
to do (--labs, fewer learners, a bigger cluster, or --force).

Running init again is safe: it repairs what drifted, issues fresh tokens (the
old ones stop working), and with a larger --learners (or a longer roster)
grows the class.`,
		Example: `  k8slab workshop init kubecon --learners 30
  k8slab workshop init kubecon --learners 20 --labs pods,deployments
  k8slab workshop init kubecon --roster class.txt --token-ttl 12h`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			var ids []string
			switch {
			case roster != "" && learners > 0:
				return errors.New("give either --learners or --roster, not both")
			case roster != "":
				f, err := os.Open(roster)
				if err != nil {
					return fmt.Errorf("--roster: %w", err)
				}
				ids, err = workshop.ReadRoster(f, roster)
				f.Close()
				if err != nil {
					return err
				}
			case learners > 0:
				ids = workshop.LearnerIDs(learners)
			default:
				return errors.New("say who takes part: --learners N or --roster FILE")
			}
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			plan := workshop.Plan{Name: args[0], Learners: ids, Labs: course.AllLabs()}
			if len(labs) > 0 {
				plan.Labs = nil
				for _, id := range labs {
					lab, ok := course.Lab(id)
					if !ok {
						return fmt.Errorf("--labs: the course has no lab %q; 'k8slab labs' lists them", id)
					}
					plan.Labs = append(plan.Labs, lab)
				}
			}
			if err := plan.Validate(); err != nil {
				return err
			}
			c, err := g.workshopClients(&t)
			if err != nil {
				return err
			}
			if out == "" {
				out = args[0] + "-kubeconfigs"
			}
			if w := workshop.ServerWarning(c.Config.Host, server); w != "" {
				fmt.Fprintln(g.out, wrapText(w))
			}
			fmt.Fprintf(g.out, "Setting up workshop %s for %d learners and %d labs...\n", plan.Name, len(ids), len(plan.Labs))
			res, err := workshop.Init(cmd.Context(), c, plan, workshop.InitOptions{OutDir: out, TokenTTL: ttl, Server: server, Progress: g.out,
				SetUp: len(labs) > 0, Force: force})
			if err != nil {
				return errors.New(wrapText(err.Error()))
			}
			fmt.Fprintf(g.out, "Done. %d kubeconfigs in %s; their tokens expire at %s.\n", len(res.Kubeconfigs), out, res.Expires.Local().Format("2006-01-02 15:04"))
			fmt.Fprintf(g.out, "Each learner runs: k8slab --kubeconfig %s.kubeconfig\n", ids[0])
			for _, r := range res.Access.Restricted {
				fmt.Fprintf(g.out, "Note: %s. It is not graded in the workshop.\n", r)
			}
			return nil
		},
	}
	t.flags(cmd)
	namespaceUsage(cmd, "not used: a workshop names its learners' namespaces itself, one per learner and lab")
	cmd.Flags().IntVar(&learners, "learners", 0, "number of learners (learner-01, learner-02, ...)")
	cmd.Flags().StringVar(&roster, "roster", "", "file with one learner name a line")
	cmd.Flags().StringVar(&out, "out", "", "folder for the learners' kubeconfigs (default NAME-kubeconfigs)")
	cmd.Flags().DurationVar(&ttl, "token-ttl", 8*time.Hour, "how long learners' tokens last")
	cmd.Flags().StringVar(&server, "server", "", "API server address learners use, if not the one in your kubeconfig (say one learners' machines can reach)")
	cmd.Flags().StringSliceVar(&labs, "labs", nil, "only these labs (the labs of the day), set up for everyone at once; default every lab, each set up on its learner's first open")
	cmd.Flags().BoolVar(&force, "force", false, "go ahead even when the class does not fit the cluster's free resources")
	return cmd
}

func newWorkshopDeleteCmd(g *globals) *cobra.Command {
	var (
		t    target
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove everything init made for the workshop, and nothing else",
		Long: `Delete the objects labelled k8slab.dev/workshop=NAME: learners' namespaces
(with all their work), and the roles and bindings init made elsewhere. Objects
without the label are never touched. Learners' kubeconfigs stop working as
their ServiceAccounts go; the files themselves are left for you to remove.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			c, err := g.workshopClients(&t)
			if err != nil {
				return err
			}
			res, err := workshop.Delete(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "Deleting workshop %s: %d namespaces, %d cluster-wide and %d other objects.\n", args[0], res.Namespaces, res.ClusterObjects, res.OtherObjects)
			if wait {
				if err := workshop.WaitDeleted(cmd.Context(), c, args[0], 5*time.Minute); err != nil {
					return err
				}
				fmt.Fprintln(g.out, "All gone.")
			}
			return nil
		},
	}
	t.flags(cmd)
	namespaceUsage(cmd, "not used: a workshop names its learners' namespaces itself, one per learner and lab")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the namespaces have finished terminating")
	return cmd
}

func newWorkshopRevokeCmd(g *globals) *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "revoke NAME LEARNER...",
		Short: "Make learners' kubeconfigs stop working",
		Long: `Revoke the tokens of LEARNER (the name of their kubeconfig, such as
learner-01): the Secret their tokens are bound to is deleted, and the API
server refuses the token within about ten seconds (its token cache). Their
namespaces and work stay. 'k8slab workshop init NAME' again issues fresh
kubeconfigs, and revokes every learner's old ones.`,
		Example: `  k8slab workshop revoke kubecon learner-07`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			c, err := g.workshopClients(&t)
			if err != nil {
				return err
			}
			for _, learner := range args[1:] {
				if err := workshop.Revoke(cmd.Context(), c, args[0], learner); err != nil {
					return err
				}
				fmt.Fprintf(g.out, "Revoked %s's kubeconfig in workshop %s.\n", learner, args[0])
			}
			return nil
		},
	}
	t.flags(cmd)
	return cmd
}

func newWorkshopStatusCmd(g *globals) *cobra.Command {
	var (
		t      target
		format string
	)
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Grade the whole class live, or export a gradebook",
		Long: `Show a live table of learners and labs, graded from one watch per resource
kind across all the workshop's namespaces. With --format, grade once and
write a gradebook: csv (one row per learner), json or junit.

Lab questions are answered on learners' own machines and tasks that need
cluster-wide rights cannot be done by learners, so neither is graded here.`,
		Example: `  k8slab workshop status kubecon
  k8slab workshop status kubecon --format csv > grades.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			if format != "" && !validFormat(format) {
				return fmt.Errorf("--format %q: use %s", format, strings.Join(workshop.Formats, ", "))
			}
			if format == "" && !interactive(g) {
				return errors.New("the live table needs a terminal; use --format csv, json or junit for a snapshot")
			}
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			c, err := g.workshopClients(&t)
			if err != nil {
				return err
			}
			if format == "" {
				return runWorkshopTUI(cmd, c, args[0], course.AllLabs())
			}
			table, err := workshop.Snapshot(cmd.Context(), c, args[0], course.AllLabs())
			if err != nil {
				return err
			}
			if len(table.Rows) == 0 {
				return fmt.Errorf("workshop %s has no learners in this cluster; create it with 'k8slab workshop init %s --learners N'", args[0], args[0])
			}
			return workshop.Export(g.out, table, format)
		},
	}
	t.flags(cmd)
	namespaceUsage(cmd, "not used: a workshop names its learners' namespaces itself, one per learner and lab")
	cmd.Flags().StringVar(&format, "format", "", "write a snapshot: csv, json or junit")
	return cmd
}

func validFormat(f string) bool {
	for _, x := range workshop.Formats {
		if f == x {
			return true
		}
	}
	return false
}

// wrapText wraps a paragraph at 80 columns, line by line.
func wrapText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = ansi.Wordwrap(l, 80, "")
	}
	return strings.Join(lines, "\n")
}
