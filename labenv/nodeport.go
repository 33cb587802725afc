package labenv

import (
	"context"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/labfile"
)

// NodePortAnnotation on a lab namespace is the nodePort the lab asks its
// learner for (labfile.NodePortPlaceholder). A workshop's init writes it,
// a different port for every learner; a learner cannot change a
// namespace, so it is the instructor's word, not a claim.
const NodePortAnnotation = "k8slab.dev/node-port"

// NodePort is the nodePort lab asks for in namespace ns: the namespace's
// NodePortAnnotation, else labfile.DefaultNodePort (a learner with the
// cluster to themselves, or a namespace not made yet). A lab that asks
// for none needs no request.
func NodePort(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) (int, error) {
	if !lab.UsesNodePort() {
		return labfile.DefaultNodePort, nil
	}
	got, err := getNamespace(ctx, client, ns)
	if err != nil {
		return 0, fmt.Errorf("finding the nodePort of lab %s: %w", lab.ID, err)
	}
	if got == nil {
		return labfile.DefaultNodePort, nil
	}
	return NamespaceNodePort(got)
}

// NamespaceNodePort is the nodePort lab namespace ns gives its lab: its
// NodePortAnnotation, else labfile.DefaultNodePort.
func NamespaceNodePort(ns *unstructured.Unstructured) (int, error) {
	v, ok := ns.GetAnnotations()[NodePortAnnotation]
	if !ok {
		return labfile.DefaultNodePort, nil
	}
	port, err := strconv.Atoi(v)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("namespace %s: annotation %s is %q, not a port number; run 'k8slab workshop init' again to repair it", ns.GetName(), NodePortAnnotation, v)
	}
	return port, nil
}
