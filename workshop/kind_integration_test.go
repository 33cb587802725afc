package workshop_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labverify"
	"github.com/k8slab/k8slab/workshop"
)

// TestWorkshopOnKind proves a workshop's fence on a real kubelet and pod
// network, where the simulated cluster has neither: test-kind.sh runs
// `k8slab workshop init NAME --learners 3 --labs pods,services` on its kind
// cluster and names the cluster's kubeconfig (K8SLAB_KIND_KUBECONFIG), the
// workshop (K8SLAB_KIND_WORKSHOP) and the learners' kubeconfigs' folder
// (K8SLAB_KIND_WORKSHOP_DIR). A learner's pods must be refused the node,
// must not reach another learner's pod or Service (the NetworkPolicy, which
// kindnetd enforces), and must reach their own and the cluster's DNS; the
// labs in K8SLAB_KIND_WORKSHOP_LABS (fix-traffic and configuration) are
// proven inside a fence of a workshop of their own (fenceproof), as
// workshopProof proves every lab on the simulator, but with containers
// that run.
func TestWorkshopOnKind(t *testing.T) {
	kubeconfig, ws, dir := os.Getenv("K8SLAB_KIND_KUBECONFIG"), os.Getenv("K8SLAB_KIND_WORKSHOP"), os.Getenv("K8SLAB_KIND_WORKSHOP_DIR")
	if kubeconfig == "" || ws == "" || dir == "" {
		t.Skip("K8SLAB_KIND_KUBECONFIG, K8SLAB_KIND_WORKSHOP and K8SLAB_KIND_WORKSHOP_DIR name no kind workshop (make test-kind sets them)")
	}
	ctx := context.Background()
	admin := clientsFor(t, kubeconfig)
	adminK := typed(t, admin)
	ada, bob := "learner-01", "learner-02"
	learner := func(id string) kubernetes.Interface {
		return typed(t, clientsFor(t, filepath.Join(dir, id+".kubeconfig")))
	}
	adaK, bobK := learner(ada), learner(bob)
	pods := func(id string) string { return workshop.LabNamespace(ws, id, "pods") }
	services := func(id string) string { return workshop.LabNamespace(ws, id, "services") }
	// What a run makes carries a name of its own and goes when it ends,
	// so that runs follow one another on one workshop (-count=20).
	run := strconv.FormatInt(time.Now().UnixNano()%(1<<30), 36)
	remove := func(k kubernetes.Interface, ns string, pods, services []string) {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			now := int64(0)
			for _, name := range pods {
				_ = k.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &now})
			}
			for _, name := range services {
				_ = k.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{})
			}
		})
	}

	t.Run("pods that reach the node", func(t *testing.T) {
		yes := true
		for _, tc := range []struct {
			name, says string
			edit       func(*corev1.PodSpec)
		}{
			{"privileged", "privileged", func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
			}},
			{"hostpath", "hostPath", func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
				s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "root", MountPath: "/host"}}
			}},
			{"hostnetwork", "host namespaces", func(s *corev1.PodSpec) { s.HostNetwork = true }},
			{"hostpid", "host namespaces", func(s *corev1.PodSpec) { s.HostPID = true }},
		} {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: tc.name},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36", Command: []string{"sleep", "3600"}}}}}
			tc.edit(&p.Spec)
			_, err := adaK.CoreV1().Pods(pods(ada)).Create(ctx, p, metav1.CreateOptions{})
			if err == nil {
				t.Errorf("%s pod: allowed", tc.name)
				continue
			}
			for _, s := range []string{`violates PodSecurity "baseline:latest"`, tc.says} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s pod: refused with %q, which does not say %q", tc.name, err, s)
				}
			}
		}
	})

	t.Run("a NodePort another learner holds", func(t *testing.T) {
		n, err := adminK.CoreV1().Namespaces().Get(ctx, services(bob), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		port, err := strconv.Atoi(n.Annotations[labenv.NodePortAnnotation])
		if err != nil {
			t.Fatalf("%s has no nodePort of its own: %v", services(bob), err)
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "netcheck-nodeport"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "netcheck"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80), NodePort: int32(port)}}}}
		if _, err := bobK.CoreV1().Services(services(bob)).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("bob's own nodePort %d: %v", port, err)
		}
		remove(bobK, services(bob), nil, []string{svc.Name})
		_, err = adaK.CoreV1().Services(services(ada)).Create(ctx, svc, metav1.CreateOptions{})
		if err == nil {
			remove(adaK, services(ada), nil, []string{svc.Name})
		}
		if err == nil || !strings.Contains(err.Error(), "provided port is already allocated") {
			t.Errorf("ada taking bob's nodePort %d: %v", port, err)
		}
	})

	t.Run("pod network", func(t *testing.T) {
		// Each learner serves nginx (its stand-in) behind a Service in
		// their pods lab namespace.
		type served struct{ podIP, clusterIP string }
		serve := func(id string, k kubernetes.Interface) served {
			ns := pods(id)
			labels := map[string]string{"app": "netcheck-" + run}
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "netcheck-web-" + run, Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}}}}}
			if _, err := k.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				t.Fatalf("%s's web pod: %v", id, err)
			}
			remove(k, ns, []string{p.Name}, nil)
			s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "netcheck-web-" + run}, Spec: corev1.ServiceSpec{Selector: labels,
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}}}
			s, err := k.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("%s's Service: %v", id, err)
			}
			remove(k, ns, nil, []string{s.Name})
			return served{clusterIP: s.Spec.ClusterIP}
		}
		web := map[string]served{ada: serve(ada, adaK), bob: serve(bob, bobK)}
		for _, id := range []string{ada, bob} {
			p := waitPod(t, adminK, pods(id), "netcheck-web-"+run, func(p *corev1.Pod) bool { return podReady(p) })
			w := web[id]
			w.podIP = p.Status.PodIP
			web[id] = w
		}
		// A probe in the learner's services namespace (another namespace of
		// their own) tries each target a few times: a pod's first packets
		// may be judged before kindnetd has seen its IP, so one miss proves
		// nothing either way, and every try missing is a refusal.
		startProbe := func(id string, k kubernetes.Interface, targets [][2]string) {
			var sh strings.Builder
			// The last try's error goes on the verdict's line, to tell a
			// refusal (a timeout) from a broken network.
			sh.WriteString("try() { for i in 1 2 3 4 5; do e=$(\"$@\" 2>&1 >/dev/null) && return 0; sleep 1; done; return 1; }\n")
			// HTTP by hand through nc: the stand-in busybox's wget (Debian's
			// busybox-static 1.35) dies of a segmentation fault, even on
			// this machine; by IP, as nc resolves no name.
			sh.WriteString("get() { printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 \"$1\" 80 | grep -q '200 OK' || { echo no answer from $1 >&2; return 1; }; }\n")
			sh.WriteString("try nslookup kubernetes.default.svc.cluster.local && echo 'dns ok' || echo \"dns refused $e\"\n")
			for _, tg := range targets {
				fmt.Fprintf(&sh, "try get %s && echo '%s ok' || echo \"%s refused $e\"\n", tg[1], tg[0], tg[0])
			}
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "netcheck-probe-" + run}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "probe", Image: "busybox:1.36", Command: []string{"sh", "-c", sh.String()}}}}}
			if _, err := k.CoreV1().Pods(services(id)).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				t.Fatalf("%s's probe: %v", id, err)
			}
			remove(k, services(id), []string{p.Name}, nil)
		}
		readProbe := func(id string) map[string]string {
			waitPod(t, adminK, services(id), "netcheck-probe-"+run, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
			log, err := adminK.CoreV1().Pods(services(id)).GetLogs("netcheck-probe-"+run, &corev1.PodLogOptions{}).DoRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
				if name, verdict, ok := strings.Cut(line, " "); ok {
					got[name], _, _ = strings.Cut(verdict, " ")
				}
			}
			t.Logf("%s's pod: %s", id, strings.ReplaceAll(strings.TrimSpace(string(log)), "\n", "; "))
			return got
		}
		targets := func(own, other served) [][2]string {
			return [][2]string{{"own-pod", own.podIP}, {"own-service", own.clusterIP}, {"other-pod", other.podIP}, {"other-service", other.clusterIP}}
		}
		want := map[string]string{"dns": "ok", "own-pod": "ok", "own-service": "ok", "other-pod": "refused", "other-service": "refused"}
		// Both probes run at once; each waits out its refusals.
		startProbe(ada, adaK, targets(web[ada], web[bob]))
		startProbe(bob, bobK, targets(web[bob], web[ada]))
		for _, id := range []string{ada, bob} {
			got := readProbe(id)
			for name, v := range want {
				if got[name] != v {
					t.Errorf("%s's pod to %s: %q, want %q", id, name, got[name], v)
				}
			}
		}
	})

	t.Run("labs in a fence", func(t *testing.T) {
		builtIn, err := course.Load(assets.Course())
		if err != nil {
			t.Fatal(err)
		}
		ids := strings.Fields(os.Getenv("K8SLAB_KIND_WORKSHOP_LABS"))
		if len(ids) == 0 {
			ids = []string{"fix-traffic", "configuration"}
		}
		// A learner lacks what WorkshopLearnerLacks names (services'
		// reach-nodeport curls the machine that runs the cluster).
		lacks := map[labfile.Feature]bool{}
		for _, f := range labfile.WorkshopLearnerLacks {
			lacks[f] = true
		}
		cfg := labverify.Config{
			Kubeconfig:     kubeconfig,
			Client:         admin.Dynamic,
			Lacks:          lacks,
			SkipSubmission: true,
			Jobs:           4, // as test-kind.sh's MISTAKE_JOBS
			Prepare: func(ctx context.Context, lab *labfile.Lab, ns string) error {
				port := 0
				if lab.UsesNodePort() {
					port = 30190
				}
				return workshop.Fence(ctx, admin.Dynamic, "fenceproof", "learner-01", lab, ns, port, nil)
			},
			Reset: workshop.ResetLab,
		}
		for _, id := range ids {
			lab, ok := builtIn.Lab(id)
			if !ok {
				t.Fatalf("no lab %s", id)
			}
			t.Run(id, func(t *testing.T) {
				t.Parallel()
				rep := labverify.VerifyLab(ctx, cfg, lab)
				for _, sk := range rep.Skipped {
					t.Logf("skipped: %s", sk)
				}
				for _, f := range rep.Failures {
					t.Errorf("%s", f)
				}
				t.Logf("Pod Security %s, proved in %s", workshop.PodSecurityLevel(lab), rep.Duration.Round(time.Second))
			})
		}
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitPod waits until ns/name satisfies ok, and fails the test with the
// pod's status if it never does or it fails.
func waitPod(t *testing.T, k kubernetes.Interface, ns, name string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := k.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		if p.Status.Phase == corev1.PodFailed {
			return false, fmt.Errorf("pod %s/%s failed", ns, name)
		}
		return ok(p), nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s: %v; status %+v", ns, name, err, last)
	}
	return last
}
