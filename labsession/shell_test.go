package labsession

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labfile"
)

const shellKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: k8slab, context: {cluster: c, user: u}}]
current-context: k8slab
`

// A lab title is text from a course, which may be anyone's (--content): in
// the shell's banner it is shown, never run, whatever quoting it holds.
func TestShellNeverRunsTheLabTitle(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(shellKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	title := `Pwn $(touch ` + marker + `-dollar) and ` + "`touch " + marker + "-tick`" + ` and "$(touch ` + marker + `-quoted)" ; touch ` + marker + `-semi`
	for _, shell := range []string{"/bin/bash", "/bin/sh"} {
		if _, err := os.Stat(shell); err != nil {
			t.Logf("no %s here", shell)
			continue
		}
		t.Run(filepath.Base(shell), func(t *testing.T) {
			t.Setenv("SHELL", shell)
			t.Setenv("HOME", t.TempDir()) // no ~/.bashrc of the machine's
			s := New(func() clusterctl.Target { return clusterctl.Target{Kubeconfig: kc, Context: "k8slab"} }, t.TempDir(), Options{})
			cmd, err := s.Shell(&labfile.Lab{ID: "web", Title: title, Namespace: "lab-web"})
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader("exit\n"), &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("shell: %v\n%s%s", err, out.String(), errOut.String())
			}
			matches, _ := filepath.Glob(marker + "*")
			if len(matches) > 0 {
				t.Errorf("the lab title ran as code: %v", matches)
			}
			if !strings.Contains(out.String(), "k8slab: a shell for lab") || !strings.Contains(out.String(), "$(touch "+marker+"-dollar)") || !strings.Contains(out.String(), "`touch "+marker+"-tick`") {
				t.Errorf("the banner does not show the title as it is:\n%s", out.String())
			}
		})
	}
}

// A namespace names a file and reaches the prompt: one that is not a
// namespace name (a doctored workshop marker) is refused.
func TestShellRefusesANamespaceThatIsNoName(t *testing.T) {
	s := New(func() clusterctl.Target { return clusterctl.Target{Kubeconfig: "unused"} }, t.TempDir(), Options{
		Namespace: func(*labfile.Lab) string { return "../$(touch x)" },
	})
	if _, err := s.Shell(&labfile.Lab{ID: "web"}); err == nil || !strings.Contains(err.Error(), "not a valid namespace name") {
		t.Errorf("Shell = %v, want the namespace refused", err)
	}
}
