package workshop

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/k8slab/k8slab/internal/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// apply server-side applies obj, so a second init changes nothing that is
// already right and repairs what is not.
func (w *initializer) apply(ctx context.Context, gvr schema.GroupVersionResource, ns string, obj runtime.Object) error {
	return apply(ctx, w.c.Dynamic, gvr, ns, obj)
}

func apply(ctx context.Context, client dynamic.Interface, gvr schema.GroupVersionResource, ns string, obj runtime.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	o := &unstructured.Unstructured{Object: u}
	o.SetAPIVersion(gvr.GroupVersion().String())
	o.SetKind(kindOf(gvr))
	unstructured.RemoveNestedField(o.Object, "metadata", "creationTimestamp")
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = client.Resource(gvr)
	if ns != "" {
		ri = client.Resource(gvr).Namespace(ns)
	}
	force := true
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	if _, err := ri.Patch(cctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force}); err != nil {
		where := ""
		if ns != "" {
			where = " in namespace " + ns
		}
		return fmt.Errorf("applying %s %s%s: %w", o.GetKind(), o.GetName(), where, err)
	}
	return nil
}

func kindOf(gvr schema.GroupVersionResource) string {
	switch gvr {
	case kube.NamespacesGVR:
		return "Namespace"
	case kube.ServiceAccountsGVR:
		return "ServiceAccount"
	case kube.ResourceQuotasGVR:
		return "ResourceQuota"
	case kube.LimitRangesGVR:
		return "LimitRange"
	case kube.RolesGVR:
		return "Role"
	case kube.RoleBindingsGVR:
		return "RoleBinding"
	case kube.ClusterRolesGVR:
		return "ClusterRole"
	case kube.ClusterRoleBindingsGVR:
		return "ClusterRoleBinding"
	case kube.NetworkPoliciesGVR:
		return "NetworkPolicy"
	case kube.SecretsGVR:
		return "Secret"
	}
	panic("workshop: no kind for " + gvr.String())
}
