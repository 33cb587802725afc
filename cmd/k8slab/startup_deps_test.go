package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStartupLinksNoHeavyRegistry keeps out of the binary the packages
// whose init runs at the start of every command and which k8slab does not
// need: client-go's scheme of every API group (the typed clientset,
// informer factory and discovery link it; it was 650 kB and 5,700
// allocations of package init, and the clientset doubled the binary) and
// chroma's lexer and style registries (lessons render code blocks
// themselves). Use a REST client with a scheme of the groups it needs, or
// the dynamic client.
func TestStartupLinksNoHeavyRegistry(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{
		"k8s.io/client-go/kubernetes/scheme",
		"k8s.io/client-go/informers",
		"k8s.io/client-go/discovery",
		"github.com/alecthomas/chroma/v2/lexers",
		"github.com/alecthomas/chroma/v2/styles",
	}
	linked := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		linked[p] = true
	}
	if len(linked) < 100 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", len(linked), out)
	}
	for _, p := range banned {
		if linked[p] {
			t.Errorf("k8slab links %s, whose init runs before every command", p)
		}
	}
}
