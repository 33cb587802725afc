package clusterctl_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
)

// TestSimFidelity checks that the simulated cluster does not pretend: an
// image that does not exist is never pulled, a probe on a port nobody
// listens on never passes, a pod bigger than any node is not scheduled, and
// a claim binds to a matching PersistentVolume, as on a real cluster.
func TestSimFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, state := clustertest.Start(t, "k8slab-fid")
	cfg, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cs: kubernetes.NewForConfigOrDie(cfg), kubeconfig: p.KubeconfigPath(), cache: filepath.Join(state, "kubectl-cache")}

	// Pods are refused until the controller manager has made the
	// namespace's default service account, a moment after the API is up.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
		_, err := f.cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no default service account: %v", err)
		}
	}

	// Checked last: the kubelet tries a failed pull again after a while.
	f.createPod(t, nginxPod("retrying", "nginx:9.99"))

	t.Run("UnknownTagBacksOffAndIsNeverReady", f.unknownTag)
	t.Run("KnownImageBecomesReady", f.knownImage)
	t.Run("ImageChangeRestartsContainer", f.imageChange)
	t.Run("ProbeOnWrongPortOrPathStaysNotReady", f.wrongProbePort)
	t.Run("LivenessOnWrongPortRestarts", f.liveness)
	t.Run("RolloutToUnknownTagStallsAndUndoRecovers", f.stalledRollout)
	t.Run("OversizedCPURequestStaysPending", f.oversized)
	t.Run("StaticPersistentVolumeBinds", f.staticPV)
	t.Run("FailedPullIsRetried", f.retried)
}

// retried: after backing off the kubelet pulls again, fails again, and
// the pod keeps its one address.
func (f *fixture) retried(t *testing.T) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		pulls := 0
		for _, e := range f.events(t, "retrying") {
			if strings.HasPrefix(e, `Normal Pulling: Pulling image "nginx:9.99"`) {
				pulls++
			}
		}
		if pulls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the image was pulled %d times in a minute; events:\n%s", pulls, strings.Join(f.events(t, "retrying"), "\n"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	f.waitPod(t, "retrying", 30*time.Second, func(p *corev1.Pod) string {
		if ready(p) {
			t.Fatal("pod retrying became Ready")
		}
		if len(p.Status.PodIPs) != 1 {
			t.Fatalf("pod retrying has addresses %v, want one", p.Status.PodIPs)
		}
		if r, _ := waitingReason(p, "web"); r != "ImagePullBackOff" && r != "ErrImagePull" {
			return "container web waits with " + r
		}
		return ""
	})
}

type fixture struct {
	cs                kubernetes.Interface
	kubeconfig, cache string
}

func (f *fixture) kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", f.kubeconfig, "-n", "default"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+f.cache)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (f *fixture) mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := f.kubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitPod polls a pod until cond says it is done (""), or fails the test
// with what cond said last. Every state seen is passed to seen, if set.
func (f *fixture) waitPod(t *testing.T, name string, timeout time.Duration, cond func(*corev1.Pod) string) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := "not found"
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
		pod, err := f.cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		cancel()
		if err == nil {
			if last = cond(pod); last == "" {
				return pod
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s: %s", name, last)
	return nil
}

func (f *fixture) createPod(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	if _, err := f.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// events returns "Type Reason: message" for every event about a pod.
func (f *fixture) events(t *testing.T, pod string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	list, err := f.cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Message))
	}
	return out
}

func (f *fixture) waitEvent(t *testing.T, pod, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = f.events(t, pod)
		for _, e := range got {
			if strings.HasPrefix(e, prefix) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("pod %s has no event %q; events:\n%s", pod, prefix, strings.Join(got, "\n"))
}

func ready(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func waitingReason(pod *corev1.Pod, container string) (reason, message string) {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container && s.State.Waiting != nil {
			return s.State.Waiting.Reason, s.State.Waiting.Message
		}
	}
	return "", ""
}

func nginxPod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "web",
			Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
		}}},
	}
}

// withVolume mounts a volume of the given source into pod's container.
func withVolume(pod *corev1.Pod, name string, src corev1.VolumeSource, at string) {
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: src})
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: at})
}

