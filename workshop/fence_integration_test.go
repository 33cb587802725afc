package workshop_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// TestHostileLearnerOnSimulatedCluster is a learner who tries every way
// out of the fence, against a real API server with Pod Security
// admission: each attempt must be refused, and say why.
func TestHostileLearnerOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, dir := clustertest.Start(t, "k8slab-hostile")
	admin := clientsFor(t, p.KubeconfigPath())
	adminK := typed(t, admin)
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	var labs []*labfile.Lab
	for _, id := range []string{"pods", "services", "storage", "explore-cluster"} {
		lab, ok := builtIn.Lab(id)
		if !ok {
			t.Fatalf("no lab %s", id)
		}
		labs = append(labs, lab)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "kubeconfigs")
	plan := workshop.Plan{Name: "ws", Learners: []string{"ada", "bob"}, Labs: labs}
	if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	learner := func(id string) kubernetes.Interface {
		return typed(t, clientsFor(t, filepath.Join(out, id+".kubeconfig")))
	}
	ada, bob := learner("ada"), learner("bob")
	adaPods := workshop.LabNamespace("ws", "ada", "pods")
	refused := func(what string, err error, says ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: allowed", what)
			return
		}
		for _, s := range says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: refused with %q, which does not say %q", what, err, s)
			}
		}
	}
	cases := 0

	t.Run("pods that reach the node", func(t *testing.T) {
		yes := true
		pod := func(name string, edit func(*corev1.PodSpec)) *corev1.Pod {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
			edit(&p.Spec)
			return p
		}
		for _, tc := range []struct {
			name, says string
			pod        *corev1.Pod
		}{
			{"privileged", "privileged", pod("priv", func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
			})},
			{"hostPath /", "hostPath", pod("hp", func(s *corev1.PodSpec) {
				s.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
				s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "root", MountPath: "/host"}}
			})},
			{"hostNetwork", "host namespaces", pod("hn", func(s *corev1.PodSpec) { s.HostNetwork = true })},
			{"hostPID", "host namespaces", pod("hpid", func(s *corev1.PodSpec) { s.HostPID = true })},
			{"a host port", "hostPort", pod("hport", func(s *corev1.PodSpec) {
				s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
			})},
			{"an added capability", "capabilities", pod("cap", func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
			})},
		} {
			cases++
			_, err := ada.CoreV1().Pods(adaPods).Create(ctx, tc.pod, metav1.CreateOptions{})
			refused(tc.name+" pod", err, `violates PodSecurity "baseline:latest"`, tc.says)
		}
		// The fence lets through the pods the labs teach.
		cases++
		if _, err := ada.CoreV1().Pods(adaPods).Create(ctx, pod("plain", func(*corev1.PodSpec) {}), metav1.CreateOptions{}); err != nil {
			t.Errorf("a plain nginx pod, as 'kubectl run' makes: %v", err)
		}
	})

	t.Run("namespaces carry the fence's labels", func(t *testing.T) {
		want := map[string]string{
			workshop.HomeNamespace("ws", "ada"):                   "restricted",
			workshop.LabNamespace("ws", "ada", "pods"):            "baseline",
			workshop.LabNamespace("ws", "ada", "explore-cluster"): "restricted",
			workshop.LabNamespace("ws", "bob", "storage"):         "baseline",
			workshop.LabNamespace("ws", "bob", "services"):        "baseline",
			workshop.HomeNamespace("ws", "bob"):                   "restricted",
			workshop.LabNamespace("ws", "bob", "explore-cluster"): "restricted",
			workshop.LabNamespace("ws", "ada", "services"):        "baseline",
			workshop.LabNamespace("ws", "ada", "storage"):         "baseline",
			workshop.LabNamespace("ws", "bob", "pods"):            "baseline",
		}
		for ns, level := range want {
			n, err := adminK.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Labels["pod-security.kubernetes.io/enforce"]; got != level {
				t.Errorf("namespace %s enforces %q, want %q", ns, got, level)
			}
		}
	})

	t.Run("other learners and the cluster", func(t *testing.T) {
		bobPods := workshop.LabNamespace("ws", "bob", "pods")
		cases++
		_, err := ada.CoreV1().Pods(bobPods).List(ctx, metav1.ListOptions{})
		refused("listing bob's pods", err, "forbidden", bobPods)
		cases++
		_, err = ada.CoreV1().Secrets(workshop.HomeNamespace("ws", "bob")).Get(ctx, workshop.TokenSecret, metav1.GetOptions{})
		refused("reading bob's token Secret", err, "forbidden")
		cases++
		_, err = ada.CoreV1().Secrets(workshop.HomeNamespace("ws", "ada")).Get(ctx, workshop.TokenSecret, metav1.GetOptions{})
		refused("reading its own token Secret", err, "forbidden")
		cases++
		_, err = ada.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		refused("listing namespaces (the class's names)", err, "forbidden", "cannot list")
		cases++
		_, err = ada.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		refused("listing volumes", err, "forbidden", "cannot list")
		cases++
		_, err = ada.CoreV1().PersistentVolumes().Get(ctx, workshop.LabNamespace("ws", "bob", "storage")+"-data", metav1.GetOptions{})
		refused("reading bob's volume", err, "forbidden")
		if _, err := ada.CoreV1().PersistentVolumes().Get(ctx, workshop.LabNamespace("ws", "ada", "storage")+"-data", metav1.GetOptions{}); err != nil {
			t.Errorf("reading its own volume, which a lab reset needs: %v", err)
		}
		if _, err := ada.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("listing nodes, which explore-cluster's questions need: %v", err)
		}
		// The NetworkPolicy is init's, and stays so.
		cases++
		err = ada.NetworkingV1().NetworkPolicies(adaPods).Delete(ctx, workshop.FenceName, metav1.DeleteOptions{})
		refused("deleting its NetworkPolicy", err, "forbidden")
		cases++
		_, err = ada.NetworkingV1().NetworkPolicies(adaPods).Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "open"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}, metav1.CreateOptions{})
		refused("opening its pods with a NetworkPolicy of its own", err, "forbidden")
		np, err := adminK.NetworkingV1().NetworkPolicies(adaPods).Get(ctx, workshop.FenceName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if peer := np.Spec.Ingress[0].From[0].NamespaceSelector; peer == nil || peer.MatchLabels[workshop.LearnerLabel] != "ada" || peer.MatchLabels[workshop.WorkshopLabel] != "ws" {
			t.Errorf("ingress comes from %+v, not only ada's namespaces", np.Spec.Ingress)
		}
		if len(np.Spec.Egress) != 2 || np.Spec.Egress[1].To[0].PodSelector.MatchLabels["k8s-app"] != "kube-dns" {
			t.Errorf("egress: %+v", np.Spec.Egress)
		}
	})

	t.Run("a NodePort another learner holds", func(t *testing.T) {
		svc := func() *corev1.Service {
			return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-nodeport"}, Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80), NodePort: 30080}}}}
		}
		if _, err := bob.CoreV1().Services(workshop.LabNamespace("ws", "bob", "services")).Create(ctx, svc(), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cases++
		_, err := ada.CoreV1().Services(workshop.LabNamespace("ws", "ada", "services")).Create(ctx, svc(), metav1.CreateOptions{})
		refused("taking bob's nodePort", err, "provided port is already allocated")
		cases++
		err = ada.CoreV1().Services(workshop.LabNamespace("ws", "bob", "services")).Delete(ctx, "web-nodeport", metav1.DeleteOptions{})
		refused("deleting bob's NodePort Service", err, "forbidden")
	})

	t.Run("names chosen to collide", func(t *testing.T) {
		cases++
		_, err := workshop.Init(ctx, admin, workshop.Plan{Name: "ws", Learners: []string{"ada", "ada-pods"}, Labs: labs}, workshop.InitOptions{OutDir: out})
		refused("learner ada-pods, whose home is ada's pods lab", err, "ada and ada-pods", "ws-ada-pods", "rename one")
		// Another workshop whose learner's namespaces are this one's.
		cases++
		_, err = workshop.Init(ctx, admin, workshop.Plan{Name: "ws-ada", Learners: []string{"pods"}, Labs: labs}, workshop.InitOptions{OutDir: filepath.Join(dir, "other")})
		refused("workshop ws-ada's learner pods, whose home is ws's ada's pods lab", err, "ws-ada-pods", "already exists", "not workshop ws-ada's")
		n, err := adminK.CoreV1().Namespaces().Get(ctx, adaPods, metav1.GetOptions{})
		if err != nil || n.Labels[workshop.WorkshopLabel] != "ws" || n.Labels[workshop.LearnerLabel] != "ada" {
			t.Errorf("ada's namespace changed hands: %v %v", n.Labels, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "other", "pods.kubeconfig")); err == nil {
			t.Error("the refused workshop wrote a kubeconfig")
		}
	})

	t.Run("old tokens after revoke and re-init", func(t *testing.T) {
		adaNS := workshop.LabNamespace("ws", "ada", "pods")
		unauthorized := func(who string, k kubernetes.Interface) {
			t.Helper()
			var err error
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
				if _, err = k.CoreV1().Pods(adaNS).List(ctx, metav1.ListOptions{}); apierrors.IsUnauthorized(err) {
					return
				}
			}
			t.Errorf("%s: want 401 Unauthorized, got %v", who, err)
		}
		if _, err := ada.CoreV1().Pods(adaNS).List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatalf("ada's token before revoke: %v", err)
		}
		cases++
		if err := workshop.Revoke(ctx, admin, "ws", "ada"); err != nil {
			t.Fatal(err)
		}
		unauthorized("ada's token after revoke", ada)
		cases++
		if err := workshop.Revoke(ctx, admin, "ws", "carol"); err == nil || !strings.Contains(err.Error(), "no learner carol") {
			t.Errorf("revoking a learner who is not in the class: %v", err)
		}
		// A re-init issues new tokens and revokes every old one.
		if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out}); err != nil {
			t.Fatal(err)
		}
		cases++
		unauthorized("bob's token from before the re-init", bob)
		if _, err := learner("ada").CoreV1().Pods(adaNS).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("ada's new kubeconfig: %v", err)
		}
	})
	t.Logf("%d hostile attempts, each refused", cases)
}
