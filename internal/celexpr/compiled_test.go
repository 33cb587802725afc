package celexpr_test

import (
	"bytes"
	"flag"
	"os"
	"sort"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/internal/celexpr"
)

var update = flag.Bool("update", false, "rewrite compiled.bin from the built-in course")

// TestCompiledTableIsCurrent: compiled.bin holds exactly the expressions
// of the built-in course, each as parsing and checking it now makes it.
// A changed lab, a new cel-go or a changed environment shows here.
func TestCompiledTableIsCurrent(t *testing.T) {
	var sources []string
	celexpr.SetRecordSource(func(src string) { sources = append(sources, src) })
	defer celexpr.SetRecordSource(nil)
	if _, err := course.Load(assets.Course()); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, src := range sources {
		b, err := celexpr.CheckedBytes(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want[src] = b
	}
	if len(want) < 50 {
		t.Fatalf("the built-in course compiled %d expressions; it has hundreds", len(want))
	}
	enc := celexpr.EncodeTable(want)
	if *update {
		if err := os.WriteFile("compiled.bin", enc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if bytes.Equal(enc, celexpr.CompiledBin()) {
		for src, b := range want {
			if again, err := celexpr.RoundTrip(src); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("%q read from compiled.bin and written again differs (%v)", src, err)
			}
		}
		return
	}
	have := celexpr.DecodeTable(celexpr.CompiledBin())
	var stale []string
	for src, b := range want {
		if !bytes.Equal(have[src], b) {
			stale = append(stale, src)
		}
	}
	for src := range have {
		if _, ok := want[src]; !ok {
			stale = append(stale, src+" (no longer in the course)")
		}
	}
	sort.Strings(stale)
	t.Fatalf("compiled.bin is stale in %d expressions, e.g. %q; run: go test ./internal/celexpr -run TestCompiledTableIsCurrent -update", len(stale), stale[0])
}
