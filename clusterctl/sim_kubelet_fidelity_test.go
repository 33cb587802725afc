package clusterctl_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// TestSimKubeletFidelity checks what the simulator's controller
// (internal/simkubelet) adds to kwok's stages against the kubelet of 1.37:
// a container whose environment names a missing ConfigMap or Secret, or a
// missing key, waits with CreateContainerConfigError and the kubelet's
// message (kubelet_pods.go makeEnvironmentVariables), with the events
// Pulled and Failed "Error: ..." (kuberuntime_container.go
// startContainer), and starts once what it names appears. Every wait is a
// watch.
func TestSimKubeletFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, state := clustertest.Start(t, "k8slab-kubelet")
	cfg, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 0 // see TestSimCrashFidelity
	f := &fixture{cs: kubernetes.NewForConfigOrDie(cfg), kubeconfig: p.KubeconfigPath(), cache: filepath.Join(state, "kubectl-cache")}
	f.waitServiceAccount(t)

	t.Run("MissingKeyWaitsThenStarts", f.missingKey)
	t.Run("MissingObjects", f.missingObjects)
	t.Run("LogsPerImage", f.logsPerImage)
}

// logsPerImage: kubectl logs shows the lines the catalogue declares for an
// image; a crash-looping container shows the run that ended, and
// --previous the run before (kubelet_pods.go validateContainerLogStatus).
func (f *fixture) logsPerImage(t *testing.T) {
	f.createPod(t, envPod("web", corev1.Container{}))
	f.createPod(t, postgresPod("db-logs"))
	f.watchPod(t, "web", 60*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			return "not Ready"
		}
		return ""
	})
	f.watchPod(t, "db-logs", 90*time.Second, func(p *corev1.Pod) string {
		if r, _ := waitingReason(p, "postgres"); r != "CrashLoopBackOff" {
			return "container postgres waits with " + r
		}
		return ""
	})
	// The Logs object follows the pod's status, so poll kubectl (each try
	// is an event: a request answered), a bounded number of times.
	want := map[string]string{
		"web":                "/docker-entrypoint.sh: Configuration complete; ready for start up",
		"db-logs":            "Error: Database is uninitialized and superuser password is not specified.",
		"db-logs --previous": "Error: Database is uninitialized and superuser password is not specified.",
	}
	for args, line := range want {
		var out string
		var err error
		for range 50 {
			out, err = f.kubectl(t, append([]string{"logs"}, strings.Fields(args)...)...)
			if err == nil && strings.Contains(out, line) {
				break
			}
		}
		if err != nil || !strings.Contains(out, line) {
			t.Errorf("kubectl logs %s = %q (%v), want it to show %q", args, out, err, line)
		}
	}
	if out, _ := f.kubectl(t, "logs", "web"); !strings.HasPrefix(out, "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty") {
		t.Errorf("kubectl logs web starts with %q, want the entrypoint's first line", out)
	}
}

func envPod(name string, c corev1.Container) *corev1.Pod {
	c.Name, c.Image = "app", "nginx:1.27"
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
}

func cmKey(name, key string, optional bool) corev1.EnvVar {
	return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: &optional,
	}}}
}

func secretKey(name, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key,
	}}}
}

// waitConfigError watches a pod until its container waits with
// CreateContainerConfigError and msg, failing at once if it ever runs.
func (f *fixture) waitConfigError(t *testing.T, name, msg string) *corev1.Pod {
	t.Helper()
	return f.watchPod(t, name, 60*time.Second, func(p *corev1.Pod) string {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running != nil || cs.State.Terminated != nil {
				t.Fatalf("pod %s: container %s started although its configuration cannot be built: %+v", name, cs.Name, cs.State)
			}
		}
		if r, m := waitingReason(p, "app"); r != "CreateContainerConfigError" || m != msg {
			return fmt.Sprintf("container app waits with %q %q", r, m)
		}
		return ""
	})
}

// missingKey: the container is never created while the key is missing;
// the pod is Pending and not ready, and says why in its status and
// events. Adding the key lets it start, with no restart counted.
func (f *fixture) missingKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config"}, Data: map[string]string{"log_level": "info"}}
	if _, err := f.cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.createPod(t, envPod("api", corev1.Container{Env: []corev1.EnvVar{cmKey("app-config", "LOG_LEVEL", false)}}))
	f.createPod(t, envPod("api-optional", corev1.Container{Env: []corev1.EnvVar{cmKey("app-config", "LOG_LEVEL", true)}}))
	f.createPod(t, envPod("api-right", corev1.Container{Env: []corev1.EnvVar{cmKey("app-config", "log_level", false)}}))

	msg := "couldn't find key LOG_LEVEL in ConfigMap default/app-config"
	pod := f.waitConfigError(t, "api", msg)
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("phase = %s, want Pending (no container was created)", pod.Status.Phase)
	}
	if c := condition(pod, corev1.PodReady); c == nil || c.Status != corev1.ConditionFalse || c.Reason != "ContainersNotReady" || c.Message != "containers with unready status: [app]" {
		t.Errorf("Ready condition = %+v, want False, ContainersNotReady", c)
	}
	if cs := pod.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.Ready {
		t.Errorf("container status = %+v, want not ready, no restarts", cs)
	}
	f.watchEvent(t, "api", `Normal Pulled: Container image "nginx:1.27" already present on machine and can be accessed by the pod`)
	f.watchEvent(t, "api", "Warning Failed: Error: "+msg)
	if out := f.mustKubectl(t, "get", "pod", "api", "--no-headers"); !strings.Contains(out, "0/1") || !strings.Contains(out, "CreateContainerConfigError") {
		t.Errorf("kubectl get pod api = %q, want 0/1 CreateContainerConfigError", out)
	}
	// An optional reference skips what is missing; the right key is there.
	for _, name := range []string{"api-optional", "api-right"} {
		f.watchPod(t, name, 60*time.Second, func(p *corev1.Pod) string {
			if !ready(p) {
				return "not Ready"
			}
			return ""
		})
	}

	ctx, cancel = context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	cm.Data["LOG_LEVEL"] = "debug"
	if _, err := f.cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod = f.watchPod(t, "api", 60*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			r, m := waitingReason(p, "app")
			return fmt.Sprintf("not Ready (%s %s)", r, m)
		}
		return ""
	})
	if cs := pod.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("after the key appeared: %+v, want running with no restarts", cs)
	}
	f.watchEvent(t, "api", "Normal Started: Container started")
}

// missingObjects: a missing ConfigMap or Secret (envFrom or valueFrom)
// and a missing Secret key, each in the kubelet's words.
func (f *fixture) missingObjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, StringData: map[string]string{"user": "app"}}
	if _, err := f.cs.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		c   corev1.Container
		msg string
	}{
		"from-no-cm":     {corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}}}}, `configmap "absent" not found`},
		"from-no-secret": {corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}}}}, `secret "absent" not found`},
		"no-cm":          {corev1.Container{Env: []corev1.EnvVar{cmKey("absent", "k", false)}}, `configmap "absent" not found`},
		"no-secret-key":  {corev1.Container{Env: []corev1.EnvVar{secretKey("creds", "password")}}, "couldn't find key password in Secret default/creds"},
	}
	for name, c := range cases {
		f.createPod(t, envPod(name, c.c))
	}
	for name, c := range cases {
		f.waitConfigError(t, name, c.msg)
		f.watchEvent(t, name, "Warning Failed: Error: "+c.msg)
	}
}