func (f *fixture) unknownTag(t *testing.T) {
	const image = "nginx:1.27-doesnotexist"
	start := time.Now()
	f.createPod(t, nginxPod("broken", image))
	var sawErrImagePull bool
	pod := f.waitPod(t, "broken", 30*time.Second, func(p *corev1.Pod) string {
		if ready(p) {
			t.Fatalf("pod with image %s became Ready", image)
		}
		reason, _ := waitingReason(p, "web")
		sawErrImagePull = sawErrImagePull || reason == "ErrImagePull"
		if reason != "ImagePullBackOff" {
			return "container web waits with " + reason + ", not ImagePullBackOff"
		}
		return ""
	})
	t.Logf("ImagePullBackOff %v after the pod was created", time.Since(start).Round(10*time.Millisecond))
	_, msg := waitingReason(pod, "web")
	if want := `Back-off pulling image "nginx:1.27-doesnotexist": ErrImagePull: `; !strings.HasPrefix(msg, want) || !strings.Contains(msg, "not found") {
		t.Errorf("waiting message = %q, want it to start %q and say not found", msg, want)
	}
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("phase = %s, want Pending", pod.Status.Phase)
	}
	f.waitEvent(t, "broken", `Warning Failed: Failed to pull image "nginx:1.27-doesnotexist": `)
	f.waitEvent(t, "broken", "Warning Failed: Error: ErrImagePull")
	f.waitEvent(t, "broken", `Normal BackOff: Back-off pulling image "nginx:1.27-doesnotexist"`)
	f.waitEvent(t, "broken", "Warning Failed: Error: ImagePullBackOff")
	if !sawErrImagePull && !strings.Contains(strings.Join(f.events(t, "broken"), "\n"), "Error: ErrImagePull") {
		t.Error("the container never showed ErrImagePull")
	}
	if out := f.mustKubectl(t, "get", "pod", "broken", "--no-headers"); !strings.Contains(out, "ImagePullBackOff") || !strings.Contains(out, "0/1") {
		t.Errorf("kubectl get pod broken = %q, want 0/1 ImagePullBackOff", out)
	}

	// The fix a learner makes: a tag that exists. The same pod starts.
	f.mustKubectl(t, "set", "image", "pod/broken", "web=nginx:1.27")
	f.waitPod(t, "broken", 30*time.Second, func(p *corev1.Pod) string {
		if !ready(p) || p.Status.Phase != corev1.PodRunning {
			return fmt.Sprintf("not Running and Ready after the image was fixed (phase %s)", p.Status.Phase)
		}
		return ""
	})
}

func (f *fixture) knownImage(t *testing.T) {
	for name, port := range map[string]intstr.IntOrString{"ready-num": intstr.FromInt32(80), "ready-named": intstr.FromString("http")} {
		pod := nginxPod(name, "docker.io/library/nginx:1.27")
		pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: port}}}
		start := time.Now()
		f.createPod(t, pod)
		f.waitPod(t, name, 30*time.Second, func(p *corev1.Pod) string {
			if !ready(p) {
				return "not Ready"
			}
			return ""
		})
		t.Logf("%s Ready %v after it was created", name, time.Since(start).Round(10*time.Millisecond))
		f.waitEvent(t, name, `Normal Pulled: Container image "docker.io/library/nginx:1.27" already present on machine`)
		f.waitEvent(t, name, "Normal Created: Container created")
		f.waitEvent(t, name, "Normal Started: Container started")
	}
}

// imageChange: a running container whose image is changed is restarted
// with the new image, as 'kubectl get pod' shows in RESTARTS.
func (f *fixture) imageChange(t *testing.T) {
	f.createPod(t, nginxPod("changed", "nginx:1.27"))
	f.waitPod(t, "changed", 30*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			return "not Ready"
		}
		return ""
	})
	f.mustKubectl(t, "set", "image", "pod/changed", "web=nginx:1.28")
	f.waitPod(t, "changed", 30*time.Second, func(p *corev1.Pod) string {
		if len(p.Status.ContainerStatuses) != 1 {
			return "no container status"
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.Image != "docker.io/library/nginx:1.28" || cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil || !ready(p) {
			return fmt.Sprintf("container status %+v, ready %v; want nginx:1.28 restarted once and Ready", cs, ready(p))
		}
		return ""
	})
	f.waitEvent(t, "changed", "Normal Killing: Container web definition changed, will be restarted")
}

