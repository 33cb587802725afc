package labenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/labfile"
)

// StepTimeout bounds one solution or mistake step. A step is often a
// wait for controllers (`kubectl rollout status --timeout=180s`), which
// on a real cluster under load takes minutes; the bound sits above the
// longest timeout a lab's own steps give, so the step's says what failed.
const StepTimeout = 5 * time.Minute

// RunStep performs a solution or mistake step: a shell command run with
// KUBECONFIG set to kubeconfig (whose context should default to the lab
// namespace), or manifests applied in namespace.
func RunStep(ctx context.Context, client dynamic.Interface, kubeconfig, namespace string, st labfile.Step) error {
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if st.Apply != "" {
		return ApplyYAML(ctx, client, namespace, st.Apply)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", st.Run)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", st.Run, err, strings.TrimSpace(string(out)))
	}
	return nil
}
