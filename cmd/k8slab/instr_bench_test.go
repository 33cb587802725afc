package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkStartupInstructions counts the instructions (valgrind's
// callgrind, "Ir") that start-up costs, a figure that is the same on a
// loaded machine and an idle one, fast or slow: 'k8slab version', 'k8slab
// check deployments' against a cluster that refuses connections (so that
// the count is start-up, course and lab loading, and client set-up, not a
// network), and the TUI until its home screen is drawn, then quit. Each
// runs three times and the median is reported, in millions.
//
// The Go runtime runs with one P, no collector and no asynchronous
// preemption: callgrind serialises threads, and with the collector or
// several Ps the count moves by half from one run to the next with how the
// threads interleave; so measured, it moves by under 0.1%. RDTSCP is
// turned off because valgrind 3.19 cannot run it: the runtime reads the
// clock with it when a lock is contended, and the TUI died of SIGILL.
// K8SLAB_BENCH_BIN measures another build (see releaseBinary).
func BenchmarkStartupInstructions(b *testing.B) {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		b.Skip("valgrind is not installed (apt-get install valgrind)")
	}
	bin := releaseBinary(b)
	dir := b.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(refusingKubeconfig), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "GOMAXPROCS=1", "GOGC=off", "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off",
		"KUBECONFIG="+kubeconfig, "XDG_STATE_HOME="+filepath.Join(dir, "state"), "TERM=xterm-256color", "NO_COLOR=")
	callgrind := func(out string, args ...string) *exec.Cmd {
		cmd := exec.Command(valgrind, append([]string{"--tool=callgrind", "--callgrind-out-file=" + out, bin}, args...)...)
		cmd.Env = env
		return cmd
	}
	counts := map[string][]float64{}
	for b.Loop() {
		for _, c := range []struct {
			name string
			args []string
		}{{"version", []string{"version"}}, {"check", []string{"check", "deployments"}}} {
			for range 3 {
				cmd := callgrind(filepath.Join(dir, "callgrind.out"), c.args...)
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = io.Discard, &stderr
				err := cmd.Run()
				n, perr := collected(stderr.String())
				if perr != nil {
					b.Fatalf("%s under callgrind: %v (exit: %v)\n%s", c.name, perr, err, stderr.String())
				}
				counts[c.name] = append(counts[c.name], n)
			}
		}
		for range 3 {
			n, err := firstFrameInstructions(b, callgrind(filepath.Join(dir, "callgrind.out")))
			if err != nil {
				b.Fatal(err)
			}
			counts["first-frame"] = append(counts["first-frame"], n)
		}
	}
	for _, name := range []string{"version", "check", "first-frame"} {
		b.ReportMetric(medianOf(counts[name])/1e6, "Minstr-"+name)
	}
}

// refusingKubeconfig points at a port nothing listens on.
const refusingKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: refused
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: refused
  context: {cluster: refused, user: refused}
current-context: refused
users:
- name: refused
  user: {token: none}
`

var collectedRE = regexp.MustCompile(`Collected : (\d+)`)

// collected reads the instruction count callgrind prints as it ends.
func collected(stderr string) (float64, error) {
	m := collectedRE.FindStringSubmatch(stderr)
	if m == nil {
		return 0, fmt.Errorf("callgrind reported no count")
	}
	return strconv.ParseFloat(m[1], 64)
}

// firstFrameInstructions runs the TUI under callgrind in an 80x24
// pseudo-terminal until the home screen is drawn, and quits it. The TUI
// owns the terminal, so callgrind's summary arrives there too.
func firstFrameInstructions(b *testing.B, cmd *exec.Cmd) (float64, error) {
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		return 0, err
	}
	defer tty.Close()
	scr := newScreen(tty)
	scr.wait(b, "Next:", 2*time.Minute)
	_, _ = tty.Write([]byte("q"))
	_ = cmd.Wait()
	<-scr.done
	scr.mu.Lock()
	defer scr.mu.Unlock()
	return collected(scr.text.String())
}
