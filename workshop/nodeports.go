package workshop

import (
	"context"
	"fmt"
	"strconv"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// nodePortsHeld reads which nodePorts the cluster already gives, for
// Plan.AllocateNodePorts: kept are the ports of workshop name's own lab
// namespaces (their annotation), taken the ports of every other
// namespace's annotation (another workshop on the same cluster would
// otherwise hand out the same ones, and its learners' Services would be
// refused: "provided port is already allocated") and every Service's
// nodePort but a learner's own on their own port.
func nodePortsHeld(ctx context.Context, c Clients, name string) (kept map[string]int, taken map[int]string, err error) {
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	nss, err := c.Dynamic.Resource(kube.NamespacesGVR).List(cctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("listing namespaces for the nodePorts they hold: %w", err)
	}
	kept, taken = map[string]int{}, map[int]string{}
	for i := range nss.Items {
		ns := &nss.Items[i]
		v, ok := ns.GetAnnotations()[labenv.NodePortAnnotation]
		if !ok {
			continue
		}
		port, err := strconv.Atoi(v)
		if err != nil {
			continue // not a port: it holds none (init repairs its own)
		}
		if ns.GetLabels()[WorkshopLabel] == name {
			kept[ns.GetName()] = port
			continue
		}
		who := "namespace " + ns.GetName()
		if w := ns.GetLabels()[WorkshopLabel]; w != "" {
			who = "workshop " + w
		}
		taken[port] = who
	}
	cctx, cancel = context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	svcs, err := c.Dynamic.Resource(kube.ServicesGVR).List(cctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("listing Services for the nodePorts they hold: %w", err)
	}
	for i := range svcs.Items {
		svc := &svcs.Items[i]
		ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		for _, p := range ports {
			m, _ := p.(map[string]any)
			port, ok, _ := unstructured.NestedInt64(m, "nodePort")
			if !ok || port == 0 {
				continue
			}
			if kept[svc.GetNamespace()] == int(port) {
				continue // the learner's Service on the learner's port
			}
			if _, held := taken[int(port)]; !held {
				taken[int(port)] = "Service " + svc.GetNamespace() + "/" + svc.GetName()
			}
		}
	}
	return kept, taken, nil
}
