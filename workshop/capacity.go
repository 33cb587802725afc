package workshop

import (
	"context"
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// defaultRequest is what the workshop's LimitRange gives a container that
// asks for nothing (its defaultRequest); the capacity count uses it for
// setup containers without requests and for learners' own pods.
var defaultRequest = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("50m"),
	corev1.ResourceMemory: resource.MustParse("64Mi"),
}

// HeadroomPodsPerLab is the learner's own work counted for each lab, in
// pods at the default request: the course's reference solutions leave
// about two running per lab (a Deployment of three in one, a Pod in
// another), and they stay while the learner moves on.
const HeadroomPodsPerLab = 2

// Resources is an amount of what pods request of nodes.
type Resources struct {
	CPU    resource.Quantity
	Memory resource.Quantity
	Pods   int64
}

func (r *Resources) add(o Resources, times int64) {
	for range times {
		r.CPU.Add(o.CPU)
		r.Memory.Add(o.Memory)
	}
	r.Pods += o.Pods * times
}

func (r Resources) String() string {
	return fmt.Sprintf("%s CPU, %s memory and %d pods", cpuText(r.CPU), memText(r.Memory), r.Pods)
}

func cpuText(q resource.Quantity) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(q.MilliValue())/1000), "0"), ".")
}

func memText(q resource.Quantity) string {
	return fmt.Sprintf("%.1f GiB", float64(q.Value())/(1<<30))
}

// Need is what a class will request of the cluster's nodes.
type Need struct {
	Learners int
	// PerLearner is one learner's share: every lab's setup, and the
	// headroom for their own work.
	PerLearner, Setup, Headroom Resources
	Total                       Resources
	// Unschedulable are setup pods no node of the cluster could ever
	// take (a lab that means a pod to stay Pending); they are not counted.
	Unschedulable []string
}

// Capacity is what the cluster's schedulable nodes have left.
type Capacity struct {
	Nodes int
	Free  Resources
	// Node is the largest schedulable node's allocatable, for advice on
	// how many nodes a class needs.
	Node Resources
}

// ClassNeed works out what learners doing labs will request: each lab's
// setup (a Deployment's replicas times its pod's requests, containers
// without requests at the LimitRange's default), plus HeadroomPodsPerLab
// pods a lab for the learner's own work. Pods that ask for more than
// largest (the biggest node) are left out: no class size makes them fit.
func ClassNeed(labs []*labfile.Lab, learners int, largest Resources) (Need, error) {
	n := Need{Learners: learners}
	for _, lab := range labs {
		objs, err := labenv.SetupObjects(lab, "capacity")
		if err != nil {
			return Need{}, err
		}
		for _, o := range objs {
			spec, replicas, ok := podSpec(o)
			if !ok {
				continue
			}
			req := podRequests(spec)
			if req.CPU.Cmp(largest.CPU) > 0 || req.Memory.Cmp(largest.Memory) > 0 {
				n.Unschedulable = append(n.Unschedulable, fmt.Sprintf("%s %s of lab %s", o.GetKind(), o.GetName(), lab.ID))
				continue
			}
			n.Setup.add(req, replicas)
		}
		n.Headroom.add(Resources{CPU: defaultRequest[corev1.ResourceCPU], Memory: defaultRequest[corev1.ResourceMemory], Pods: 1}, HeadroomPodsPerLab)
	}
	n.PerLearner.add(n.Setup, 1)
	n.PerLearner.add(n.Headroom, 1)
	n.Total.add(n.PerLearner, int64(learners))
	return n, nil
}

// podSpec is the pod an object of a setup makes, and how many of it.
func podSpec(o *unstructured.Unstructured) (*corev1.PodSpec, int64, bool) {
	path := []string{"spec", "template", "spec"}
	replicas := int64(1)
	switch o.GroupVersionKind().GroupKind().String() {
	case "Pod":
		path = []string{"spec"}
	case "Deployment.apps", "ReplicaSet.apps", "StatefulSet.apps":
		if r, ok := count(o, "spec", "replicas"); ok {
			replicas = r
		}
	case "Job.batch":
		if r, ok := count(o, "spec", "parallelism"); ok {
			replicas = r
		}
	default:
		return nil, 0, false
	}
	raw, found, _ := unstructured.NestedMap(o.Object, path...)
	if !found {
		return nil, 0, false
	}
	var spec corev1.PodSpec
	if runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec) != nil {
		return nil, 0, false
	}
	return &spec, replicas, true
}

