package course_test

import (
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

// BenchmarkLoadCourse is the one-off cost of loading and validating the
// built-in course: eagerly, as lint does, and with lab expressions left to
// their first evaluation, as the TUI does at start-up.
func BenchmarkLoadCourse(b *testing.B) {
	for _, bm := range []struct {
		name string
		opts []course.Option
	}{{"eager", nil}, {"lazy", []course.Option{course.CompileLabsLazily()}}} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := course.Load(assets.Course(), bm.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
