package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
)

func writeKubeconfig(t *testing.T, path, context, server string) {
	t.Helper()
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: ` + context + `
  cluster: {server: "` + server + `"}
contexts:
- name: ` + context + `
  context: {cluster: ` + context + `, user: u}
users:
- name: u
  user: {token: t}
current-context: ` + context + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// With $KUBECONFIG set, the status bar's cluster, the lab screen's client
// and every lab command all use that cluster, not the one k8slab made.
func TestKubeconfigEnvWinsEverywhere(t *testing.T) {
	state := t.TempDir()
	own := filepath.Join(state, "clusters", "sim-k8slab.kubeconfig")
	writeKubeconfig(t, own, "k8slab", "https://127.0.0.1:1")
	if err := clusterctl.NewRecords(state).Put(clusterctl.Record{Name: "k8slab", Provider: clusterctl.Sim, Kubeconfig: own, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(t.TempDir(), "work.kubeconfig")
	writeKubeconfig(t, theirs, "work", "https://127.0.0.1:2")
	t.Setenv("KUBECONFIG", theirs)
	t.Setenv("HOME", t.TempDir())

	g := &globals{stateDir: state}
	var none target
	tg := g.resolve(&none)
	if tg.Own || tg.Why != "$KUBECONFIG" {
		t.Fatalf("resolved %+v; want $KUBECONFIG's cluster", tg)
	}
	// The status bar.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := clusterctl.NewManager(tg.Config).Status(ctx)
	if st.Provider != clusterctl.Existing || st.Name != "work" {
		t.Errorf("status bar shows %s (%s); want the existing cluster work", st.Name, st.Provider)
	}
	// The lab screen and the lab commands.
	cfg, err := g.restConfig(&none)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:2" {
		t.Errorf("labs connect to %s; want $KUBECONFIG's server", cfg.Host)
	}

	// Pointing $KUBECONFIG at k8slab's own file is still k8slab's cluster.
	t.Setenv("KUBECONFIG", own)
	if tg := g.resolve(&none); !tg.Own || tg.Config.Provider != clusterctl.Sim {
		t.Errorf("with $KUBECONFIG at k8slab's own file: %+v", tg)
	}
}
