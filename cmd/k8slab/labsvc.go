package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/workshop"
)

// labService connects the TUI's lab screen to the cluster. The client is
// made on first use: the cluster may be created after the TUI starts.
type labService struct {
	g *globals
	t target

	mu     sync.Mutex
	client dynamic.Interface
}

func (s *labService) dynamic() (dynamic.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		c, err := s.g.client(&s.t)
		if err != nil {
			return nil, err
		}
		s.client = c
	}
	return s.client, nil
}

func (s *labService) namespace(lab *checks.Lab) string {
	return s.g.labNamespace(&s.t, lab)
}

func (s *labService) Watch(ctx context.Context, lab *checks.Lab, answers map[string]string, onResult func(checks.LabResult)) error {
	c, err := s.dynamic()
	if err != nil {
		return err
	}
	return checks.NewEngine(c).Watch(ctx, lab, checks.Options{Namespace: s.namespace(lab), Answers: answers}, onResult)
}

func (s *labService) Start(ctx context.Context, lab *checks.Lab) error {
	c, err := s.dynamic()
	if err != nil {
		return err
	}
	return checks.StartLab(ctx, c, lab, s.namespace(lab))
}

func (s *labService) Reset(ctx context.Context, lab *checks.Lab) error {
	c, err := s.dynamic()
	if err != nil {
		return err
	}
	if s.g.learner(&s.t) != nil {
		return workshop.ResetLab(ctx, c, lab, s.namespace(lab))
	}
	return checks.ResetLab(ctx, c, lab, s.namespace(lab))
}

// Shell opens the learner's $SHELL with KUBECONFIG pointing at a copy of the
// cluster's kubeconfig whose default namespace is the lab's, so plain
// kubectl commands land in the lab. Bash also gets a prompt marker.
func (s *labService) Shell(lab *checks.Lab) (*exec.Cmd, error) {
	state, err := s.g.stateDirectory()
	if err != nil {
		return nil, err
	}
	ns := s.namespace(lab)
	dir := filepath.Join(state, "labs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	kc := filepath.Join(dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(s.g.kubeconfigPath(&s.t), s.t.context, ns, kc); err != nil {
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
