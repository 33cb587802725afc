package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkStartupToFirstFrame starts the real binary in a pseudo-terminal
// and measures until the home screen has been drawn, then quits it. It also
// reports the process's peak resident memory.
func BenchmarkStartupToFirstFrame(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "k8slab")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	state := b.TempDir()
	var peakKB int64
	var total time.Duration
	for b.Loop() {
		cmd := exec.Command(bin)
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
		total += time.Since(start)
		_, _ = tty.Write([]byte("q"))
		drained := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, tty); close(drained) }()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("k8slab exited with %v", err)
		}
		tty.Close()
		<-drained
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakKB = max(peakKB, ru.Maxrss)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-first-frame")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
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
