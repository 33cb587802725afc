package clusterctl

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestResolvePicksOneClusterInOrder(t *testing.T) {
	writeFile := func(path string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	type setup struct {
		flagKubeconfig, flagContext string
		env                         string // $KUBECONFIG; "own" means k8slab's own file
		record, homeConfig          bool
	}
	for _, tt := range []struct {
		name       string
		setup      setup
		wantOwn    bool
		wantKC     string // "own", "flag", "" (default rules)
		wantWhy    string
		wantProvid string
	}{
		{"nothing at all", setup{}, true, "", "none yet: 'k8slab cluster up' creates one", Auto},
		{"only ~/.kube/config", setup{homeConfig: true}, false, "", "~/.kube/config", Existing},
		{"k8slab's cluster beats ~/.kube/config", setup{homeConfig: true, record: true}, true, "own", `k8slab's sim cluster "k8slab"`, Sim},
		{"$KUBECONFIG beats k8slab's cluster", setup{env: "other", record: true}, false, "", "$KUBECONFIG", Existing},
		{"$KUBECONFIG naming k8slab's own file", setup{env: "own", record: true}, true, "own", `k8slab's sim cluster "k8slab" (from $KUBECONFIG)`, Sim},
		{"--kubeconfig beats everything", setup{flagKubeconfig: "flag", env: "other", record: true}, false, "flag", "--kubeconfig ", Existing},
		{"--context alone uses the default rules", setup{flagContext: "ctx", record: true}, false, "", "--context ctx", Existing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home, state := t.TempDir(), t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("KUBECONFIG", "")
			own := filepath.Join(state, "clusters", "sim-k8slab.kubeconfig")
			if tt.setup.record {
				writeFile(own)
				if err := NewRecords(state).Put(Record{Name: DefaultName, Provider: Sim, Kubeconfig: own, CreatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.setup.homeConfig {
				writeFile(filepath.Join(home, ".kube", "config"))
			}
			switch tt.setup.env {
			case "own":
				t.Setenv("KUBECONFIG", own)
			case "other":
				t.Setenv("KUBECONFIG", writeFile(filepath.Join(home, "other.kubeconfig")))
			}
			c := Config{StateDir: state, Context: tt.setup.flagContext}
			flag := ""
			if tt.setup.flagKubeconfig != "" {
				flag = writeFile(filepath.Join(home, "flag.kubeconfig"))
				c.Kubeconfig = flag
			}
			got := Resolve(c)
			wantKC := map[string]string{"own": own, "flag": flag, "": ""}[tt.wantKC]
			if tt.wantWhy == "--kubeconfig " {
				tt.wantWhy += flag
			}
			if got.Own != tt.wantOwn || got.Kubeconfig != wantKC || got.Why != tt.wantWhy || got.Config.Provider != tt.wantProvid {
				t.Errorf("Resolve = own %v, kubeconfig %q, why %q, provider %s;\nwant own %v, kubeconfig %q, why %q, provider %s",
					got.Own, got.Kubeconfig, got.Why, got.Config.Provider, tt.wantOwn, wantKC, tt.wantWhy, tt.wantProvid)
			}
		})
	}
}
