package workshop

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Clients reach the cluster as the instructor.
type Clients struct {
	Config  *rest.Config
	Dynamic dynamic.Interface
	// Watch is for the status grader's informers: a client without the
	// client-side timeout, which would cut every watch (see
	// clustercache.WatchClient).
	Watch dynamic.Interface
}

// NewClients makes the clients for cfg.
func NewClients(cfg *rest.Config) (Clients, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, err
	}
	watch, err := clustercache.WatchClient(cfg)
	if err != nil {
		return Clients{}, err
	}
	return Clients{Config: cfg, Dynamic: dyn, Watch: watch}, nil
}

// InitOptions tune init.
type InitOptions struct {
	// OutDir receives one kubeconfig per learner, <learner>.kubeconfig.
	OutDir string
	// TokenTTL is how long learners' tokens last; default 8h.
	TokenTTL time.Duration
	// Server overrides the API server address in learners' kubeconfigs,
	// for a cluster learners reach by another address than the
	// instructor does.
	Server string
	// Quota is each lab namespace's ResourceQuota; default DefaultQuota.
	Quota corev1.ResourceList
	// Parallel learners set up at once; default 8.
	Parallel int
	// Progress, when set, gets a line per learner.
	Progress io.Writer
	// SetUp applies every lab's setup now (the labs of the day); without
	// it each lab is set up when its learner first opens it, with the
	// learner's own rights, inside the quota.
	SetUp bool
	// Force goes ahead when the class does not fit the cluster's nodes.
	Force bool
}

// DefaultQuota keeps one learner's lab from starving the rest while
// leaving room for every built-in lab (a rollout briefly runs extra pods).
var DefaultQuota = corev1.ResourceList{
	corev1.ResourcePods:                   resource.MustParse("20"),
	corev1.ResourceServices:               resource.MustParse("10"),
	corev1.ResourceConfigMaps:             resource.MustParse("20"),
	corev1.ResourceSecrets:                resource.MustParse("20"),
	corev1.ResourcePersistentVolumeClaims: resource.MustParse("5"),
	corev1.ResourceRequestsCPU:            resource.MustParse("2"),
	corev1.ResourceRequestsMemory:         resource.MustParse("2Gi"),
	corev1.ResourceLimitsCPU:              resource.MustParse("4"),
	corev1.ResourceLimitsMemory:           resource.MustParse("4Gi"),
	"count/deployments.apps":              resource.MustParse("10"),
	"count/replicasets.apps":              resource.MustParse("50"),
}

// InitResult says what init did.
type InitResult struct {
	Kubeconfigs []string
	Access      Access
	Expires     time.Time
	// Need and Capacity are what the class will request and what the
	// cluster's nodes had free, counted before anything was made.
	Need     Need
	Capacity Capacity
}

// learnerRules are what a learner may do inside their lab namespaces: the
// workloads labs use, and reading what explains them. Roles, quotas and
// service accounts are left out, so a learner cannot widen their rights.
var learnerRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "services", "configmaps", "secrets", "persistentvolumeclaims"}, Verbs: writeVerbs},
	{APIGroups: []string{""}, Resources: []string{"events", "endpoints", "resourcequotas", "limitranges", "pods/status"}, Verbs: readVerbs},
	// Lab start reads its own namespace (a Role in a namespace covers that
	// namespace object itself, and nothing else cluster-scoped).
	{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale", "daemonsets", "controllerrevisions"}, Verbs: writeVerbs},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: readVerbs},
	{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: writeVerbs},
	{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: writeVerbs},
	{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: writeVerbs},
	// The fence's NetworkPolicy is init's: a learner who could change it
	// could open their pods to the whole cluster.
	{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: readVerbs},
	{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: writeVerbs},
	{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: readVerbs},
}

var (
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	readVerbs  = []string{"get", "list", "watch"}
)

// Init creates (or brings up to date) everything the workshop's learners
// need, and writes their kubeconfigs. Running it again is harmless, and
// with more learners it grows the class; tokens are issued afresh.
func Init(ctx context.Context, c Clients, p Plan, opts InitOptions) (*InitResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 8 * time.Hour
	}
	if opts.Quota == nil {
		opts.Quota = DefaultQuota
	}
	if opts.Parallel == 0 {
		opts.Parallel = 8
	}
	// Before anything is made: a class that cannot fit is refused.
	need, capa, err := checkCapacity(ctx, c, p, opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the kubeconfig folder: %w", err)
	}
	if err := refuseForeign(ctx, c, p); err != nil {
		return nil, err
	}
	kept, taken, err := nodePortsHeld(ctx, c, p.Name)
	if err != nil {
		return nil, err
	}
	ports, err := p.AllocateNodePorts(kept, taken)
	if err != nil {
		return nil, err
	}
	w := &initializer{c: c, p: p, opts: opts, access: Analyse(p.Labs), ports: ports}
	if err := w.shared(ctx); err != nil {
		return nil, err
	}
	res := &InitResult{Access: w.access, Expires: time.Now().Add(opts.TokenTTL), Need: need, Capacity: capa}
	paths := make([]string, len(p.Learners))
	errs := make([]error, len(p.Learners))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, learner := range p.Learners {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			paths[i], errs[i] = w.learner(ctx, learner)
			if errs[i] == nil && opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "  %s ready: %s\n", learner, paths[i])
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("learner %s: %w", p.Learners[i], err)
		}
	}
	res.Kubeconfigs = paths
	if err := waitQuotas(ctx, c, p.Name); err != nil {
		return res, err
	}
	return res, nil
}

