package console

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
)

// healthTimeout bounds asking a simulated cluster's components how they are.
const healthTimeout = 10 * time.Second

// Status writes what 'k8slab cluster status' shows of p's cluster and
// reports whether it is well: it answers and, for a provider that can
// tell, every component is healthy.
func Status(ctx context.Context, w io.Writer, p clusterctl.Provider, kubeContext string) (well bool, err error) {
	st := clusterctl.StatusOf(ctx, p, kubeContext)
	var health *clusterctl.ClusterHealth
	if hr, ok := p.(clusterctl.HealthReporter); ok && st.Exists {
		hctx, cancel := context.WithTimeout(ctx, healthTimeout)
		h, err := hr.Health(hctx)
		cancel()
		if err != nil {
			return false, err
		}
		health = &h
	}
	WriteStatus(w, p.KubeconfigPath(), st, health)
	return st.Reachable && (health == nil || health.State == clusterctl.HealthHealthy), nil
}

// WriteStatus writes a cluster's status: provider, kubeconfig and state,
// each component's health when health is known, and the nodes when the
// cluster answers.
func WriteStatus(w io.Writer, kubeconfig string, st clusterctl.Status, health *clusterctl.ClusterHealth) {
	fmt.Fprintf(w, "Cluster:    %s\nProvider:   %s\n", st.Name, st.Provider)
	if !st.Exists {
		fmt.Fprintln(w, "State:      not created; run 'k8slab cluster up'")
		return
	}
	fmt.Fprintf(w, "Kubeconfig: %s\n", kubeconfig)
	switch {
	case health != nil && health.State == clusterctl.HealthStopped:
		fmt.Fprintf(w, "State:      %s\n", health.Summary())
		return
	case health != nil && health.State == clusterctl.HealthDegraded:
		fmt.Fprintf(w, "State:      %s\n", health.Summary())
	case !st.Reachable:
		fmt.Fprintf(w, "State:      not reachable: %v\n", st.Err)
	default:
		fmt.Fprintf(w, "State:      running, Kubernetes %s, %d of %d nodes ready\n", st.Version, st.ReadyNodes(), len(st.Nodes))
	}
	if health != nil {
		if health.Supervised {
			fmt.Fprintln(w, "Supervisor: running; it restarts components that exit")
		} else {
			fmt.Fprintln(w, "Supervisor: not running; 'k8slab cluster up' starts it")
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPONENT\tPID\tHEALTH")
		for _, c := range health.Components {
			pid, state := "-", "healthy"
			if c.PID > 0 {
				pid = strconv.Itoa(c.PID)
			}
			if !c.Healthy {
				state = c.Detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, pid, state)
		}
		tw.Flush()
	}
	if !st.Reachable {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tREADY\tROLES")
	for _, n := range st.Nodes {
		roles := strings.Join(n.Roles, ",")
		if roles == "" {
			roles = "<none>"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\n", n.Name, n.Ready, roles)
	}
	tw.Flush()
}
