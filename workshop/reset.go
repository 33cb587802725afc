package workshop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// resettable are the kinds a learner may create in a lab namespace, in
// the order they are removed (owners before what they own). Not
// NetworkPolicies: the one there is init's fence.
var resettable = []schema.GroupVersionResource{
	kube.DeploymentsGVR,
	kube.StatefulSetsGVR,
	kube.DaemonSetsGVR,
	kube.ReplicaSetsGVR,
	kube.CronJobsGVR,
	kube.JobsGVR,
	kube.HorizontalPodAutoscalersGVR,
	kube.IngressesGVR,
	kube.PodDisruptionBudgetsGVR,
	kube.ServicesGVR,
	kube.PodsGVR,
	kube.ConfigMapsGVR,
	kube.SecretsGVR,
	kube.PersistentVolumeClaimsGVR,
}

// awaitedGone are the kinds ResetLab waits to see empty before the setup
// runs again: the setup recreates Deployments and Pods by name, and a
// claim must be gone for the volume it held to show as released.
var awaitedGone = []schema.GroupVersionResource{
	kube.DeploymentsGVR,
	kube.PodsGVR,
	kube.PersistentVolumeClaimsGVR,
}

// ResetFor is how a lab is reset for whoever works in it: a workshop
// learner, who may not delete their namespaces, with ResetLab; anyone
// else with labenv.ResetLab. The CLI and the TUI both choose here.
func ResetFor(learner bool) func(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	if learner {
		return ResetLab
	}
	return labenv.ResetLab
}

// ResetLab starts a learner's lab afresh with a learner's rights: it cannot
// delete and recreate the namespace (that needs cluster-wide rights, and
// would take the learner's Role with it), so it empties the namespace of
// everything a learner can make and applies the setup again.
func ResetLab(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	var errs []error
	for _, gvr := range resettable {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		err := client.Resource(gvr).Namespace(ns).DeleteCollection(cctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s in %s: %w", gvr.Resource, ns, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The setup recreates objects by name; wait for the old ones to go,
	// and for the claims, so that a volume the setup provided is seen
	// released (which only the instructor can undo: StartLab says so).
	// One deadline for all of them; a kind seen empty is not listed again.
	gone, left := 0, 0
	var failed error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		for ; gone < len(awaitedGone); gone++ {
			gvr := awaitedGone[gone]
			// A list under way at the deadline finishes, so the count
			// said below is one read.
			cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
			list, err := client.Resource(gvr).Namespace(ns).List(cctx, metav1.ListOptions{})
			cancel()
			if err != nil {
				failed = fmt.Errorf("waiting for %s in %s to go: %w", gvr.Resource, ns, err)
				return false, failed
			}
			if left = len(list.Items); left > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	switch {
	case failed != nil:
		return failed
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("%d %s in %s are still being deleted", left, awaitedGone[gone].Resource, ns)
	case err != nil:
		return err
	}
	return labenv.StartLab(ctx, client, lab, ns)
}
