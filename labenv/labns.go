package labenv

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

// Labels k8slab puts on the namespaces it creates. Reset deletes only a
// namespace that carries them, so it can never remove a namespace it did
// not make.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "k8slab"
	LabLabel       = "k8slab.dev/lab"
)

// FieldManager is the name k8slab's writes appear under in managedFields.
const FieldManager = "k8slab"

// StartLab creates the lab's namespace (if missing) and applies its setup
// (see ApplySetup). It refuses a namespace that exists but was not made by
// k8slab for this lab.
func StartLab(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	if ns == "" {
		ns = lab.Namespace
	}
	// Refused before anything is made, so that a refusal leaves nothing
	// behind (ApplySetup checks again, for an object made meanwhile).
	if err := refuseForeignSetupObjects(ctx, client, lab, ns); err != nil {
		return err
	}
	if err := ensureNamespace(ctx, client, lab, ns); err != nil {
		return err
	}
	// The service account controller adds "default" a moment after the
	// namespace appears, and until it does every pod is refused ("error
	// looking up service account"): the setup's and the learner's first
	// 'kubectl run' alike. The lab is ready once it is there.
	if err := WaitDefaultServiceAccount(ctx, client, ns); err != nil {
		return err
	}
	return ApplySetup(ctx, client, lab, ns)
}

// ResetLab removes the lab (its namespace, then the cluster-scoped
// objects its setup made for that namespace, see RemoveLab) and starts it
// afresh. Only a namespace k8slab created for this lab is deleted.
func ResetLab(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	if ns == "" {
		ns = lab.Namespace
	}
	if err := RemoveLab(ctx, client, lab, ns); err != nil {
		return err
	}
	return StartLab(ctx, client, lab, ns)
}

func getNamespace(ctx context.Context, client dynamic.Interface, ns string) (*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	got, err := client.Resource(kube.NamespacesGVR).Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", ns, err)
	}
	return got, nil
}

func checkOwned(ns *unstructured.Unstructured, lab *labfile.Lab) error {
	l := ns.GetLabels()
	if l[ManagedByLabel] != ManagedByValue || l[LabLabel] != lab.ID {
		return fmt.Errorf("namespace %s exists but was not created by k8slab for lab %s, so k8slab will not change or delete it; choose another with --namespace", ns.GetName(), lab.ID)
	}
	return nil
}

func ensureNamespace(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	existing, err := getNamespace(ctx, client, ns)
	if err != nil {
		return err
	}
	if existing != nil {
		if existing.GetDeletionTimestamp() != nil {
			if err := waitGone(ctx, client, ns); err != nil {
				return err
			}
		} else {
			return checkOwned(existing, lab)
		}
	}
	obj := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{ManagedByLabel: ManagedByValue, LabLabel: lab.ID}},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	_, err = client.Resource(kube.NamespacesGVR).Create(cctx, &unstructured.Unstructured{Object: u}, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsForbidden(err) {
		// A workshop learner: the instructor makes the lab namespaces.
		return fmt.Errorf("namespace %s does not exist and these credentials may not create it; in a workshop, only the labs the instructor set up are there (ask them to add lab %s with 'k8slab workshop init --labs')", ns, lab.ID)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// controllerWait is the deadline of a wait for a controller (the service
// account, namespace and garbage collectors): seconds on an idle machine,
// over a minute on a real cluster under load, where a single request may
// take most of kube.RequestTimeout.
const controllerWait = 3 * time.Minute

// WaitDefaultServiceAccount waits (up to controllerWait) until the service
// account controller has given namespace ns its "default" account: until
// then every pod there is refused. Someone who may not read service
// accounts (a workshop learner) cannot tell, and goes on.
func WaitDefaultServiceAccount(ctx context.Context, client dynamic.Interface, ns string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, controllerWait, true, func(ctx context.Context) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		defer cancel()
		_, last = client.Resource(kube.ServiceAccountsGVR).Namespace(ns).Get(cctx, "default", metav1.GetOptions{})
		switch {
		case last == nil, apierrors.IsForbidden(last):
			return true, nil
		case apierrors.IsNotFound(last):
			return false, nil
		}
		return false, fmt.Errorf("waiting for namespace %s's default service account: %w", ns, last)
	})
	if err != nil && (wait.Interrupted(err) || ctx.Err() != nil) {
		return fmt.Errorf("namespace %s has no default service account yet (is kube-controller-manager running? 'k8slab cluster status' says): %w", ns, err)
	}
	return err
}

func waitGone(ctx context.Context, client dynamic.Interface, ns string) error {
	var failed error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, controllerWait, true, func(ctx context.Context) (bool, error) {
		got, err := getNamespace(ctx, client, ns)
		if err != nil {
			failed = err
			return false, err
		}
		return got == nil, nil
	})
	if err != nil && failed == nil {
		return fmt.Errorf("namespace %s is still being deleted: %w", ns, err)
	}
	return err
}

// Apply server-side applies objects into namespace ns (cluster-scoped
// objects are applied as they are).
func Apply(ctx context.Context, client dynamic.Interface, ns string, objs []*unstructured.Unstructured) error {
	var errs []error
	for _, o := range objs {
		k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o = o.DeepCopy()
		var ri dynamic.ResourceInterface = client.Resource(k.GVR)
		if k.Namespaced {
			o.SetNamespace(ns)
			ri = client.Resource(k.GVR).Namespace(ns)
		}
		data, err := o.MarshalJSON()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		force := true
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		_, err = ri.Patch(cctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("applying %s %s: %w", o.GetKind(), o.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// ApplyYAML applies manifests given as YAML text.
func ApplyYAML(ctx context.Context, client dynamic.Interface, ns, text string) error {
	objs, err := labfile.DecodeManifests(text)
	if err != nil {
		return err
	}
	return Apply(ctx, client, ns, objs)
}
