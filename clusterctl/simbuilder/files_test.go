package simbuilder

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The embedded module must be clusterctl/simbuild's, byte for byte: a
// learner's build then uses the versions the repository's build pins.
func TestEmbeddedModuleMatchesSimbuild(t *testing.T) {
	src := filepath.Join("..", "simbuild")
	for _, name := range []string{"go.mod", "go.sum", "build.sh", "tools.go", "etcd/main.go"} {
		want, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := File(name)
		if err != nil {
			t.Fatalf("%s is not embedded: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s differs from clusterctl/simbuild/%s: run 'go generate ./clusterctl/simbuilder'", name, name)
		}
	}
	// Every Go source or module file of simbuild is embedded.
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if strings.HasSuffix(rel, ".go") || rel == "go.mod" || rel == "go.sum" {
			if _, err := File(filepath.ToSlash(rel)); err != nil {
				t.Errorf("clusterctl/simbuild/%s is not embedded: add it to generate.sh", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Binaries lists what build.sh builds, from the same packages.
func TestBinariesMatchBuildScript(t *testing.T) {
	script, err := File("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\[([a-z-]+)\]="([^"]+)"`)
	var fromScript []Binary
	for _, m := range re.FindAllStringSubmatch(string(script), -1) {
		fromScript = append(fromScript, Binary{m[1], m[2]})
	}
	if len(fromScript) != len(Binaries) {
		t.Fatalf("build.sh builds %v, Binaries lists %v", fromScript, Binaries)
	}
	for i := range Binaries {
		if fromScript[i] != Binaries[i] {
			t.Errorf("binary %d: build.sh has %v, Binaries %v", i, fromScript[i], Binaries[i])
		}
	}
}

// The stamp's hash is build.sh's, so 'make sim' accepts a learner's build.
func TestInputsHashMatchesBuildScriptStamp(t *testing.T) {
	sum, err := InputsSHA256()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 64 {
		t.Fatalf("hash %q", sum)
	}
	script, _ := File("build.sh")
	if !strings.Contains(string(script), "cat go.mod go.sum build.sh etcd/main.go | sha256sum") {
		t.Error("build.sh hashes other inputs now: update InputsSHA256")
	}
}

func TestSelectedRefusesUnknownBinary(t *testing.T) {
	if _, err := selected([]string{"kubelet"}); err == nil || !strings.Contains(err.Error(), `"kubelet"`) {
		t.Errorf("selected(kubelet) = %v", err)
	}
	got, err := selected([]string{"kwokctl"})
	if err != nil || len(got) != 1 || got[0].Package != "sigs.k8s.io/kwok/cmd/kwokctl" {
		t.Errorf("selected(kwokctl) = %v, %v", got, err)
	}
}

func TestEstimateScalesWithCores(t *testing.T) {
	if got := Estimate(2).Minutes(); got != 17 {
		t.Errorf("two cores: %v minutes, measured 17", got)
	}
	if Estimate(8) >= Estimate(2) || Estimate(64).Minutes() < 6 {
		t.Errorf("estimates: 8 cores %v, 64 cores %v", Estimate(8), Estimate(64))
	}
}
