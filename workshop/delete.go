package workshop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// DeleteResult counts what delete removed.
type DeleteResult struct {
	Namespaces, ClusterObjects, OtherObjects int
}

// Delete removes what init made for the workshop, found by its label and
// nothing else: learners' namespaces (with everything in them), the
// cluster-wide read-only roles and bindings, the roles and bindings in
// namespaces the labs read, and the cluster-scoped objects (volumes) labs'
// setups made for the learners' namespaces. It does not wait for namespaces to finish
// terminating.
func Delete(ctx context.Context, c Clients, name string) (DeleteResult, error) {
	var res DeleteResult
	if !ident.Valid(name) {
		return res, fmt.Errorf("workshop name %q: use lowercase letters, digits and dashes", name)
	}
	selector := metav1.ListOptions{LabelSelector: WorkshopLabel + "=" + name}
	var errs []error
	del := func(gvr schema.GroupVersionResource, allNamespaces bool, count *int) {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		list, err := c.Dynamic.Resource(gvr).List(cctx, selector)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", gvr.Resource, err))
			return
		}
		for _, o := range list.Items {
			cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
			var err error
			if allNamespaces && o.GetNamespace() != "" {
				err = c.Dynamic.Resource(gvr).Namespace(o.GetNamespace()).Delete(cctx, o.GetName(), metav1.DeleteOptions{})
			} else {
				err = c.Dynamic.Resource(gvr).Delete(cctx, o.GetName(), metav1.DeleteOptions{})
			}
			cancel()
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s: %w", gvr.Resource, o.GetName(), err))
				continue
			}
			*count++
		}
	}
	// Bindings first: a learner loses access before anything else goes.
	del(kube.ClusterRoleBindingsGVR, false, &res.ClusterObjects)
	del(kube.ClusterRolesGVR, false, &res.ClusterObjects)
	namespaced := map[string]bool{}
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	nsList, err := c.Dynamic.Resource(kube.NamespacesGVR).List(cctx, selector)
	cancel()
	if err != nil {
		return res, fmt.Errorf("listing the workshop's namespaces: %w", err)
	}
	for _, ns := range nsList.Items {
		namespaced[ns.GetName()] = true
	}
	// Roles and bindings init put in namespaces it does not own (such as
	// kube-system); those in the workshop's namespaces go with them.
	for _, gvr := range []schema.GroupVersionResource{kube.RoleBindingsGVR, kube.RolesGVR} {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		list, err := c.Dynamic.Resource(gvr).List(cctx, selector)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", gvr.Resource, err))
			continue
		}
		for _, o := range list.Items {
			if namespaced[o.GetNamespace()] {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
			err := c.Dynamic.Resource(gvr).Namespace(o.GetNamespace()).Delete(cctx, o.GetName(), metav1.DeleteOptions{})
			cancel()
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s/%s: %w", gvr.Resource, o.GetNamespace(), o.GetName(), err))
				continue
			}
			res.OtherObjects++
		}
	}
	for _, ns := range nsList.Items {
		if ns.GetDeletionTimestamp() != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		err := c.Dynamic.Resource(kube.NamespacesGVR).Delete(cctx, ns.GetName(), metav1.DeleteOptions{})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", ns.GetName(), err))
			continue
		}
		res.Namespaces++
	}
	// Volumes and other cluster-scoped objects a lab's setup made for a
	// learner's namespace: deleted now, they go once the namespace's
	// claims have released them.
	var names []string
	for _, ns := range nsList.Items {
		names = append(names, ns.GetName())
	}
	n, err := labenv.DeleteClusterObjects(ctx, c.Dynamic, labenv.AllClusterScopedKinds(), names, false)
	res.ClusterObjects += n
	if err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// WaitDeleted waits until no namespace of the workshop is left.
func WaitDeleted(ctx context.Context, c Clients, name string, timeout time.Duration) error {
	left := 0
	var last error // of the latest list; a failed one is retried
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		defer cancel()
		list, err := c.Dynamic.Resource(kube.NamespacesGVR).List(cctx, metav1.ListOptions{LabelSelector: WorkshopLabel + "=" + name})
		if last = err; err != nil {
			return false, nil
		}
		left = len(list.Items)
		return left == 0, nil
	})
	switch {
	case err == nil:
		return nil
	case last != nil:
		return last
	}
	return fmt.Errorf("%d namespaces of workshop %s are still terminating", left, name)
}
