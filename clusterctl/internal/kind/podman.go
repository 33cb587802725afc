package kind

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

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