// wrongProbePort: a probe of a port nothing listens on, or an HTTP probe
// of a path nginx's default server does not have (images.yaml, paths),
// never passes. Before paths, the simulator counted any path on port 80
// as ready where nginx answers /healthz with 404: three-tier's mistake
// "Probed /healthz" waited on kind for a rollout that never finished.
// A volume mounted in the document root (images.yaml, root) may serve
// any path, so there the path is not judged; a volume elsewhere changes
// nothing.
func (f *fixture) wrongProbePort(t *testing.T) {
	pods := map[string]*corev1.Probe{
		"probe-path":    {ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(80)}}},
		"probe-tcp":     {ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
		"probe-http":    {ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
		"probe-unnamed": {ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("web")}}},
	}
	// A volume beside the document root adds nothing to what is served.
	pods["probe-path-beside"] = pods["probe-path"]
	for name, probe := range pods {
		pod := nginxPod(name, "nginx:1.27")
		pod.Spec.Containers[0].ReadinessProbe = probe
		if name == "probe-path-beside" {
			withVolume(pod, "cache", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, "/var/cache/nginx")
		}
		f.createPod(t, pod)
	}
	ips := map[string]string{}
	for name := range pods {
		pod := f.waitPod(t, name, 30*time.Second, func(p *corev1.Pod) string {
			if ready(p) {
				t.Fatalf("%s became Ready though its probe aims at a port or path nginx does not serve", name)
			}
			if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil {
				return "container not running yet"
			}
			return ""
		})
		ips[name] = pod.Status.PodIP
	}
	f.waitEvent(t, "probe-tcp", "Warning Unhealthy: Readiness probe failed: dial tcp "+ips["probe-tcp"]+":8080: connect: connection refused")
	f.waitEvent(t, "probe-http", `Warning Unhealthy: Readiness probe failed: Get "http://`+ips["probe-http"]+`:8080/healthz": dial tcp `)
	f.waitEvent(t, "probe-unnamed", `Warning Unhealthy: Readiness probe errored and resulted in unknown state: port "web" not found`)
	f.waitEvent(t, "probe-path", "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404")
	f.waitEvent(t, "probe-path-beside", "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404")
	// Nothing changes later: a probe that cannot pass never does. A pod
	// created now, whose probe aims at the right port, going all the way to
	// Ready is the simulator taking longer than any stage of the others.
	// A served file, asked for with a query, passes too.
	// So does a file a ConfigMap puts in the document root (images.yaml's
	// root): the simulator cannot see what a volume holds, and a real
	// nginx serves it.
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	health := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "health"}, Data: map[string]string{"healthz": "ok\n"}}
	if _, err := f.cs.CoreV1().ConfigMaps("default").Create(ctx, health, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"probe-ok": "/", "probe-ok-file": "/50x.html?from=probe", "probe-ok-mounted": "/healthz"} {
		good := nginxPod(name, "nginx:1.27")
		good.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}}}
		if name == "probe-ok-mounted" {
			withVolume(good, "health", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "health"}}}, "/usr/share/nginx/html/")
		}
		f.createPod(t, good)
	}
	for _, name := range []string{"probe-ok", "probe-ok-file", "probe-ok-mounted"} {
		f.waitPod(t, name, 30*time.Second, func(p *corev1.Pod) string {
			if !ready(p) {
				return "a pod whose probe aims at the right port and a served path is not Ready"
			}
			return ""
		})
	}
	for name := range pods {
		f.waitPod(t, name, time.Second, func(p *corev1.Pod) string {
			if ready(p) {
				t.Fatalf("%s became Ready later", name)
			}
			return ""
		})
	}
}

