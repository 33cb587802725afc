package main

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkStartupToFirstFrame starts the release binary in a
// pseudo-terminal and measures until the home screen has been drawn, then
// quits it. It reports the medians of that time and of the process's peak
// resident memory (goal: 60 ms, 45 MB); with $K8SLAB_BENCH_BASE, the same
// for that binary, run in turn with the release one, and the ratio.
func BenchmarkStartupToFirstFrame(b *testing.B) {
	bins := []string{releaseBinary(b)}
	if base := baseBinary(); base != "" {
		bins = append(bins, base)
	}
	// Each binary keeps its own state folder: a different version may
	// read or write another progress schema.
	states := make([]string, len(bins))
	for i := range states {
		states[i] = b.TempDir()
	}
	runs := make([]series, len(bins))
	for i := 0; b.Loop(); i++ {
		// Alternate which binary goes first, so that a noisy neighbour
		// slows both alike.
		for j := range bins {
			k := (i + j) % len(bins)
			runs[k] = append(runs[k], firstFrame(b, bins[k], states[k]))
		}
	}
	b.ReportMetric(runs[0].medianMS(), "ms-to-first-frame")
	b.ReportMetric(runs[0].medianMB(), "peak-RSS-MB")
	if len(bins) > 1 {
		b.ReportMetric(runs[1].medianMS(), "ms-base-to-first-frame")
		b.ReportMetric(runs[1].medianMB(), "peak-RSS-MB-base")
		b.ReportMetric(runs[0].medianMS()/runs[1].medianMS(), "x-first-frame/base")
	}
}

// firstFrame starts bin in a pseudo-terminal with state as its state
// folder, measures until the home screen has been drawn, and quits it.
func firstFrame(b *testing.B, bin, state string) sample {
	b.Helper()
	cmd, peak := measuredCommand(b, bin)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state, "TERM=xterm-256color", "NO_COLOR=")
	start := time.Now()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		b.Fatal(err)
	}
	if err := waitForOutput(tty, []byte("Next:"), 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		b.Fatal(err)
	}
	wall := time.Since(start)
	_, _ = tty.Write([]byte("q"))
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, tty); close(drained) }()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%s exited with %v", bin, err)
	}
	tty.Close()
	<-drained
	return sample{wall: wall, peakKB: peak()}
}

func waitForOutput(r io.Reader, marker []byte, timeout time.Duration) error {
	found := make(chan error, 1)
	go func() {
		var seen []byte
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			seen = append(seen, buf[:n]...)
			if bytes.Contains(seen, marker) {
				found <- nil
				return
			}
			if err != nil {
				found <- err
				return
			}
		}
	}()
	select {
	case err := <-found:
		return err
	case <-time.After(timeout):
		return os.ErrDeadlineExceeded
	}
}
