package timeline_test

import (
	"slices"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/timeline"
)

// The built-in course says why each kind of step happens, and names no
// kind the timeline does not tell.
func TestBuiltInNotesCoverEveryKindOfStep(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range timeline.Kinds {
		if n := c.TimelineNote(k); n == nil || n.See == nil {
			t.Errorf("%s: no note on step %q, or it names no lesson", course.TimelineFile, k)
		}
	}
	for k := range c.TimelineNotes {
		if !slices.Contains(timeline.Kinds, k) {
			t.Errorf("%s: step %q is not a kind the timeline tells (timeline.Kinds)", course.TimelineFile, k)
		}
	}
}
