package clusterctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// simBinDir finds the simulator's binaries for tests (clustertest.BinDir
// cannot be used here: it imports this package). In CI missing binaries
// fail the test instead of skipping it.
func simBinDir(t testing.TB) string {
	t.Helper()
	dir := SimBinDir()
	if !HasSimBinaries(dir) {
		if os.Getenv("CI") != "" {
			t.Fatalf("simulator binaries missing in %s; .ci/run must run 'make sim' first", dir)
		}
		t.Skipf("simulator binaries not in %s; run 'make sim'", dir)
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	return dir
}

// TestSimClusterLifecycle creates a simulated cluster, drives it with the
// real kubectl through the kubeconfig k8slab wrote, checks what the
// controllers did with client-go, and deletes it leaving nothing behind.
func TestSimClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	bin := simBinDir(t)
	state := t.TempDir()
	cfg := Config{Provider: Sim, Name: "k8slab-it", StateDir: state, CacheDir: t.TempDir(), SimBinDir: bin, SimInstant: true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	p, _, err := Select(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	records := NewRecords(state)
	var steps []string
	progress := func(s Step) {
		if s.State == StepDone {
			steps = append(steps, s.Name)
		}
	}
	t.Cleanup(func() { _ = Down(context.Background(), p, records, nil) })
	if err := Up(ctx, p, records, progress); err != nil {
		t.Fatalf("up: %v", err)
	}
	if len(steps) < 4 || !strings.Contains(steps[len(steps)-1], "Ready") {
		t.Errorf("progress steps = %q", steps)
	}
	if err := Up(ctx, p, records, nil); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second up = %v, want already running", err)
	}

	kc := p.KubeconfigPath()
	if info, err := os.Stat(kc); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig %s: %v, mode %v; want 0600", kc, err, info.Mode().Perm())
	}
	st := StatusOf(ctx, p, "")
	if !st.Reachable || st.ReadyNodes() != 3 || st.Version != SimKubeVersion {
		t.Fatalf("status = %+v", st)
	}
	wantNodes := []string{"k8slab-it-control-plane", "k8slab-it-worker", "k8slab-it-worker2"}
	for i, n := range st.Nodes {
		if n.Name != wantNodes[i] {
			t.Errorf("node %d = %s, want %s", i, n.Name, wantNodes[i])
		}
	}
	if !slices.Contains(st.Nodes[0].Roles, "control-plane") {
		t.Errorf("control-plane node roles = %v", st.Nodes[0].Roles)
	}

	restCfg, err := RESTConfig(kc, "")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(restCfg)
	kubectl := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kc, "-n", "default"}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(state, "kubectl-cache"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	kubectl("create", "deployment", "web", "--image=nginx:1.26", "--replicas=3")
	waitDeployment(t, ctx, cs, "web", 3, "nginx:1.26", 1)
	kubectl("scale", "deployment", "web", "--replicas=5")
	waitDeployment(t, ctx, cs, "web", 5, "nginx:1.26", 1)
	kubectl("set", "image", "deployment/web", "nginx=nginx:1.27")
	waitDeployment(t, ctx, cs, "web", 5, "nginx:1.27", 2)
	kubectl("rollout", "undo", "deployment/web")
	// Undo brings back revision 1's template as the new revision 3.
	waitDeployment(t, ctx, cs, "web", 5, "nginx:1.26", 3)

	pids := simPIDs(t, filepath.Join(state, "sim", "clusters", "k8slab-it"))
	if len(pids) < 5 {
		t.Errorf("expected etcd, apiserver, controller-manager, scheduler and kwok, found %d pids", len(pids))
	}
	if err := Down(ctx, p, records, nil); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still running after down", pid)
		}
	}
	var left []string
	filepath.Walk(state, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.Contains(path, "kubectl-cache") && filepath.Base(path) != "clusters.json" {
			left = append(left, path)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("files left after down: %v", left)
	}
}

// alive reports whether pid runs and is not a zombie (which holds no
// ports).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(stat, ')')
	return err != nil || i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func simPIDs(t *testing.T, clusterDir string) []int {
	files, _ := filepath.Glob(filepath.Join(clusterDir, "pids", "*.pid"))
	var pids []int
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var pid int
		if _, err := fmt.Sscan(string(raw), &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitDeployment waits until the deployment's current ReplicaSet is at the
// given revision with the image, has all replicas ready, and older
// ReplicaSets are scaled to zero, the state 'kubectl rollout status' waits
// for.
func waitDeployment(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, replicas int32, image string, revision int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = deploymentState(ctx, cs, name, replicas, image, revision)
		if last == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("deployment %s never reached %d ready replicas of %s at revision %d: %s", name, replicas, image, revision, last)
}

func deploymentState(ctx context.Context, cs kubernetes.Interface, name string, replicas int32, image string, revision int) string {
	ctx, cancel := context.WithTimeout(ctx, APITimeout)
	defer cancel()
	d, err := cs.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas != replicas || d.Status.ReadyReplicas != replicas || d.Status.Replicas != replicas {
		return fmt.Sprintf("status %+v", d.Status)
	}
	rsList, err := cs.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return err.Error()
	}
	var current *appsv1.ReplicaSet
	for i := range rsList.Items {
		rs := &rsList.Items[i]
		if rs.Annotations["deployment.kubernetes.io/revision"] == fmt.Sprint(revision) {
			current = rs
		} else if rs.Status.Replicas != 0 {
			return fmt.Sprintf("old ReplicaSet %s still has %d pods", rs.Name, rs.Status.Replicas)
		}
	}
	if current == nil {
		return fmt.Sprintf("no ReplicaSet at revision %d", revision)
	}
	if got := current.Spec.Template.Spec.Containers[0].Image; got != image {
		return fmt.Sprintf("revision %d runs %s", revision, got)
	}
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return err.Error()
	}
	ready := 0
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == image {
				ready++
			}
		}
	}
	if ready != int(replicas) {
		return fmt.Sprintf("%d of %d pods ready with %s", ready, replicas, image)
	}
	return ""
}
