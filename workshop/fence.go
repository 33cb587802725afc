package workshop

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// The fence is what keeps a learner's pods in: Pod Security admission on
// every learner namespace, a NetworkPolicy per lab namespace, and a quota
// and LimitRange that no lab contradicts.

// Pod Security admission's levels and namespace labels
// (k8s.io/pod-security-admission/api), spelt out here rather than taking
// the module for six strings.
const (
	PodSecurityRestricted = "restricted"
	PodSecurityBaseline   = "baseline"
	podSecurityLabel      = "pod-security.kubernetes.io/"
)

// PodSecurityLevel is the Pod Security Standard a lab's namespace
// enforces. A lab whose tasks are all questions or cluster-wide asks the
// learner to make nothing in its namespace, so it gets restricted. Every
// other lab teaches pods as 'kubectl run web --image=nginx:1.27' makes
// them: restricted would refuse exactly that (it requires runAsNonRoot,
// a seccomp profile, no privilege escalation and all capabilities
// dropped, none of which kubectl run sets), and the course's images run
// as root, which runAsNonRoot stops at container start. Baseline still
// refuses what reaches the node: privileged containers, hostPath
// volumes, host namespaces (network, PID, IPC), host ports and added
// capabilities.
func PodSecurityLevel(lab *labfile.Lab) string {
	if lab == nil {
		// A home namespace holds only the learner's ServiceAccount.
		return PodSecurityRestricted
	}
	if len(setupPodSpecs(lab)) > 0 {
		return PodSecurityBaseline
	}
	for i := range lab.Tasks {
		t := &lab.Tasks[i]
		if t.Question == nil && !slices.Contains(t.Features, labfile.ClusterWide) {
			return PodSecurityBaseline
		}
	}
	return PodSecurityRestricted
}

// podSecurityLabels enforce level, warn at it too (kubectl prints why a
// pod was refused before the refusal), and audit at restricted, so an
// instructor's audit log shows what restricted would refuse.
func podSecurityLabels(level string) map[string]string {
	return map[string]string{
		podSecurityLabel + "enforce":         level,
		podSecurityLabel + "enforce-version": "latest",
		podSecurityLabel + "warn":            level,
		podSecurityLabel + "warn-version":    "latest",
		podSecurityLabel + "audit":           PodSecurityRestricted,
		podSecurityLabel + "audit-version":   "latest",
	}
}

// withPodSecurity adds the Pod Security labels of lab's namespace (a home
// namespace's for nil) to a copy of labels.
func withPodSecurity(labels map[string]string, lab *labfile.Lab) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	for k, v := range podSecurityLabels(PodSecurityLevel(lab)) {
		out[k] = v
	}
	return out
}

// FenceName names the NetworkPolicy, LimitRange and ResourceQuota init
// puts in every lab namespace.
const (
	FenceName  = "k8slab-fence"
	QuotaName  = "k8slab-quota"
	LimitsName = "k8slab-limits"
)

// networkPolicy lets the pods in a learner's namespaces talk to each
// other and to the cluster's DNS, and nothing else in or out: not to
// other learners' pods, not from them. Namespaces are chosen by labels
// only init sets (a learner may not label namespaces), and learners may
// only read NetworkPolicies, so they cannot widen their own.
func networkPolicy(workshop, learner, ns string, labels map[string]string) *networkingv1.NetworkPolicy {
	mine := &metav1.LabelSelector{MatchLabels: map[string]string{WorkshopLabel: workshop, LearnerLabel: learner}}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: FenceName, Namespace: ns, Labels: labels},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: mine}}}},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: mine}}},
				{
					To: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
					}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
				},
			},
		},
	}
}

// limitsFor is the LimitRange of a lab's namespace, or nil when the lab is
// about resources itself: a setup that asks more than a learner's cap
// (the health lab's report asks 100 CPUs so that no node can take it)
// would be refused, and defaults would give its pods resources its goal
// says they lack.
func limitsFor(lab *labfile.Lab, ns string, labels map[string]string) *corev1.LimitRange {
	if resourceLab(lab) {
		return nil
	}
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: LimitsName, Namespace: ns, Labels: labels}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type:           corev1.LimitTypeContainer,
		Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Max:            corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
	}}}}
}

// quotaFor is the ResourceQuota of a lab's namespace. A lab about
// resources counts objects only: without a LimitRange's defaults, a CPU
// or memory quota would refuse every pod that sets no resources.
func quotaFor(lab *labfile.Lab, ns string, labels map[string]string, hard corev1.ResourceList) *corev1.ResourceQuota {
	if resourceLab(lab) {
		objects := corev1.ResourceList{}
		for k, v := range hard {
			switch k {
			case corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceCPU, corev1.ResourceMemory:
			default:
				objects[k] = v
			}
		}
		hard = objects
	}
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: ns, Labels: labels}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