// count reads a whole number however the decoder typed it.
func count(o *unstructured.Unstructured, path ...string) (int64, bool) {
	v, found, _ := unstructured.NestedFieldNoCopy(o.Object, path...)
	if !found {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// podRequests is what the scheduler counts for a pod: its containers'
// requests added up, or its largest init container's if that is more.
// A container without a request gets its limit, else the LimitRange's.
func podRequests(spec *corev1.PodSpec) Resources {
	one := func(c corev1.Container) (cpu, mem resource.Quantity) {
		get := func(name corev1.ResourceName) resource.Quantity {
			if q, ok := c.Resources.Requests[name]; ok {
				return q
			}
			if q, ok := c.Resources.Limits[name]; ok {
				return q
			}
			return defaultRequest[name]
		}
		return get(corev1.ResourceCPU), get(corev1.ResourceMemory)
	}
	r := Resources{Pods: 1}
	for _, c := range spec.Containers {
		cpu, mem := one(c)
		r.CPU.Add(cpu)
		r.Memory.Add(mem)
	}
	for _, c := range spec.InitContainers {
		cpu, mem := one(c)
		if cpu.Cmp(r.CPU) > 0 {
			r.CPU = cpu
		}
		if mem.Cmp(r.Memory) > 0 {
			r.Memory = mem
		}
	}
	return r
}

// ClusterCapacity adds up the allocatable resources of the nodes that take
// ordinary pods, less what pods already there request; pods of workshop
// name itself are not subtracted, since the class's need counts them.
func ClusterCapacity(ctx context.Context, c Clients, name string) (Capacity, error) {
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	list, err := c.Dynamic.Resource(kube.NodesGVR).List(cctx, metav1.ListOptions{})
	if err != nil {
		return Capacity{}, fmt.Errorf("reading the nodes to see whether the class fits: %w", err)
	}
	var capa Capacity
	free := map[string]*Resources{}
	for _, u := range list.Items {
		var n corev1.Node
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &n) != nil || !kube.NodeTakesPods(&n) {
			continue
		}
		a := n.Status.Allocatable
		r := Resources{CPU: a[corev1.ResourceCPU], Memory: a[corev1.ResourceMemory], Pods: a.Pods().Value()}
		free[n.Name] = &r
		capa.Nodes++
		if r.CPU.Cmp(capa.Node.CPU) > 0 || (r.CPU.Cmp(capa.Node.CPU) == 0 && r.Memory.Cmp(capa.Node.Memory) > 0) {
			capa.Node = r
		}
	}
	pctx, pcancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer pcancel()
	pods, err := c.Dynamic.Resource(kube.PodsGVR).List(pctx, metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return Capacity{}, fmt.Errorf("reading the pods to see whether the class fits: %w", err)
	}
	ours := name + "-"
	for _, u := range pods.Items {
		var p corev1.Pod
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p) != nil {
			continue
		}
		r, ok := free[p.Spec.NodeName]
		if !ok || strings.HasPrefix(p.Namespace, ours) {
			continue
		}
		used := podRequests(&p.Spec)
		r.CPU.Sub(used.CPU)
		r.Memory.Sub(used.Memory)
		r.Pods--
	}
	for _, r := range free {
		capa.Free.add(*r, 1)
	}
	return capa, nil
}

// Fits says whether the need fits the capacity; when it does not, the
// error gives the numbers and what to do.
func (n Need) Fits(c Capacity, labs int) error {
	short := []string{}
	if n.Total.CPU.Cmp(c.Free.CPU) > 0 {
		short = append(short, "CPU")
	}
	if n.Total.Memory.Cmp(c.Free.Memory) > 0 {
		short = append(short, "memory")
	}
	if n.Total.Pods > c.Free.Pods {
		short = append(short, "pods")
	}
	if len(short) == 0 {
		return nil
	}
	return fmt.Errorf("the class does not fit this cluster (too little %s): %d learners × %d labs will request %s "+
		"(each learner %s: the labs' setups %s, and %d pods a lab for their own work); "+
		"the cluster's %d schedulable nodes have %s free. Nothing was created.\n"+
		"Do one of these: set up only the labs of the day with --labs LAB,LAB; fewer learners; "+
		"a bigger cluster (the simulator: 'k8slab cluster down', then 'k8slab cluster up --provider sim --nodes %d', with each node as big as now); "+
		"or --force to go ahead, and pods that do not fit stay Pending",
		strings.Join(short, ", "), n.Learners, labs, n.Total, n.PerLearner, n.Setup, HeadroomPodsPerLab,
		c.Nodes, c.Free, n.NodesNeeded(c.Node)+1)
}

// NodesNeeded is how many schedulable nodes of size node the class needs.
func (n Need) NodesNeeded(node Resources) int {
	ratio := func(need, have float64) float64 {
		if have <= 0 {
			return math.Inf(1)
		}
		return need / have
	}
	r := max(
		ratio(float64(n.Total.CPU.MilliValue()), float64(node.CPU.MilliValue())),
		ratio(float64(n.Total.Memory.Value()), float64(node.Memory.Value())),
		ratio(float64(n.Total.Pods), float64(node.Pods)),
	)
	if math.IsInf(r, 1) {
		return 0
	}
	return int(math.Ceil(r))
}

// checkCapacity counts what the class will request against what the
// nodes have free, says so on opts.Progress, and refuses a class that
// does not fit unless opts.Force.
func checkCapacity(ctx context.Context, c Clients, p Plan, opts InitOptions) (Need, Capacity, error) {
	capa, err := ClusterCapacity(ctx, c, p.Name)
	if err != nil {
		return Need{}, Capacity{}, err
	}
	if capa.Nodes == 0 && !opts.Force {
		return Need{}, capa, fmt.Errorf("the cluster has no node that takes ordinary pods (all cordoned or tainted NoSchedule); nothing was created. Add a node, or pass --force")
	}
	need, err := ClassNeed(p.Labs, len(p.Learners), capa.Node)
	if err != nil {
		return Need{}, capa, err
	}
	fits := need.Fits(capa, len(p.Labs))
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "The class will request %s; the cluster's %d schedulable nodes have %s free.\n", need.Total, capa.Nodes, capa.Free)
		for _, u := range need.Unschedulable {
			fmt.Fprintf(opts.Progress, "  Not counted: %s asks for more than any node has, and stays Pending as the lab means it to.\n", u)
		}
		if fits != nil && opts.Force {
			fmt.Fprintf(opts.Progress, "That is more than is free; going ahead as --force asks: pods that do not fit will stay Pending.\n")
		}
	}
	if fits != nil && !opts.Force {
		return need, capa, fits
	}
	return need, capa, nil
}
