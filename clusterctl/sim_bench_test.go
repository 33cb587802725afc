package clusterctl

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSimUpDown times creating a simulated cluster until three nodes
// are Ready, and deleting it, as 'k8slab cluster up' and 'down' do.
func BenchmarkSimUpDown(b *testing.B) {
	bin := simBinDir(b)
	var up, down time.Duration
	for b.Loop() {
		state := b.TempDir()
		p, err := NewSim(Config{Name: "k8slab-bench", StateDir: state, CacheDir: b.TempDir(), SimBinDir: bin, SimInstant: true})
		if err != nil {
			b.Fatal(err)
		}
		records := NewRecords(state)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		start := time.Now()
		if err := Up(ctx, p, records, nil); err != nil {
			cancel()
			b.Fatal(err)
		}
		up += time.Since(start)
		start = time.Now()
		if err := Down(ctx, p, records, nil); err != nil {
			cancel()
			b.Fatal(err)
		}
		down += time.Since(start)
		cancel()
	}
	b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "ms-up-to-3-ready-nodes")
	b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "ms-down")
}
