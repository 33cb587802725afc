package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// releaseBinary builds k8slab as 'make build' does (-trimpath, -s -w), so
// that whole-process figures are those of the binary people run.
func releaseBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "k8slab")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// sample is one whole-process run.
type sample struct {
	wall time.Duration
	// peakKB is the largest resident set of the process and of every
	// child it waited for: wait4 reports the maximum over both.
	peakKB int64
}

// peakKB reads the peak resident set of a finished process.
func peakKB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// runProcess runs a command to its end and fails the benchmark unless it
// exits 0.
func runProcess(b *testing.B, env []string, name string, args ...string) sample {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out.String())
	}
	return sample{wall: wall, peakKB: peakKB(cmd.ProcessState)}
}

// series collects the samples of one command across iterations.
type series []sample

// medianMS and medianMB are the middle of the runs: the machine is shared,
// and a median shrugs off the runs another job slowed down.
func (s series) medianMS() float64 {
	return median(s, func(x sample) float64 { return float64(x.wall.Microseconds()) / 1000 })
}

func (s series) medianMB() float64 {
	return median(s, func(x sample) float64 { return float64(x.peakKB) / 1024 })
}

func median(s series, f func(sample) float64) float64 {
	if len(s) == 0 {
		return 0
	}
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