// waitQuotas waits until the quota controller has counted every learner
// namespace, so that learners' first pods are not refused.
func waitQuotas(ctx context.Context, c Clients, name string) error {
	pending := 0
	var last error // of the latest list; a failed one is retried
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		defer cancel()
		list, err := c.Dynamic.Resource(kube.ResourceQuotasGVR).List(cctx, metav1.ListOptions{LabelSelector: WorkshopLabel + "=" + name})
		if last = err; err != nil {
			return false, nil
		}
		pending = 0
		for _, q := range list.Items {
			if hard, _, _ := unstructured.NestedMap(q.Object, "status", "hard"); len(hard) == 0 {
				pending++
			}
		}
		return pending == 0, nil
	})
	switch {
	case err == nil:
		return nil
	case last != nil:
		return fmt.Errorf("waiting for quotas: %w", last)
	}
	return fmt.Errorf("the quota controller has not counted %d learner namespaces yet; is kube-controller-manager running?", pending)
}

// refuseForeign stops init from adopting a namespace someone else made:
// delete would later remove it.
func refuseForeign(ctx context.Context, c Clients, p Plan) error {
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	list, err := c.Dynamic.Resource(kube.NamespacesGVR).List(cctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	existing := map[string]map[string]string{}
	for _, ns := range list.Items {
		existing[ns.GetName()] = ns.GetLabels()
	}
	for _, l := range p.Learners {
		names := []string{HomeNamespace(p.Name, l)}
		for _, lab := range p.Labs {
			names = append(names, LabNamespace(p.Name, l, lab.ID))
		}
		for _, n := range names {
			if labels, ok := existing[n]; ok && (labels[WorkshopLabel] != p.Name || labels[LearnerLabel] != l) {
				return fmt.Errorf("namespace %s already exists and is not workshop %s's for learner %s; k8slab will not take it over. Choose another workshop name", n, p.Name, l)
			}
		}
	}
	// A learner's ClusterRole and binding are named after workshop and
	// learner, so workshop "ws" with learner "a-b" and workshop "ws-a"
	// with learner "b" would share them; applying with force would hand
	// one learner's binding to the other.
	for _, gvr := range []schema.GroupVersionResource{kube.ClusterRolesGVR, kube.ClusterRoleBindingsGVR} {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		list, err := c.Dynamic.Resource(gvr).List(cctx, metav1.ListOptions{LabelSelector: WorkshopLabel})
		cancel()
		if err != nil {
			return fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
		owners := map[string]map[string]string{}
		for _, o := range list.Items {
			owners[o.GetName()] = o.GetLabels()
		}
		for _, l := range p.Learners {
			name := clusterRoleName(p.Name, l)
			if labels, ok := owners[name]; ok && (labels[WorkshopLabel] != p.Name || labels[LearnerLabel] != l) {
				return fmt.Errorf("%s %s belongs to workshop %s's learner %s, not to workshop %s's learner %s; choose another workshop name", kindOf(gvr), name, labels[WorkshopLabel], labels[LearnerLabel], p.Name, l)
			}
		}
	}
	return nil
}

type initializer struct {
	c      Clients
	p      Plan
	opts   InitOptions
	access Access
	// ports are the nodePorts of the lab namespaces that ask for one.
	ports map[string]int
}

func (w *initializer) labels(learner, lab string) map[string]string {
	l := map[string]string{WorkshopLabel: w.p.Name, labenv.ManagedByLabel: labenv.ManagedByValue}
	if learner != "" {
		l[LearnerLabel] = learner
	}
	if lab != "" {
		l[LabLabel] = lab
	}
	return l
}

// readRoleName names the workshop's read-only roles outside learners'
// namespaces.
func (w *initializer) readRoleName() string { return "k8slab-workshop-" + w.p.Name + "-read" }

// shared creates the read-only roles in namespaces outside the learners'
// (kube-system) that all learners share.
func (w *initializer) shared(ctx context.Context) error {
	for _, ns := range sortedKeys(w.access.NamespaceRead) {
		r := &rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: w.readRoleName(), Namespace: ns, Labels: w.labels("", "")},
			Rules:      readRules(w.access.NamespaceRead[ns]),
		}
		if err := w.apply(ctx, kube.RolesGVR, ns, r); err != nil {
			return err
		}
	}
	return nil
}

