package labsession

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
)

// Shell opens the learner's $SHELL with KUBECONFIG pointing at a copy of the
// cluster's kubeconfig whose default namespace is the lab's, so plain
// kubectl commands land in the lab. Bash also gets a prompt marker.
func (s *Service) Shell(lab *labfile.Lab) (*exec.Cmd, error) {
	if s.stateDir == "" {
		return nil, errNoStateDir
	}
	t := s.resolve()
	if t.Own && t.Kubeconfig == "" {
		return nil, clusterctl.ErrNoCluster
	}
	ns := s.Namespace(lab)
	dir := filepath.Join(s.stateDir, "labs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	kc := filepath.Join(dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(t.Kubeconfig, t.Context, ns, kc); err != nil {
		return nil, err
	}
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	banner := fmt.Sprintf("k8slab: a shell for lab %q; kubectl works in namespace %s. Type exit to return.", lab.Title, ns)
	var cmd *exec.Cmd
	if filepath.Base(shell) == "bash" {
		rc := filepath.Join(dir, "bashrc")
		content := fmt.Sprintf("[ -f ~/.bashrc ] && . ~/.bashrc\nPS1=\"(k8slab %s) $PS1\"\necho %q\n", ns, banner)
		if err := os.WriteFile(rc, []byte(content), 0o600); err != nil {
			return nil, err
		}
		cmd = exec.Command(shell, "--rcfile", rc, "-i")
	} else {
		cmd = exec.Command(shell, "-c", fmt.Sprintf("echo %q; exec %q -i", banner, shell))
	}
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "K8SLAB_LAB="+lab.ID, "K8SLAB_NAMESPACE="+ns)
	return cmd, nil
}
