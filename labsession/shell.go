package labsession

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
)

// The shell's start-up code is constant text: the lab's title and
// namespace reach it only as environment variables, which a shell expands
// once and never re-reads as code. A title from a --content course or a
// namespace from a workshop marker could otherwise hold $(...) or
// backticks, which run inside double quotes.
const (
	// bashrc keeps the learner's own settings and marks the prompt. The
	// single quotes put a reference to the variable in PS1, not its value:
	// bash expands the prompt every time, and a value pasted into PS1
	// would be expanded as code.
	bashrc = `[ -f ~/.bashrc ] && . ~/.bashrc
PS1='(k8slab ${K8SLAB_NAMESPACE}) '"$PS1"
printf '%s\n' "$K8SLAB_BANNER"
`
	// otherShell, run by /bin/sh whatever the learner's shell speaks
	// (fish has no $0), prints the banner and becomes the learner's shell.
	otherShell = `printf '%s\n' "$K8SLAB_BANNER"; exec "$K8SLAB_SHELL" -i`
)

// WriteLabKubeconfig writes, under stateDir, a copy of the cluster's
// kubeconfig whose default namespace is ns, and returns its path: the
// lab screen's shell and 'k8slab cluster env --lab' both point KUBECONFIG
// at it, so plain kubectl commands land in the lab. ns must be a valid
// namespace name, since it names the file.
func WriteLabKubeconfig(stateDir, kubeconfig, kubeContext, ns string) (string, error) {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", fmt.Errorf("lab namespace %q is not a valid namespace name: %s", ns, strings.Join(errs, "; "))
	}
	dir := filepath.Join(stateDir, "labs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	kc := filepath.Join(dir, ns+".kubeconfig")
	return kc, clusterctl.WriteNamespacedKubeconfig(kubeconfig, kubeContext, ns, kc)
}

// Shell opens the learner's $SHELL with KUBECONFIG pointing at a copy of the
// cluster's kubeconfig whose default namespace is the lab's, so plain
// kubectl commands land in the lab. Bash also gets a prompt marker. It
// resolves the cluster and writes files: call it from a tea.Cmd.
func (s *Service) Shell(lab *labfile.Lab) (*exec.Cmd, error) {
	if s.stateDir == "" {
		return nil, errNoStateDir
	}
	ns := s.Namespace(lab)
	// The namespace names a file below; a workshop marker is not to be
	// trusted to keep it inside the folder.
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return nil, fmt.Errorf("lab namespace %q is not a valid namespace name: %s", ns, strings.Join(errs, "; "))
	}
	t := s.resolve()
	if t.Own && t.Kubeconfig == "" {
		return nil, clusterctl.ErrNoCluster
	}
	kc, err := WriteLabKubeconfig(s.stateDir, t.Kubeconfig, t.Context, ns)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(kc)
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	banner := fmt.Sprintf("k8slab: a shell for lab %q; kubectl works in namespace %s. Type exit to return.", lab.Title, ns)
	var cmd *exec.Cmd
	if filepath.Base(shell) == "bash" {
		rc := filepath.Join(dir, "bashrc")
		if err := os.WriteFile(rc, []byte(bashrc), 0o600); err != nil {
			return nil, err
		}
		cmd = exec.Command(shell, "--rcfile", rc, "-i")
	} else {
		cmd = exec.Command("/bin/sh", "-c", otherShell)
	}
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "K8SLAB_LAB="+lab.ID, "K8SLAB_NAMESPACE="+ns, "K8SLAB_BANNER="+banner, "K8SLAB_SHELL="+shell)
	return cmd, nil
}