// clusterRoleName names a learner's ClusterRole and its binding: what the
// checks read cluster-wide (nodes), and get on the learner's own volumes.
func (w *initializer) clusterRoleName(learner string) string {
	return clusterRoleName(w.p.Name, learner)
}

func clusterRoleName(workshop, learner string) string {
	return "k8slab-workshop-" + workshop + "-" + learner
}

func readRules(gvrs []schema.GroupVersionResource) []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, g := range gvrs {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g.Group}, Resources: []string{g.Resource}, Verbs: readVerbs})
	}
	return rules
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// item is one object init applies.
type item struct {
	gvr schema.GroupVersionResource
	ns  string
	obj runtime.Object
}

// learner sets up one learner and writes their kubeconfig.
func (w *initializer) learner(ctx context.Context, learner string) (string, error) {
	home := HomeNamespace(w.p.Name, learner)
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: LearnerAccount, Namespace: home}}
	objs := []item{
		{kube.NamespacesGVR, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: home, Labels: withPodSecurity(w.labels(learner, ""), nil)}}},
		{kube.ServiceAccountsGVR, home, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: LearnerAccount, Namespace: home, Labels: w.labels(learner, "")}}},
	}
	for _, lab := range w.p.Labs {
		ns := LabNamespace(w.p.Name, learner, lab.ID)
		labels := w.labels(learner, lab.ID)
		meta := func(name string) metav1.ObjectMeta {
			return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
		}
		objs = append(objs,
			item{kube.NamespacesGVR, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: withPodSecurity(labels, lab), Annotations: nodePortAnnotation(w.ports[ns])}}},
			item{kube.NetworkPoliciesGVR, ns, networkPolicy(w.p.Name, learner, ns, labels)},
		)
		if lr := limitsFor(lab, ns, labels); lr != nil {
			objs = append(objs, item{kube.LimitRangesGVR, ns, lr})
		}
		for _, o := range []struct {
			gvr schema.GroupVersionResource
			obj runtime.Object
		}{
			{kube.RolesGVR, &rbacv1.Role{ObjectMeta: meta("k8slab-learner"), Rules: learnerRules}},
			{kube.RoleBindingsGVR, &rbacv1.RoleBinding{ObjectMeta: meta("k8slab-learner"), Subjects: subject,
				RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "k8slab-learner"}}},
		} {
			objs = append(objs, item{o.gvr, ns, o.obj})
		}
	}
	if rules := append(readRules(w.access.ClusterRead), OwnClusterObjects(w.p.Name, learner, w.p.Labs)...); len(rules) > 0 {
		name := w.clusterRoleName(learner)
		objs = append(objs,
			item{kube.ClusterRolesGVR, "", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: w.labels(learner, "")}, Rules: rules}},
			item{kube.ClusterRoleBindingsGVR, "", &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: w.labels(learner, "")},
				Subjects:   subject,
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			}})
	}
	for _, ns := range sortedKeys(w.access.NamespaceRead) {
		objs = append(objs, item{kube.RoleBindingsGVR, ns, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "k8slab-workshop-" + w.p.Name + "-" + learner, Namespace: ns, Labels: w.labels(learner, "")},
			Subjects:   subject,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: w.readRoleName()},
		}})
	}
	for _, o := range objs {
		if err := w.apply(ctx, o.gvr, o.ns, o.obj); err != nil {
			return "", err
		}
	}
	for _, lab := range w.p.Labs {
		if lab.Setup == "" {
			continue
		}
		ns := LabNamespace(w.p.Name, learner, lab.ID)
		// With the instructor's rights: a learner may not create the
		// cluster-scoped objects (volumes) a setup may hold. The rest
		// waits for the learner's first start of the lab, unless these
		// are the labs of the day.
		if !w.opts.SetUp {
			if err := labenv.ApplyClusterScopedSetup(ctx, w.c.Dynamic, lab, ns); err != nil {
				return "", err
			}
			continue
		}
		if err := labenv.WaitDefaultServiceAccount(ctx, w.c.Dynamic, ns); err != nil {
			return "", err
		}
		if err := labenv.ApplySetup(ctx, w.c.Dynamic, lab, ns); err != nil {
			return "", err
		}
	}
	// Quotas come last: until the quota controller has counted a
	// namespace, admission refuses every pod in it ("status unknown"), so
	// the setup goes in first.
	for _, lab := range w.p.Labs {
		ns := LabNamespace(w.p.Name, learner, lab.ID)
		if err := w.apply(ctx, kube.ResourceQuotasGVR, ns, quotaFor(lab, ns, w.labels(learner, lab.ID), w.opts.Quota)); err != nil {
			return "", err
		}
	}
	token, err := w.token(ctx, learner)
	if err != nil {
		return "", err
	}
	return w.writeKubeconfig(learner, token)
}
