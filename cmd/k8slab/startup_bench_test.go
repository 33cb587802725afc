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
// resident memory (goal: 60 ms, 45 MB).
func BenchmarkStartupToFirstFrame(b *testing.B) {
	bin := releaseBinary(b)
	state := b.TempDir()
	var runs series
	for b.Loop() {
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
			b.Fatalf("k8slab exited with %v", err)
		}
		tty.Close()
		<-drained
		runs = append(runs, sample{wall: wall, peakKB: peak()})
	}
	b.ReportMetric(runs.medianMS(), "ms-to-first-frame")
	b.ReportMetric(runs.medianMB(), "peak-RSS-MB")
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
