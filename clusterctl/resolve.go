package clusterctl

import (
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// Target is the one cluster a k8slab process works with: the CLI, the
// TUI's status bar, the lab screen and the map all use the same one, and
// say which it is.
type Target struct {
	// Config manages the cluster: Provider is Existing for a cluster
	// k8slab did not make, else auto/kind/sim with the name of its own.
	Config Config
	// Kubeconfig is the file to connect with; "" means client-go's
	// default rules ($KUBECONFIG, else ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context; "" means the file's current one.
	Context string
	// Why says how the target was chosen, for status lines and errors.
	Why string
	// Own is true for a cluster k8slab created or will create, which it
	// may also repair and delete.
	Own bool
}

// Simulated is true for k8slab's own simulated cluster, which runs no
// containers, has no storage provisioner and no node ports on the host.
func (t Target) Simulated() bool { return t.Own && t.Config.Provider == Sim }

// Resolve decides which cluster to use, always in the same order: the
// --kubeconfig/--context flags (c.Kubeconfig, c.Context), then
// $KUBECONFIG, then the cluster 'k8slab cluster up' made, then
// ~/.kube/config. With none of them, the target is k8slab's own cluster,
// not made yet. An explicit c.Provider of kind or sim names k8slab's own
// cluster of that kind.
func Resolve(c Config) Target {
	c.defaults()
	records := NewRecords(c.StateDir)
	own := func(why string) Target {
		t := Target{Config: c, Why: why, Own: true}
		for _, p := range []string{c.Provider, Kind, Sim} {
			if rec, ok, _ := records.Get(p, c.Name); ok {
				t.Config.Provider = rec.Provider
				t.Kubeconfig = rec.Kubeconfig
				break
			}
		}
		return t
	}
	existing := func(path, why string) Target {
		ec := c
		ec.Provider, ec.Kubeconfig = Existing, path
		return Target{Config: ec, Kubeconfig: path, Context: c.Context, Why: why}
	}
	switch {
	case c.Provider == Kind || c.Provider == Sim:
		return own("k8slab's " + c.Provider + " cluster " + quote(c.Name))
	case c.Kubeconfig != "":
		return existing(c.Kubeconfig, "--kubeconfig "+c.Kubeconfig)
	case c.Provider == Existing || c.Context != "":
		return existing("", "--context "+c.Context)
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		// 'eval $(k8slab cluster env)' points $KUBECONFIG at k8slab's own
		// file: that is still k8slab's cluster.
		if recs, err := records.All(); err == nil {
			for _, r := range recs {
				if sameFile(r.Kubeconfig, env) {
					c.Provider, c.Name = r.Provider, r.Name
					t := own("k8slab's " + r.Provider + " cluster " + quote(r.Name) + " (from $KUBECONFIG)")
					return t
				}
			}
		}
		return existing("", "$KUBECONFIG")
	}
	if recs, err := records.All(); err == nil && len(recs) > 0 {
		// The default name first; else whichever 'cluster up --name' made.
		r := recs[0]
		for _, rec := range recs {
			if rec.Name == c.Name {
				r = rec
				break
			}
		}
		c.Provider, c.Name = r.Provider, r.Name
		return own("k8slab's " + r.Provider + " cluster " + quote(r.Name))
	}
	if fileExists(filepath.Join(homedir.HomeDir(), clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)) {
		return existing("", "~/.kube/config")
	}
	return own("none yet: 'k8slab cluster up' creates one")
}

func quote(s string) string { return `"` + s + `"` }

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// ErrNoCluster is the answer when the target is k8slab's own cluster and
// it has not been made yet.
var ErrNoCluster error = problemf(nil, "create one with 'k8slab cluster up' (or press c in the course)", "there is no lab cluster yet")
