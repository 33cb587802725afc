package labsession

import (
	"errors"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/client-go/tools/clientcmd"
)

// ClusterServers lists the API server addresses in a kubeconfig: read them
// before the cluster, and its kubeconfig, are deleted, and hand them to
// ForgetShellFiles afterwards.
func ClusterServers(kubeconfig string) []string {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range cfg.Clusters {
		if c.Server != "" && !slices.Contains(out, c.Server) {
			out = append(out, c.Server)
		}
	}
	return out
}

// ForgetShellFiles deletes the lab shells' kubeconfigs (written by Shell
// in stateDir/labs) that point at any of servers, a cluster that is gone,
// so that no shell or script is left aiming at a dead address or, later,
// at another cluster on the same port; and the shells' bashrc once no
// kubeconfig is left beside it. It reports how many kubeconfigs it
// deleted. Files that do not parse are not k8slab's to judge, and stay.
func ForgetShellFiles(stateDir string, servers []string) (int, error) {
	if stateDir == "" || len(servers) == 0 {
		return 0, nil
	}
	dir := filepath.Join(stateDir, "labs")
	files, err := filepath.Glob(filepath.Join(dir, "*.kubeconfig"))
	if err != nil {
		return 0, err
	}
	removed, left := 0, 0
	var errs []error
	for _, f := range files {
		stale := false
		for _, s := range ClusterServers(f) {
			stale = stale || slices.Contains(servers, s)
		}
		if !stale {
			left++
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			left++
			continue
		}
		removed++
	}
	if left == 0 {
		if err := os.Remove(filepath.Join(dir, "bashrc")); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