// liveness: a liveness probe that cannot pass gets the container restarted
// again and again; the pod is Ready in between, as liveness does not gate
// readiness.
func (f *fixture) liveness(t *testing.T) {
	pod := nginxPod("live", "nginx:1.27")
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}}
	f.createPod(t, pod)
	f.waitPod(t, "live", 60*time.Second, func(p *corev1.Pod) string {
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].RestartCount < 2 {
			return fmt.Sprintf("not restarted twice: %+v", p.Status.ContainerStatuses)
		}
		if last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated; last == nil {
			return "no last state"
		}
		return ""
	})
	f.waitEvent(t, "live", "Warning Unhealthy: Liveness probe failed: dial tcp ")
	f.waitEvent(t, "live", "Normal Killing: Container web failed liveness probe, will be restarted")

	good := nginxPod("live-ok", "nginx:1.27")
	good.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}}
	f.createPod(t, good)
	f.waitPod(t, "live-ok", 30*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			return "not Ready"
		}
		return ""
	})
	// The pod above restarted twice more since: long enough for live-ok's
	// restarts too, had its probe been taken for a failing one.
	var restarts int32
	f.waitPod(t, "live", time.Second, func(p *corev1.Pod) string {
		restarts = p.Status.ContainerStatuses[0].RestartCount
		return ""
	})
	f.waitPod(t, "live", 60*time.Second, func(p *corev1.Pod) string {
		if n := p.Status.ContainerStatuses[0].RestartCount; n < restarts+2 {
			return fmt.Sprintf("restarted %d times, not yet %d", n, restarts+2)
		}
		return ""
	})
	f.waitPod(t, "live-ok", time.Second, func(p *corev1.Pod) string {
		if n := p.Status.ContainerStatuses[0].RestartCount; n != 0 {
			t.Fatalf("a container whose liveness probe passes was restarted %d times", n)
		}
		return ""
	})
}

func (f *fixture) stalledRollout(t *testing.T) {
	f.mustKubectl(t, "create", "deployment", "web", "--image=nginx:1.27", "--replicas=3")
	f.mustKubectl(t, "patch", "deployment", "web", "-p", `{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}}}`)
	f.mustKubectl(t, "rollout", "status", "deployment/web", "--timeout=60s")
	f.mustKubectl(t, "set", "image", "deployment/web", "nginx=nginx:1.27-doesnotexist")

	// The new ReplicaSet's one surge pod backs off; the three old pods keep
	// serving, and the rollout does not finish.
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		last = f.rolloutState(t)
		if last == "stalled" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if last != "stalled" {
		t.Fatalf("rollout to a missing tag: %s", last)
	}
	if out, err := f.kubectl(t, "rollout", "status", "deployment/web", "--timeout=3s"); err == nil {
		t.Fatalf("rollout status succeeded on a stalled rollout:\n%s", out)
	}
	if last = f.rolloutState(t); last != "stalled" {
		t.Fatalf("after waiting: %s", last)
	}

	f.mustKubectl(t, "rollout", "undo", "deployment/web")
	f.mustKubectl(t, "rollout", "status", "deployment/web", "--timeout=60s")
	deadline = time.Now().Add(30 * time.Second)
	for {
		pods := f.podsOf(t, "app=web")
		ok := len(pods) == 3
		for _, p := range pods {
			ok = ok && ready(&p) && p.Spec.Containers[0].Image == "nginx:1.27" && p.DeletionTimestamp == nil
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after undo the pods are %v", podSummary(pods))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rolloutState is "stalled" when web has its three old pods Ready and one
// new pod in ImagePullBackOff, else what it has.
func (f *fixture) rolloutState(t *testing.T) string {
	pods := f.podsOf(t, "app=web")
	var oldReady, newBackoff int
	for _, p := range pods {
		switch p.Spec.Containers[0].Image {
		case "nginx:1.27":
			if ready(&p) {
				oldReady++
			}
		case "nginx:1.27-doesnotexist":
			if ready(&p) {
				t.Fatalf("pod %s with the missing tag is Ready", p.Name)
			}
			if r, _ := waitingReason(&p, "nginx"); r == "ImagePullBackOff" {
				newBackoff++
			}
		}
	}
	if oldReady == 3 && newBackoff == 1 && len(pods) == 4 {
		return "stalled"
	}
	return fmt.Sprint(podSummary(pods))
}

func (f *fixture) podsOf(t *testing.T, selector string) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	defer cancel()
	list, err := f.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func podSummary(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		state := string(p.Status.Phase)
		if ready(&p) {
			state += "/Ready"
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Waiting != nil {
				state += "/" + s.State.Waiting.Reason
			}
		}
		out = append(out, p.Name+" "+p.Spec.Containers[0].Image+" "+state)
	}
	return out
}

func (f *fixture) oversized(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterctl.APITimeout)
	nodes, err := f.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	most := resource.Quantity{}
	for _, n := range nodes.Items {
		cpu := n.Status.Allocatable.Cpu()
		mem := n.Status.Allocatable.Memory()
		if cpu.Cmp(resource.MustParse("64")) >= 0 || mem.Cmp(resource.MustParse("256Gi")) >= 0 {
			t.Errorf("node %s has allocatable cpu %s, memory %s; a laptop has far less", n.Name, cpu, mem)
		}
		if cpu.Cmp(most) > 0 {
			most = cpu.DeepCopy()
		}
	}
	// One CPU more than the biggest node has.
	want := most.DeepCopy()
	want.Add(resource.MustParse("1"))
	pod := nginxPod("huge", "nginx:1.27")
	pod.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: want}
	f.createPod(t, pod)
	f.waitEvent(t, "huge", "Warning FailedScheduling: 0/3 nodes are available: ")
	for _, e := range f.events(t, "huge") {
		if strings.Contains(e, "FailedScheduling") && !strings.Contains(e, "Insufficient cpu") {
			t.Errorf("scheduler event does not say Insufficient cpu: %s", e)
		}
	}
	f.waitPod(t, "huge", time.Second, func(p *corev1.Pod) string {
		if p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending {
			t.Fatalf("pod asking for %s CPUs was put on %q, phase %s", want.String(), p.Spec.NodeName, p.Status.Phase)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return ""
			}
		}
		return "no PodScheduled=False Unschedulable condition"
	})

	// The fix: a request that fits.
	f.mustKubectl(t, "delete", "pod", "huge", "--wait=false")
	small := nginxPod("small", "nginx:1.27")
	small.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
	f.createPod(t, small)
	f.waitPod(t, "small", 30*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			return "a pod requesting 500m CPU is not Ready"
		}
		return ""
	})
}

