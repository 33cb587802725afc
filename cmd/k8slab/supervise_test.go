package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// TestClusterSupervisorProcess drives the built k8slab binary, as a learner
// would: 'cluster up' leaves a detached supervisor that restarts what dies,
// 'cluster status' tells the truth about each component, 'cluster up'
// brings back a cluster whose processes are all gone, and 'cluster down'
// leaves no process behind.
func TestClusterSupervisorProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds k8slab and starts a cluster")
	}
	simBin := clustertest.BinDir(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "k8slab")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("building k8slab: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state")
	const name = "k8slab-sup"
	k8slab := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, append([]string{"--state-dir", state, "cluster"}, args...)...)
		cmd.Env = append(os.Environ(), "K8SLAB_SIM_BIN="+simBin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out.String(), exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("k8slab %v: %v", args, err)
		}
		return out.String(), 0
	}
	t.Cleanup(func() { k8slab("down", "--name", name) })
	clusterDir := filepath.Join(state, "sim", "clusters", name)
	pidIn := func(file string) int {
		raw, _ := os.ReadFile(filepath.Join(clusterDir, file))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		return pid
	}
	supervisorPID := func() int { return pidIn("k8slab-supervisor.pid") }
	componentPID := func(c string) int { return pidIn(filepath.Join("pids", c+".pid")) }
	// waitStatus polls 'cluster status' until its exit status is want and
	// its output has every line of contains.
	waitStatus := func(bound time.Duration, want int, contains ...string) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		var out string
		var code int
		for time.Since(start) < bound {
			out, code = k8slab("status", "--name", name)
			ok := code == want
			for _, c := range contains {
				ok = ok && strings.Contains(out, c)
			}
			if ok {
				return out, time.Since(start)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("status never exited %d with %q within %v; last (%d):\n%s", want, contains, bound, code, out)
		return "", 0
	}

	out, code := k8slab("up", "--provider", "sim", "--instant", "--name", name)
	if code != 0 {
		t.Fatalf("up exited %d:\n%s", code, out)
	}
	sup := supervisorPID()
	if sup == 0 || !strings.Contains(cmdline(sup), "cluster\x00supervise") {
		t.Fatalf("no supervisor after up (pid %d, %q)", sup, cmdline(sup))
	}
	out, _ = waitStatus(30*time.Second, 0, "running, Kubernetes "+clusterctl.SimKubeVersion, "Supervisor: running", "COMPONENT")
	for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"} {
		if !strings.Contains(out, c+" ") {
			t.Errorf("status lacks component %s:\n%s", c, out)
		}
	}

	// The supervisor paused, the scheduler killed: status says degraded and
	// who, with exit status 1; once the supervisor resumes it restarts the
	// scheduler.
	if err := syscall.Kill(sup, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	sched := componentPID("kube-scheduler")
	if err := syscall.Kill(sched, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitStatus(backWithin, 1, "degraded: kube-scheduler is down, restarting")
	if err := syscall.Kill(sup, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	_, took := waitStatus(backWithin, 0, "running, Kubernetes")
	t.Logf("scheduler killed under the supervisor process: healthy %v after it resumed", took.Round(10*time.Millisecond))
	if componentPID("kube-scheduler") == sched {
		t.Errorf("the scheduler's pid file still names the killed process")
	}

	// An object to outlive a 'reboot'.
	cfg, err := clusterctl.RESTConfig(filepath.Join(state, "clusters", "sim-"+name+".kubeconfig"), "")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}}, metav1.CreateOptions{})
	cancel()
	if err != nil {
		t.Fatal(err)
	}

	// A reboot: every process gone, the supervisor first.
	_ = syscall.Kill(supervisorPID(), syscall.SIGKILL)
	for _, pid := range processesUnder(state) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitStatus(backWithin, 1, "stopped: run 'k8slab cluster up'")
	out, code = k8slab("up", "--name", name)
	if code != 0 || !strings.Contains(out, "Starting the stopped simulated cluster") {
		t.Fatalf("up after a reboot exited %d:\n%s", code, out)
	}
	if sup2 := supervisorPID(); sup2 == 0 || sup2 == sup || !strings.Contains(cmdline(sup2), "supervise") {
		t.Errorf("no new supervisor after up (pid %d)", sup2)
	}
	ctx, cancel = context.WithTimeout(context.Background(), clusterctl.APITimeout)
	_, err = cs.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
	cancel()
	if err != nil {
		t.Errorf("the config map did not survive the reboot: %v", err)
	}
	if out, code := k8slab("up", "--name", name); code != 0 || !strings.Contains(out, "already running and healthy") {
		t.Errorf("second up exited %d:\n%s", code, out)
	}

	// Another reboot, and this time the learner goes straight to a check:
	// it needs the cluster, so it brings it back, and grades for real.
	sup = supervisorPID()
	_ = syscall.Kill(sup, syscall.SIGKILL)
	for _, pid := range processesUnder(state) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitStatus(backWithin, 1, "stopped: run 'k8slab cluster up'")
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	check := exec.CommandContext(ctx, exe, "--state-dir", state, "check", "explore-cluster", "--format", "json")
	check.Env = append(os.Environ(), "K8SLAB_SIM_BIN="+simBin, "KUBECONFIG=")
	checkOut, _ := check.CombinedOutput()
	cancel()
	if strings.Contains(string(checkOut), "unreachable") || strings.Contains(string(checkOut), "refused") || !strings.Contains(string(checkOut), `"lab"`) {
		t.Errorf("check after a reboot did not reach the cluster:\n%s", checkOut)
	}
	waitStatus(30*time.Second, 0, "running, Kubernetes")
	if sup2 := supervisorPID(); sup2 == 0 || sup2 == sup {
		t.Errorf("check did not start a new supervisor (pid %d)", sup2)
	}

	if out, code := k8slab("down", "--name", name); code != 0 {
		t.Fatalf("down exited %d:\n%s", code, out)
	}
	if left := processesUnder(state); len(left) > 0 {
		for _, pid := range left {
			t.Errorf("process %d left after down: %q", pid, cmdline(pid))
		}
	}
}

// backWithin bounds each wait for the cluster to reach a state: the 30 s a
// learner is promised for a component to be back, not a speed measurement
// (each 'status' alone takes a second or more on a loaded machine).
const backWithin = 30 * time.Second

func cmdline(pid int) string {
	raw, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(raw)
}

// processesUnder lists live processes whose command line names dir: the
// cluster's components and its supervisor.
func processesUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdline(pid), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}
