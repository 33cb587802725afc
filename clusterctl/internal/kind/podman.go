package kind

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// volumeCleanupTimeout bounds the few podman commands that remove
// left-over volumes; each answers in well under a second.
const volumeCleanupTimeout = 30 * time.Second

// removeLeftoverVolumes deletes the /var volumes kind's Podman provider
// made for this cluster's nodes and left behind. kind v0.33.0 creates a
// node's volume (labelled "<node name>=true") before its container, and
// deletes only the volumes of containers that exist: a `podman run` that
// fails leaves its volume, and `cluster down` would leave it too. Only
// volumes carrying exactly this cluster's node names are touched.
func removeLeftoverVolumes(ctx context.Context, cfg *v1alpha4.Cluster) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), volumeCleanupTimeout)
	defer cancel()
	var errs []string
	for _, node := range nodeNames(cfg) {
		out, err := exec.CommandContext(ctx, "podman", "volume", "ls", "--quiet", "--filter", "label="+node+"=true").Output()
		if err != nil {
			errs = append(errs, fmt.Sprintf("listing %s's volumes: %v", node, err))
			continue
		}
		for _, vol := range strings.Fields(string(out)) {
			if msg, err := exec.CommandContext(ctx, "podman", "volume", "rm", "--force", vol).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Sprintf("removing volume %s of %s: %v: %s", vol, node, err, strings.TrimSpace(string(msg))))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("podman volumes of kind cluster %q: %s", cfg.Name, strings.Join(errs, "; "))
	}
	return nil
}

// nodeNames are the container names kind gives cfg's nodes: <cluster>-
// control-plane, then <cluster>-worker, -worker2, ... (kind's
// MakeNodeNamer; one control plane here).
func nodeNames(cfg *v1alpha4.Cluster) []string {
	var names []string
	workers := 0
	for _, n := range cfg.Nodes {
		if n.Role == v1alpha4.ControlPlaneRole {
			names = append(names, cfg.Name+"-control-plane")
			continue
		}
		workers++
		if workers == 1 {
			names = append(names, cfg.Name+"-worker")
		} else {
			names = append(names, fmt.Sprintf("%s-worker%d", cfg.Name, workers))
		}
	}
	return names
}

// kindNetwork is the Podman network kind v0.33.0 puts every node on
// (KIND_EXPERIMENTAL_PODMAN_NETWORK aside).
const kindNetwork = "kind"

// cniPluginDirs are where Podman's CNI back end looks for plugins when
// containers.conf names no cni_plugin_dirs.
var cniPluginDirs = []string{"/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin"}

// checkPodmanDNS fails early, in seconds, where kind's worker nodes would
// fail to join after kubeadm's five-minute timeout: they reach the control
// plane by its container name, which only a network with DNS resolves.
// Podman's netavark back end has DNS through aardvark-dns; its CNI back end
// (Podman 4 on Debian 12, for one) only through the dnsname plugin, and a
// network made before that plugin was installed keeps having none.
func checkPodmanDNS(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, volumeCleanupTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", "network", "inspect", kindNetwork).Output()
	if err == nil {
		dns, perr := networkHasDNS(out)
		if perr != nil || dns {
			return perr
		}
		return &problem.Problem{
			Summary: fmt.Sprintf("Podman's network %q has no DNS, so kind's worker nodes could not find the control plane by name and would never join", kindNetwork),
			Fix: fmt.Sprintf("give Podman a DNS plugin (see the next message if it is missing), then remove the network with `podman network rm %s`: kind makes it again, this time with DNS",
				kindNetwork),
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// No network yet: kind will make one, with DNS only if Podman finds
	// a DNS back end.
	out, err = exec.CommandContext(ctx, "podman", "info", "--format", "{{.Host.NetworkBackend}}").Output()
	if err != nil || strings.TrimSpace(string(out)) != "cni" {
		return nil
	}
	if dnsnameInstalled(cniPluginDirs, func(p string) bool { _, err := os.Stat(p); return err == nil }) {
		return nil
	}
	return noDNSPluginProblem()
}

func noDNSPluginProblem() *problem.Problem {
	return &problem.Problem{
		Summary: "Podman uses CNI networking here without its dnsname plugin, so the network kind makes would have no DNS: kind's worker nodes could not find the control plane by name and would never join",
		Fix: "install the plugin (Debian and Ubuntu: `sudo apt-get install golang-github-containernetworking-plugin-dnsname`; " +
			"elsewhere the package that provides the CNI plugin `dnsname`), or switch Podman to netavark with aardvark-dns, then try again",
	}
}

// networkHasDNS reads `podman network inspect`'s dns_enabled.
func networkHasDNS(inspect []byte) (bool, error) {
	var nets []struct {
		DNSEnabled bool `json:"dns_enabled"`
	}
	if err := json.Unmarshal(inspect, &nets); err != nil || len(nets) != 1 {
		return false, fmt.Errorf("reading `podman network inspect %s`: %v", kindNetwork, err)
	}
	return nets[0].DNSEnabled, nil
}

// dnsnameInstalled reports whether a CNI dnsname plugin is in dirs.
func dnsnameInstalled(dirs []string, exists func(string) bool) bool {
	for _, d := range dirs {
		if exists(filepath.Join(d, "dnsname")) {
			return true
		}
	}
	return false
}
