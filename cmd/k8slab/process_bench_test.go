package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// releaseBinary builds k8slab as 'make build' does (-trimpath, -s -w), so
// that whole-process figures are those of the binary people run. With
// K8SLAB_BENCH_BIN set, it measures that binary instead: an earlier build,
// to compare with.
func releaseBinary(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("K8SLAB_BENCH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(b.TempDir(), "k8slab")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// baseBinary is a second k8slab to measure beside the release binary, in
// the same run and interleaved with it ($K8SLAB_BENCH_BASE, e.g. one
// built from an earlier commit): on a shared machine only figures taken
// side by side compare. "" when none is given.
func baseBinary() string { return os.Getenv("K8SLAB_BENCH_BASE") }

// sample is one whole-process run.
type sample struct {
	wall time.Duration
	// peakKB is the largest resident set of the process and of every
	// child it waited for: wait4 reports the maximum over both.
	peakKB int64
}

// measuredCommand is exec.Command wrapped in GNU time when the machine has
// it. wait4's peak resident set of a child that Go starts counts the pages
// it shared with the benchmark process before exec, so every command would
// read at least as large as the benchmark itself (all of them read 48.23
// MB on one run); time(1) is a small parent, and reports the command alone.
func measuredCommand(b *testing.B, name string, args ...string) (cmd *exec.Cmd, peak func() int64) {
	b.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		cmd = exec.Command(name, args...)
		return cmd, func() int64 { return peakKB(cmd.ProcessState) }
	}
	out := filepath.Join(b.TempDir(), "rss")
	cmd = exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out, name}, args...)...)
	return cmd, func() int64 {
		data, err := os.ReadFile(out)
		if err != nil {
			b.Fatalf("time(1) wrote no peak RSS for %s: %v", name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			b.Fatalf("time(1) output for %s: %q", name, data)
		}
		return kb
	}
}

// peakKB reads the peak resident set of a finished process from wait4,
// where time(1) is missing.
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
	cmd, peak := measuredCommand(b, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out.String())
	}
	return sample{wall: wall, peakKB: peak()}
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
