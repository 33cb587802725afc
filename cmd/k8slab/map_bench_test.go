package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"

	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// mapPods is how many pods the map benchmark's namespace holds. The
// simulated cluster has three nodes of 110 pods each.
const mapPods = "300"

// screen collects what a program in a pseudo-terminal draws. It reads all
// the time, so that the program never blocks on a full terminal.
type screen struct {
	mu      sync.Mutex
	text    bytes.Buffer
	changed chan struct{}
	done    chan struct{}
}

func newScreen(tty io.Reader) *screen {
	s := &screen{changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := tty.Read(buf)
			s.mu.Lock()
			s.text.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// wait returns once text appears in the output with its escape sequences
// taken out.
func (s *screen) wait(b *testing.B, text string, within time.Duration) {
	b.Helper()
	deadline := time.After(within)
	for {
		s.mu.Lock()
		seen := strings.Contains(ansi.Strip(s.text.String()), text)
		s.mu.Unlock()
		if seen {
			return
		}
		select {
		case <-s.changed:
		case <-s.done:
			b.Fatalf("the program ended before showing %q", text)
		case <-deadline:
			b.Fatalf("%q not shown within %s", text, within)
		}
	}
}

// kubectl runs kubectl with env, failing the benchmark if it fails.
func kubectl(b *testing.B, env []string, args ...string) {
	b.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
}

// BenchmarkLabMap300Pods opens 'k8slab lab open deployments' in a
// pseudo-terminal on a simulated cluster whose lab namespace holds 300
// ready pods, opens the cluster map (m) and waits until it counts them
// all. It reports the medians of the time from start to that map and of
// the process's peak resident memory (goal: 60 MB).
func BenchmarkLabMap300Pods(b *testing.B) {
	bin := releaseBinary(b)
	p, _ := clustertest.Start(b, "k8slab-map")
	env := append(os.Environ(), "KUBECONFIG="+p.KubeconfigPath(), "XDG_STATE_HOME="+b.TempDir(), "TERM=xterm-256color", "NO_COLOR=")
	// The first task's solution makes the lab's namespace and deployment
	// web; it then grows to 300 pods, and tolerates the control plane's
	// taint because two workers hold only 220.
	solve := exec.Command(bin, "lab", "solve", "deployments", "create-deployment")
	solve.Env = env
	if out, err := solve.CombinedOutput(); err != nil {
		b.Fatalf("lab solve: %v\n%s", err, out)
	}
	kubectl(b, env, "--namespace", "lab-deployments", "patch", "deployment", "web", "--patch",
		`{"spec":{"replicas":`+mapPods+`,"template":{"spec":{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}]}}}}`)
	kubectl(b, env, "--namespace", "lab-deployments", "rollout", "status", "deployment/web", "--timeout=180s")
	kubectl(b, env, "--namespace", "lab-deployments", "wait", "deployment/web", "--for=jsonpath={.status.readyReplicas}="+mapPods, "--timeout=180s")

	// Each round opens the map twice, with the TUI's soft memory limit and
	// without it (GOMEMLIMIT=off), so the two are compared on one machine
	// at one time.
	var runs, unlimited series
	for b.Loop() {
		runs = append(runs, openMap(b, bin, env))
		unlimited = append(unlimited, openMap(b, bin, append(slices.Clone(env), "GOMEMLIMIT=off")))
	}
	b.ReportMetric(runs.medianMS(), "ms-to-map")
	b.ReportMetric(runs.medianMB(), "peak-RSS-MB")
	b.ReportMetric(unlimited.medianMB(), "peak-RSS-MB-no-limit")
}

// openMap opens the lab, then its map, waits for every pod on it and quits.
func openMap(b *testing.B, bin string, env []string) sample {
	b.Helper()
	cmd, peak := measuredCommand(b, bin, "lab", "open", "deployments")
	cmd.Env = env
	start := time.Now()
	// Tall enough that the rollout line under the node boxes shows.
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 140})
	if err != nil {
		b.Fatal(err)
	}
	s := newScreen(tty)
	s.wait(b, "graded live", 60*time.Second)
	_, _ = tty.Write([]byte("m"))
	s.wait(b, mapPods+"/"+mapPods+" new ready", 60*time.Second)
	wall := time.Since(start)
	_, _ = tty.Write([]byte{0x03}) // ctrl+c
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			b.Fatalf("k8slab exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		b.Fatalf("k8slab did not quit on ctrl+c: %v", <-exited)
	}
	tty.Close()
	<-s.done
	return sample{wall: wall, peakKB: peak()}
}