// resourceLab reports whether the lab's setup asks for more CPU or memory
// in one container than the workshop's LimitRange allows.
func resourceLab(lab *labfile.Lab) bool {
	maxCPU, maxMem := resource.MustParse("1"), resource.MustParse("1Gi")
	var containers []corev1.Container
	for _, spec := range setupPodSpecs(lab) {
		containers = append(containers, spec.InitContainers...)
		containers = append(containers, spec.Containers...)
	}
	for _, c := range containers {
		for _, list := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			if q, ok := list[corev1.ResourceCPU]; ok && q.Cmp(maxCPU) > 0 {
				return true
			}
			if q, ok := list[corev1.ResourceMemory]; ok && q.Cmp(maxMem) > 0 {
				return true
			}
		}
	}
	return false
}

// Fence puts a workshop's fence around lab namespace ns, as init does for
// a learner's: Pod Security labels on the namespace (made if missing,
// labelled as k8slab's for lab), the learner's nodePort on it (none for
// 0), its NetworkPolicy, LimitRange and quota; then it waits until the
// quota controller has counted the quota. The in-workshop lab proof uses
// it to run a lab exactly as a learner meets it.
func Fence(ctx context.Context, client dynamic.Interface, workshop, learner string, lab *labfile.Lab, ns string, nodePort int, hard corev1.ResourceList) error {
	return fence(ctx, client, workshop, learner, lab, ns, nodePort, hard, nil, nil)
}

// fence is Fence with more labels and annotations on the namespace (an
// exam's): one apply writes them all, so none is dropped by the next.
func fence(ctx context.Context, client dynamic.Interface, workshop, learner string, lab *labfile.Lab, ns string, nodePort int, hard corev1.ResourceList,
	nsExtra, annotations map[string]string) error {
	if hard == nil {
		hard = DefaultQuota
	}
	labels := map[string]string{WorkshopLabel: workshop, LearnerLabel: learner, LabLabel: lab.ID, labenv.ManagedByLabel: labenv.ManagedByValue}
	nsLabels := withPodSecurity(labels, lab)
	maps.Copy(nsLabels, nsExtra)
	notes := nodePortAnnotation(nodePort)
	if len(annotations) > 0 {
		notes = maps.Clone(annotations)
		maps.Copy(notes, nodePortAnnotation(nodePort))
	}
	objs := []item{
		{kube.NamespacesGVR, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: nsLabels, Annotations: notes}}},
		{kube.NetworkPoliciesGVR, ns, networkPolicy(workshop, learner, ns, labels)},
		{kube.ResourceQuotasGVR, ns, quotaFor(lab, ns, labels, hard)},
	}
	if lr := limitsFor(lab, ns, labels); lr != nil {
		objs = append(objs, item{kube.LimitRangesGVR, ns, lr})
	}
	for _, o := range objs {
		if err := apply(ctx, client, o.gvr, o.ns, o.obj); err != nil {
			return err
		}
	}
	return waitQuotaCounted(ctx, client, ns)
}

// nodePortAnnotation gives a lab namespace its nodePort (none for 0).
func nodePortAnnotation(port int) map[string]string {
	if port == 0 {
		return nil
	}
	return map[string]string{labenv.NodePortAnnotation: strconv.Itoa(port)}
}

// podSpecs remembers setupPodSpecs by setup text: init asks for every lab
// of every learner (Pod Security level, quota, LimitRange), and decoding
// the same YAML each time was most of init's own CPU.
var podSpecs sync.Map

// setupPodSpecs are the pod specs in the lab's setup: of its Pods and of
// the templates of its workloads. Callers must not change them.
func setupPodSpecs(lab *labfile.Lab) []corev1.PodSpec {
	if specs, ok := podSpecs.Load(lab.Setup); ok {
		return specs.([]corev1.PodSpec)
	}
	specs := decodePodSpecs(lab)
	podSpecs.Store(lab.Setup, specs)
	return specs
}

func decodePodSpecs(lab *labfile.Lab) []corev1.PodSpec {
	objs, err := labenv.SetupObjects(lab, "")
	if err != nil {
		return nil
	}
	var out []corev1.PodSpec
	for _, o := range objs {
		for _, path := range [][]string{{"spec"}, {"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}} {
			m, ok, _ := unstructured.NestedMap(o.Object, path...)
			if !ok {
				continue
			}
			if _, has := m["containers"]; !has {
				continue
			}
			var spec corev1.PodSpec
			if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec) == nil {
				out = append(out, spec)
			}
		}
	}
	return out
}

func waitQuotaCounted(ctx context.Context, client dynamic.Interface, ns string) error {
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		defer cancel()
		q, err := client.Resource(kube.ResourceQuotasGVR).Namespace(ns).Get(cctx, QuotaName, metav1.GetOptions{})
		if err != nil {
			return false, nil // retried until the deadline
		}
		hard, _, _ := unstructured.NestedMap(q.Object, "status", "hard")
		return len(hard) > 0, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("the quota controller has not counted namespace %s yet; is kube-controller-manager running?", ns)
	}
	return err
}