// staticPV: the simulated cluster has no provisioner, but
// kube-controller-manager's binder matches a claim to a PersistentVolume
// by class, access mode and size, and the scheduler lets a pod that mounts
// a bound claim run.
func (f *fixture) staticPV(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "fid-pv"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              "manual",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/k8slab-fid"}},
		},
	}
	if _, err := f.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	claim := func(name, size string) *corev1.PersistentVolumeClaim {
		class := "manual"
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{
				StorageClassName: &class,
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
			},
		}
	}
	// Too big for the only volume: it must stay Pending, so binding below
	// is matching, not rubber-stamping.
	for _, c := range []*corev1.PersistentVolumeClaim{claim("too-big", "2Gi"), claim("data", "500Mi")} {
		if _, err := f.cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, c, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for {
		c, err := f.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status.Phase == corev1.ClaimBound {
			if c.Spec.VolumeName != "fid-pv" {
				t.Fatalf("claim data bound to %q, want fid-pv", c.Spec.VolumeName)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("claim data is %s, never Bound", c.Status.Phase)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("claim bound %v after it was created", time.Since(start).Round(10*time.Millisecond))
	got, err := f.cs.CoreV1().PersistentVolumes().Get(ctx, "fid-pv", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.VolumeBound || got.Spec.ClaimRef == nil || got.Spec.ClaimRef.Name != "data" {
		t.Errorf("volume fid-pv: phase %s, claimRef %+v; want Bound to data", got.Status.Phase, got.Spec.ClaimRef)
	}
	big, err := f.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "too-big", metav1.GetOptions{})
	if err != nil || big.Status.Phase != corev1.ClaimPending {
		t.Errorf("claim too-big: %v, phase %s; want Pending, no volume is big enough", err, big.Status.Phase)
	}

	pod := nginxPod("with-claim", "nginx:1.27")
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/usr/share/nginx/html"}}
	f.createPod(t, pod)
	f.waitPod(t, "with-claim", 30*time.Second, func(p *corev1.Pod) string {
		if !ready(p) {
			return fmt.Sprintf("a pod mounting a bound claim is not Ready (phase %s, node %q)", p.Status.Phase, p.Spec.NodeName)
		}
		return ""
	})
}
