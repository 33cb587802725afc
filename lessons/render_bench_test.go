package lessons_test

import (
	"syscall"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/lessons"
)

func loadBuiltIn(b *testing.B) []*lessons.Lesson {
	b.Helper()
	c, err := course.Load(assets.Course())
	if err != nil {
		b.Fatal(err)
	}
	return c.AllLessons()
}

// BenchmarkRenderCourse renders every lesson of the built-in course at 80
// columns: "cold" with a new Renderer per pass (the first time a learner
// opens each lesson), "cached" with one that has seen them (going back to a
// lesson, or to a width seen before).
func BenchmarkRenderCourse(b *testing.B) {
	all := loadBuiltIn(b)
	renderAll := func(b *testing.B, r *lessons.Renderer) {
		for _, l := range all {
			if _, err := r.Render(l.Body, lessons.Dark, 80); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			renderAll(b, lessons.NewRenderer())
		}
		b.ReportMetric(float64(len(all)), "lessons/op")
		b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	})
	b.Run("cached", func(b *testing.B) {
		r := lessons.NewRenderer()
		renderAll(b, r)
		for b.Loop() {
			renderAll(b, r)
		}
		b.ReportMetric(float64(len(all)), "lessons/op")
	})
}

// peakRSSMB is the test process's resident-memory high-water mark so far.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
