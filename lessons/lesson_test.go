package lessons_test

import (
	"testing"

	"github.com/k8slab/k8slab/lessons"
)

func FuzzParseLesson(f *testing.F) {
	f.Add([]byte("---\nid: a\ntitle: A\norder: 1\nminutes: 2\n---\nbody\n"))
	f.Add([]byte("---\nid: [\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("no front matter"))
	f.Add([]byte("---\nid: a\ntitle: A\norder: 1\nminutes: 2\n---\n- item\n  more\n```\n- code\n  x\n```\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, ps := lessons.ParseLesson(data)
		if (l == nil) == (ps == nil) {
			t.Fatalf("exactly one of lesson and problems must be set: %v %v", l, ps)
		}
		for _, p := range ps {
			if p.Message == "" || p.Line < 0 {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}

func TestRendererCachesOutputPerWidthAndStyle(t *testing.T) {
	r := lessons.NewRenderer()
	md := "## Title\n\nSome words that will wrap at a narrow width, and a list:\n\n- one\n- two\n"
	narrow, err := r.Render(md, lessons.Dark, 20)
	if err != nil {
		t.Fatal(err)
	}
	wide, _ := r.Render(md, lessons.Dark, 80)
	if narrow == wide {
		t.Error("different widths gave the same text")
	}
	light, _ := r.Render(md, lessons.Light, 80)
	if light == wide {
		t.Error("light and dark styles gave the same text")
	}
	if again, _ := r.Render(md, lessons.Dark, 20); again != narrow {
		t.Error("cached output differs from the first render")
	}
}
