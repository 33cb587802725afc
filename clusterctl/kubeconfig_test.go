package clusterctl

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func writeKubeconfig(t *testing.T, path, name, server string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "token-" + name}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "ns-" + name}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// kubectlView is the configuration kubectl sees: client-go's default
// loading rules, as kubectl uses them.
func kubectlView(t *testing.T) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), nil).RawConfig()
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestMergeKubeconfigKeepsTheLearnersContexts(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "home", "config")
	lab := filepath.Join(dir, "lab", "kubeconfig")
	if err := os.MkdirAll(filepath.Dir(user), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(lab), 0o700); err != nil {
		t.Fatal(err)
	}
	writeKubeconfig(t, user, "work", "https://work.example:6443")
	writeKubeconfig(t, lab, "kind-k8slab", "https://127.0.0.1:40000")
	labBefore, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", user)

	got, err := MergeKubeconfig(lab)
	if err != nil {
		t.Fatal(err)
	}
	if got != user {
		t.Errorf("wrote to %q, want %q", got, user)
	}
	cfg := kubectlView(t)
	if cfg.CurrentContext != "work" {
		t.Errorf("current context = %q, want the learner's own %q", cfg.CurrentContext, "work")
	}
	for _, name := range []string{"work", "kind-k8slab"} {
		ctx := cfg.Contexts[name]
		if ctx == nil || ctx.Cluster != name || ctx.AuthInfo != name || ctx.Namespace != "ns-"+name {
			t.Errorf("context %q = %+v", name, ctx)
		}
		if cfg.AuthInfos[name] == nil || cfg.AuthInfos[name].Token != "token-"+name {
			t.Errorf("user %q = %+v", name, cfg.AuthInfos[name])
		}
	}
	if c := cfg.Clusters["kind-k8slab"]; c == nil || c.Server != "https://127.0.0.1:40000" {
		t.Errorf("lab cluster = %+v", c)
	}
	if c := cfg.Clusters["work"]; c == nil || c.Server != "https://work.example:6443" {
		t.Errorf("learner's cluster = %+v", c)
	}
	labAfter, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	if string(labAfter) != string(labBefore) {
		t.Errorf("the lab's own kubeconfig changed:\n%s", labAfter)
	}
	if _, err := os.Stat(user + ".lock"); !os.IsNotExist(err) {
		t.Errorf("kubectl's lock file was left behind: %v", err)
	}

	// A cluster made again (new port) replaces its entries in place.
	writeKubeconfig(t, lab, "kind-k8slab", "https://127.0.0.1:40001")
	if _, err := MergeKubeconfig(lab); err != nil {
		t.Fatal(err)
	}
	cfg = kubectlView(t)
	if c := cfg.Clusters["kind-k8slab"]; c == nil || c.Server != "https://127.0.0.1:40001" {
		t.Errorf("after a second merge, lab cluster = %+v", c)
	}
	if len(cfg.Contexts) != 2 || cfg.CurrentContext != "work" {
		t.Errorf("after a second merge: contexts %v, current %q", cfg.Contexts, cfg.CurrentContext)
	}
}

func TestMergeKubeconfigCreatesAMissingFile(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "new", ".kube", "config")
	lab := filepath.Join(dir, "kubeconfig")
	writeKubeconfig(t, lab, "k8slab-sim", "https://127.0.0.1:40000")
	t.Setenv("KUBECONFIG", user)

	if _, err := MergeKubeconfig(lab); err != nil {
		t.Fatal(err)
	}
	cfg := kubectlView(t)
	if cfg.Contexts["k8slab-sim"] == nil || cfg.Clusters["k8slab-sim"] == nil || cfg.AuthInfos["k8slab-sim"] == nil {
		t.Errorf("merged into a new file: %+v", cfg)
	}
	if cfg.CurrentContext != "" {
		t.Errorf("current context = %q; merging should not choose one for the learner", cfg.CurrentContext)
	}
}
