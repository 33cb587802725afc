package lessons_test

import (
	"testing"

	"github.com/k8slab/k8slab/lessons"
)

func FuzzParseCheatSheet(f *testing.F) {
	f.Add([]byte("---\ntitle: T\n---\n```\nx\n```\n"))
	f.Add([]byte("---\ntitle: [\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("# no front matter"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, ps := lessons.ParseCheatSheet(data)
		if (cs == nil) == (ps == nil) {
			t.Fatalf("exactly one of cheat sheet and problems must be set: %v %v", cs, ps)
		}
		for _, p := range ps {
			if p.Message == "" || p.Line < 0 {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
