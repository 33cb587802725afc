package clusterctl_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// TestSimCrashFidelity checks that containers whose command cannot run
// fail on the simulated cluster as the kubelet of 1.37 reports them
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff,
// pkg/kubelet/kubelet.go initialCrashLoopBackOff): postgres without a
// password exits 1 and crash-loops, stress above its memory limit is
// OOMKilled with exit code 137, and the same images run once configured.
// Every wait is a watch on the pod or its events.
func TestSimCrashFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, state := clustertest.Start(t, "k8slab-crash")
	cfg, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	// RESTConfig's timeout bounds a whole request, a watch's stream
	// included: it would end every watch here after 5 s, long before a
	// crash loop's back-off. Each call has its own context instead.
	cfg.Timeout = 0
	f := &fixture{cs: kubernetes.NewForConfigOrDie(cfg), kubeconfig: p.KubeconfigPath(), cache: filepath.Join(state, "kubectl-cache")}
	f.waitServiceAccount(t)

	t.Run("MissingSettingCrashLoops", f.crashLoop)
	t.Run("ConfiguredImageRuns", f.configured)
	t.Run("MemoryAboveLimitIsOOMKilled", f.oomKilled)
}

// waitServiceAccount watches for the namespace's default service account:
// pods are refused until the controller manager has made it.
func (f *fixture) waitServiceAccount(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := f.cs.CoreV1().ServiceAccounts("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "default").String()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if ev.Type == watch.Added || ev.Type == watch.Modified {
			return
		}
	}
	t.Fatal("no default service account")
}

// watchPod watches a pod until cond says it is done (""), and fails the
// test with what cond said last if the pod never gets there.
func (f *fixture) watchPod(t *testing.T, name string, timeout time.Duration, cond func(*corev1.Pod) string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w, err := f.cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	last := "not seen"
	for ev := range w.ResultChan() {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		if last = cond(pod); last == "" {
			return pod
		}
	}
	t.Fatalf("pod %s: %s", name, last)
	return nil
}

// watchEvent watches the events about a pod until one matches want
// exactly ("Type Reason: message").
func (f *fixture) watchEvent(t *testing.T, pod, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := f.cs.CoreV1().Events("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var seen []string
	for ev := range w.ResultChan() {
		e, ok := ev.Object.(*corev1.Event)
		if !ok {
			continue
		}
		got := fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Message)
		if got == want {
			return
		}
		seen = append(seen, got)
	}
	t.Errorf("pod %s has no event %q; events:\n%s", pod, want, strings.Join(seen, "\n"))
}

func postgresPod(name string, env ...corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "postgres",
			Image: "postgres:17",
			Env:   env,
		}}},
	}
}

func stressPod(name, limit string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:    "stress",
			Image:   "polinux/stress",
			Command: []string{"stress"},
			Args:    []string{"--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"},
		}}},
	}
	if limit != "" {
		pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}
	}
	return pod
}

// crashLoop: the kubelet restarts a container that exited at once, then
// backs off 10 s, then 20 s, saying so in the waiting state and a BackOff
// event; the last run's exit code and reason stay in lastState.
func (f *fixture) crashLoop(t *testing.T) {
	f.createPod(t, postgresPod("db"))
	f.createPod(t, postgresPod("db-empty", corev1.EnvVar{Name: "POSTGRES_PASSWORD", Value: ""}))
	var reasons []string
	pod := f.watchPod(t, "db", 90*time.Second, func(p *corev1.Pod) string {
		if ready(p) {
			t.Fatal("postgres without a password became Ready")
		}
		if len(p.Status.ContainerStatuses) != 1 {
			return "no container status"
		}
		cs := p.Status.ContainerStatuses[0]
		r := stateReason(cs)
		if len(reasons) == 0 || reasons[len(reasons)-1] != r {
			reasons = append(reasons, r)
		}
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.RestartCount < 2 {
			return fmt.Sprintf("container postgres: %s, %d restarts; want CrashLoopBackOff after 2 restarts", r, cs.RestartCount)
		}
		return ""
	})
	// The kubelet reports each exit before it backs off, and restarts the
	// first exit at once: Error (0 restarts), Error (1), CrashLoopBackOff,
	// Error (2), CrashLoopBackOff.
	want := []string{"Error", "CrashLoopBackOff", "Error", "CrashLoopBackOff"}
	if got := strings.Join(reasons, " "); !strings.HasSuffix(got, strings.Join(want, " ")) {
		t.Errorf("container postgres went through %q, want it to end with %q", got, strings.Join(want, " "))
	}
	cs := pod.Status.ContainerStatuses[0]
	podDesc := fmt.Sprintf("db_default(%s)", pod.UID)
	if want := "back-off 20s restarting failed container=postgres pod=" + podDesc; cs.State.Waiting.Message != want {
		t.Errorf("waiting message = %q, want %q", cs.State.Waiting.Message, want)
	}
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 || last.Reason != "Error" {
		t.Errorf("last state = %+v, want terminated with exit code 1, reason Error", cs.LastTerminationState)
	}
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase = %s, want Running (restartPolicy Always restarts it)", pod.Status.Phase)
	}
	if c := condition(pod, corev1.PodReady); c == nil || c.Status != corev1.ConditionFalse || c.Reason != "ContainersNotReady" || c.Message != "containers with unready status: [postgres]" {
		t.Errorf("Ready condition = %+v, want False, ContainersNotReady", c)
	}
	f.watchEvent(t, "db", "Warning BackOff: Back-off restarting failed container postgres in pod "+podDesc)
	f.watchEvent(t, "db", `Normal Pulled: Container image "postgres:17" already present on machine and can be accessed by the pod`)
	if out := f.mustKubectl(t, "get", "pod", "db", "--no-headers"); !strings.Contains(out, "0/1") || !strings.Contains(out, "CrashLoopBackOff") {
		t.Errorf("kubectl get pod db = %q, want 0/1 CrashLoopBackOff", out)
	}
	// An empty value is no password either.
	f.watchPod(t, "db-empty", 60*time.Second, func(p *corev1.Pod) string {
		if ready(p) {
			t.Fatal("postgres with an empty password became Ready")
		}
		if r, _ := waitingReason(p, "postgres"); r != "CrashLoopBackOff" {
			return "container postgres waits with " + r
		}
		return ""
	})
}

