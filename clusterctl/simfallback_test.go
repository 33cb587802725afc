package clusterctl

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/k8slab/k8slab/clusterctl/internal/sim"
)

// fakeSimBinaries fills dir with executables named like the simulator's,
// which is all a provider looks for when it is made.
func fakeSimBinaries(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range sim.Binaries() {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSimFallbackOnlyForAutoAndBuiltBinaries(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir()) // no kwokctl to download releases
	bin := filepath.Join(t.TempDir(), "bin")
	c := Config{StateDir: t.TempDir(), CacheDir: t.TempDir(), SimBinDir: bin, Name: "fb"}

	for _, asked := range []string{Kind, Sim, Existing} {
		c.Provider = asked
		if SimFallback(ctx, c) != nil {
			t.Errorf("--provider %s: a fallback was offered; only auto falls back", asked)
		}
	}
	c.Provider = ""
	sim := SimFallback(ctx, c)
	if sim == nil {
		t.Fatal("auto (the default): no fallback")
	}
	if p := sim(); p != nil {
		t.Errorf("no simulator binaries, yet the fallback gave %s", p.Name())
	}
	fakeSimBinaries(t, bin)
	p := sim()
	if p == nil || p.Name() != Sim || p.ClusterName() != "fb" {
		t.Fatalf("with binaries the fallback gave %v, want the sim cluster fb", p)
	}
	if p.KubeconfigPath() != c.KubeconfigFor(Sim) {
		t.Errorf("fallback kubeconfig %s, want %s", p.KubeconfigPath(), c.KubeconfigFor(Sim))
	}
}

func TestSimBuildDir(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cache := t.TempDir()
	kind := &fakeProvider{name: Kind}
	sim := &fakeProvider{name: Sim}

	if dir, missing := SimBuildDir(Config{CacheDir: cache}, kind); missing || dir != "" {
		t.Errorf("kind: %q, %v; a kind cluster builds nothing", dir, missing)
	}
	cached := filepath.Join(cache, "sim", SimKubeVersion)
	if dir, missing := SimBuildDir(Config{CacheDir: cache}, sim); !missing || dir != cached {
		t.Errorf("empty cache: %q, %v; want %s to be built", dir, missing, cached)
	}
	// K8SLAB_SIM_BIN is where the learner asked for them: built there.
	own := filepath.Join(t.TempDir(), "own")
	if dir, missing := SimBuildDir(Config{CacheDir: cache, SimBinDir: own}, sim); !missing || dir != own {
		t.Errorf("K8SLAB_SIM_BIN empty: %q, %v; want %s to be built", dir, missing, own)
	}
	fakeSimBinaries(t, cached)
	if _, missing := SimBuildDir(Config{CacheDir: cache}, sim); missing {
		t.Error("binaries in the cache, yet a build is asked for")
	}
	// kwokctl on PATH downloads releases itself.
	path := t.TempDir()
	if err := os.WriteFile(filepath.Join(path, "kwokctl"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", path)
	if _, missing := SimBuildDir(Config{CacheDir: t.TempDir()}, sim); missing {
		t.Error("kwokctl on PATH, yet a build is asked for")
	}
}