// configured: the same images run once given what they need, and a
// container that runs is never restarted.
func (f *fixture) configured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": "s3cret"}}
	if _, err := f.cs.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.createPod(t, postgresPod("db-value", corev1.EnvVar{Name: "POSTGRES_PASSWORD", Value: "s3cret"}))
	f.createPod(t, postgresPod("db-secret", corev1.EnvVar{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"},
	}}))
	f.createPod(t, stressPod("stress-fits", "300Mi"))
	f.createPod(t, stressPod("stress-unlimited", ""))
	for _, name := range []string{"db-value", "db-secret", "stress-fits", "stress-unlimited"} {
		f.watchPod(t, name, 30*time.Second, func(p *corev1.Pod) string {
			if len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Terminated != nil {
				t.Fatalf("%s: the container ended: %+v", name, p.Status.ContainerStatuses[0].State.Terminated)
			}
			if !ready(p) {
				return "not Ready"
			}
			return ""
		})
	}
}

// oomKilled: a container that uses more memory than its limit is killed
// by the kernel; containerd reports reason OOMKilled and exit code 137
// (128 + SIGKILL), and the kubelet restarts it with back-off.
func (f *fixture) oomKilled(t *testing.T) {
	f.createPod(t, stressPod("oom", "100Mi"))
	var sawOOM bool
	pod := f.watchPod(t, "oom", 60*time.Second, func(p *corev1.Pod) string {
		if ready(p) {
			t.Fatal("stress using 250M under a 100Mi limit became Ready")
		}
		if len(p.Status.ContainerStatuses) != 1 {
			return "no container status"
		}
		cs := p.Status.ContainerStatuses[0]
		if term := cs.State.Terminated; term != nil {
			if term.Reason != "OOMKilled" || term.ExitCode != 137 {
				t.Fatalf("container ended with %s, exit code %d; want OOMKilled, 137", term.Reason, term.ExitCode)
			}
			sawOOM = true
		}
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
			return "container stress: " + stateReason(cs)
		}
		return ""
	})
	if !sawOOM {
		t.Error("the container was never seen OOMKilled")
	}
	if last := pod.Status.ContainerStatuses[0].LastTerminationState.Terminated; last == nil || last.Reason != "OOMKilled" || last.ExitCode != 137 {
		t.Errorf("last state = %+v, want OOMKilled with exit code 137", pod.Status.ContainerStatuses[0].LastTerminationState)
	}
	if want := fmt.Sprintf("back-off 10s restarting failed container=stress pod=oom_default(%s)", pod.UID); pod.Status.ContainerStatuses[0].State.Waiting.Message != want {
		t.Errorf("waiting message = %q, want %q", pod.Status.ContainerStatuses[0].State.Waiting.Message, want)
	}
}

func stateReason(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return cs.State.Terminated.Reason
	case cs.State.Running != nil:
		return "Running"
	}
	return "no state"
}

func condition(pod *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i, c := range pod.Status.Conditions {
		if c.Type == typ {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
