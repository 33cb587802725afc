// Package labenv starts, resets and removes a lab's environment on a
// cluster: its namespace, the objects its setup makes (volumes included),
// and the steps of a solution or mistake. It is the one package that
// writes to a cluster for a lab; it never deletes what k8slab did not make.
package labenv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

// LabNodePlaceholder stands for the node a lab's node-bound storage lives
// on, as the value of its kubernetes.io/hostname label: a hostPath
// PersistentVolume pinned there with node affinity, so that
// a replaced pod is scheduled where its files are instead of on another
// node with an empty directory. It is the first schedulable worker by
// name, so every reset of the lab chooses the same node again.
const LabNodePlaceholder = "${LAB_NODE}"

// LabNamespaceLabel names the lab namespace a cluster-scoped setup object
// was made for. Removing the lab deletes only objects that carry it (and
// ManagedByLabel) with that namespace.
const LabNamespaceLabel = "k8slab.dev/lab-namespace"

// SetupObjects decodes the lab's setup for namespace ns, with the
// placeholder replaced by ns.
func SetupObjects(lab *labfile.Lab, ns string) ([]*unstructured.Unstructured, error) {
	if strings.TrimSpace(lab.Setup) == "" {
		return nil, nil
	}
	objs, err := labfile.DecodeManifests(strings.ReplaceAll(lab.Setup, labfile.LabNamespacePlaceholder, ns))
	if err != nil {
		return nil, fmt.Errorf("lab %s setup: %w", lab.ID, err)
	}
	return objs, nil
}

// ApplySetup applies the lab's setup for namespace ns: namespaced objects
// into ns, cluster-scoped ones labelled as made for ns. It refuses to take
// over a cluster-scoped object of the same name that k8slab did not make
// for ns.
func ApplySetup(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	return applySetup(ctx, client, lab, ns, true)
}

// ApplyClusterScopedSetup applies only the cluster-scoped objects of the
// lab's setup (its volumes), as ApplySetup does: a workshop makes them
// for every learner up front, since a learner may not, and leaves the
// rest of the setup to the learner's first start of the lab.
func ApplyClusterScopedSetup(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	return applySetup(ctx, client, lab, ns, false)
}

// clusterScoped remembers, by setup text, whether a setup makes a
// cluster-scoped object. A workshop asks it of every lab for every learner;
// decoding the same YAML again each time was most of init's own CPU.
var clusterScoped sync.Map

// HasClusterScopedSetup reports whether the lab's setup makes a
// cluster-scoped object (a volume). A setup that does not decode, or
// holds a kind k8slab does not know, counts as having one, so that the
// caller goes on to applying it and says why it cannot.
func HasClusterScopedSetup(lab *labfile.Lab) bool {
	if strings.TrimSpace(lab.Setup) == "" {
		return false
	}
	if has, ok := clusterScoped.Load(lab.Setup); ok {
		return has.(bool)
	}
	objs, err := SetupObjects(lab, "")
	has := err != nil
	for _, o := range objs {
		if k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind()); err != nil || !k.Namespaced {
			has = true
		}
	}
	clusterScoped.Store(lab.Setup, has)
	return has
}

func applySetup(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string, withNamespaced bool) error {
	if !withNamespaced && !HasClusterScopedSetup(lab) {
		// Nothing to apply: no decoding, and no node or nodePort to
		// look up on the cluster.
		return nil
	}
	objs, err := SetupObjects(lab, ns)
	if err != nil {
		return err
	}
	if strings.Contains(lab.Setup, LabNodePlaceholder) || strings.Contains(lab.Setup, labfile.NodePortPlaceholder) {
		setup := lab.Setup
		if strings.Contains(setup, LabNodePlaceholder) {
			node, err := LabNode(ctx, client)
			if err != nil {
				return fmt.Errorf("lab %s setup: %w", lab.ID, err)
			}
			setup = strings.ReplaceAll(setup, LabNodePlaceholder, node)
		}
		port, err := NodePort(ctx, client, lab, ns)
		if err != nil {
			return err
		}
		setup = labfile.ExpandNodePort(setup, port)
		if objs, err = labfile.DecodeManifests(strings.ReplaceAll(setup, labfile.LabNamespacePlaceholder, ns)); err != nil {
			return fmt.Errorf("lab %s setup: %w", lab.ID, err)
		}
	}
	var namespaced []*unstructured.Unstructured
	var errs []error
	for _, o := range objs {
		k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind())
		if err != nil {
			errs = append(errs, fmt.Errorf("lab %s setup: %w", lab.ID, err))
			continue
		}
		if k.Namespaced {
			namespaced = append(namespaced, o)
			continue
		}
		if key := o.GetAPIVersion() + "/" + o.GetKind(); !slices.Contains(labfile.SetupClusterKinds(), key) {
			errs = append(errs, fmt.Errorf("lab %s setup: %s %s is cluster-scoped; a setup may make only %s", lab.ID, o.GetKind(), o.GetName(), strings.Join(labfile.SetupClusterKinds(), ", ")))
			continue
		}
		if err := applyClusterScoped(ctx, client, lab, k, o, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil || !withNamespaced {
		return err
	}
	if err := Apply(ctx, client, ns, namespaced); err != nil {
		return fmt.Errorf("lab %s setup: %w", lab.ID, err)
	}
	return nil
}

// LabNode chooses the node that LabNodePlaceholder names, by its hostname
// label: the first worker
// by name that takes ordinary pods (not cordoned, no NoSchedule or
// NoExecute taint), else the first node that does, else the first node.
func LabNode(ctx context.Context, client dynamic.Interface) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	list, err := client.Resource(kube.NodesGVR).List(cctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("choosing the node for the lab's volume: listing nodes: %w", err)
	}
	nodes := make([]corev1.Node, 0, len(list.Items))
	for i := range list.Items {
		var n corev1.Node
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &n); err == nil {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return "", errors.New("choosing the node for the lab's volume: the cluster has no nodes")
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, worker := range []bool{true, false} {
		for i := range nodes {
			if kube.NodeTakesPods(&nodes[i]) && (!worker || kube.NodeRole(&nodes[i]) == "worker") {
				return hostname(&nodes[i]), nil
			}
		}
	}
	return hostname(&nodes[0]), nil
}

// hostname is what a PersistentVolume's node affinity can match: the
// node's kubernetes.io/hostname label (usually, not always, its name).
func hostname(n *corev1.Node) string {
	if h := n.Labels[corev1.LabelHostname]; h != "" {
		return h
	}
	return n.Name
}

func foreignObject(o *unstructured.Unstructured, ns string) error {
	return fmt.Errorf("%s %s exists but was not created by k8slab for namespace %s, so k8slab will not take it over; delete it yourself if it is not needed, or choose another namespace with --namespace", o.GetKind(), o.GetName(), ns)
}

// refuseForeignSetupObjects reports the first cluster-scoped object of the
// setup that exists already but was not made by k8slab for ns. Objects
// the credentials may not read are left to the instructor who made them.
func refuseForeignSetupObjects(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	objs, err := SetupObjects(lab, ns)
	if err != nil {
		return err
	}
	for _, o := range objs {
		k, err := kube.LookupKind(o.GetAPIVersion(), o.GetKind())
		if err != nil || k.Namespaced {
			continue
		}
		existing, err := getObject(ctx, client.Resource(k.GVR), o.GetName())
		if apierrors.IsForbidden(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if existing != nil && !ownedBy(existing, ns) {
			return foreignObject(o, ns)
		}
	}
	return nil
}

// ownedBy reports whether k8slab made o for lab namespace ns.
func ownedBy(o *unstructured.Unstructured, ns string) bool {
	l := o.GetLabels()
	return l[ManagedByLabel] == ManagedByValue && l[LabNamespaceLabel] == ns
}

func applyClusterScoped(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, k kube.Kind, o *unstructured.Unstructured, ns string) error {
	o = o.DeepCopy()
	name := o.GetName()
	// Lint enforces this for authored labs; a lazily parsed lab is not
	// linted at load, and a name without the namespace would be shared.
	if !strings.Contains(name, ns) {
		return fmt.Errorf("lab %s setup: %s %s is cluster-scoped, so its name must contain %s", lab.ID, o.GetKind(), name, labfile.LabNamespacePlaceholder)
	}
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ManagedByLabel] = ManagedByValue
	labels[LabNamespaceLabel] = ns
	o.SetLabels(labels)
	ri := client.Resource(k.GVR)

	existing, err := getObject(ctx, ri, name)
	if apierrors.IsForbidden(err) {
		// A workshop learner may not see cluster-scoped objects: the
		// instructor's 'k8slab workshop init' made them.
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", o.GetKind(), name, err)
	}
	if existing != nil && !ownedBy(existing, ns) {
		return foreignObject(o, ns)
	}
	// A volume whose claim was deleted stays Released (Retain) and binds
	// no new claim, since its claimRef keeps the old claim's uid: make it
	// anew, as an administrator would.
	if existing != nil && existing.GetDeletionTimestamp() == nil && o.GetKind() == "PersistentVolume" {
		if phase := volumePhase(ctx, client, existing); phase == "Released" || phase == "Failed" {
			if err := deleteOwned(ctx, ri, existing, ns); err != nil {
				if apierrors.IsForbidden(err) {
					return fmt.Errorf("%s %s from the lab's setup is %s and must be made anew, which these credentials may not do; in a workshop, ask the instructor to run 'k8slab workshop init' again", o.GetKind(), name, phase)
				}
				return err
			}
			existing.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
		}
	}
	if existing != nil && existing.GetDeletionTimestamp() != nil {
		if err := waitObjectGone(ctx, ri, o.GetKind(), name); err != nil {
			return err
		}
		existing = nil
	}
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	if existing == nil {
		// Create, not apply: if someone made the name meanwhile, creation
		// fails instead of adopting their object.
		_, err = ri.Create(cctx, o, metav1.CreateOptions{FieldManager: FieldManager})
		if err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), name, err)
		}
		return nil
	}
	// A volume's node affinity cannot change once made, and the node
	// chosen for it may differ between two runs (a node still tainted
	// not-ready the first time): the volume stays where it was made.
	if o.GetKind() == "PersistentVolume" {
		if affinity, found, _ := unstructured.NestedFieldNoCopy(existing.Object, "spec", "nodeAffinity"); found {
			if err := unstructured.SetNestedField(o.Object, runtime.DeepCopyJSONValue(affinity), "spec", "nodeAffinity"); err != nil {
				return err
			}
		}
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = ri.Patch(cctx, name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if apierrors.IsForbidden(err) {
		return nil // it is there and k8slab's; someone with the rights made it
	}
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), name, err)
	}
	return nil
}

// volumePhase is pv's phase, or Released when it is still shown Bound to a
// claim that is gone: the volume controller may not have noticed yet.
func volumePhase(ctx context.Context, client dynamic.Interface, pv *unstructured.Unstructured) string {
	phase, _, _ := unstructured.NestedString(pv.Object, "status", "phase")
	if phase != "Bound" {
		return phase
	}
	ref, _, _ := unstructured.NestedStringMap(pv.Object, "spec", "claimRef")
	if ref["uid"] == "" || ref["name"] == "" {
		return phase
	}
	claim, err := getObject(ctx, client.Resource(kube.PersistentVolumeClaimsGVR).Namespace(ref["namespace"]), ref["name"])
	if err == nil && (claim == nil || string(claim.GetUID()) != ref["uid"]) {
		return "Released"
	}
	return phase
}

// ClusterScopedKinds are the kinds of the lab's cluster-scoped setup
// objects (their API version/kind keys), sorted; nil when it has none.
func ClusterScopedKinds(lab *labfile.Lab) []string {
	objs, err := SetupObjects(lab, "")
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		key := o.GetAPIVersion() + "/" + o.GetKind()
		if k, ok := kube.KnownKind(key); ok && !k.Namespaced && !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// ClusterScopedSetupShared reports whether two namespaces' setups of the
// lab would make the same cluster-scoped object: a volume not named after
// its namespace, say. Then the lab can be set up in only one namespace at
// a time; the built-in labs name theirs after the namespace.
func ClusterScopedSetupShared(lab *labfile.Lab) bool {
	names := func(ns string) map[string]bool {
		objs, err := SetupObjects(lab, ns)
		if err != nil {
			return nil
		}
		out := map[string]bool{}
		for _, o := range objs {
			key := o.GetAPIVersion() + "/" + o.GetKind()
			if k, ok := kube.KnownKind(key); ok && !k.Namespaced {
				out[key+"/"+o.GetName()] = true
			}
		}
		return out
	}
	a, b := names("k8slab-shared-a"), names("k8slab-shared-b")
	if a == nil || b == nil {
		return true // a setup that does not decode: one at a time, to be safe
	}
	for name := range a {
		if b[name] {
			return true
		}
	}
	return false
}

// ClusterScopedResources are the API resources of ClusterScopedKinds.
func ClusterScopedResources(lab *labfile.Lab) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, key := range ClusterScopedKinds(lab) {
		k, _ := kube.KnownKind(key)
		out = append(out, k.GVR)
	}
	return out
}

// RemoveLab deletes the lab namespace ns, waits until it is gone, and then
// deletes the cluster-scoped objects the setup made for ns (found by
// k8slab's labels and nothing else). The namespace goes first, so that
// claims release their volumes before the volumes are deleted. Only a
// namespace k8slab created for this lab is deleted.
func RemoveLab(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error {
	if ns == "" {
		ns = lab.Namespace
	}
	existing, err := getNamespace(ctx, client, ns)
	if err != nil {
		return err
	}
	if existing != nil {
		if err := checkOwned(existing, lab); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		err := client.Resource(kube.NamespacesGVR).Delete(cctx, ns, metav1.DeleteOptions{})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting namespace %s: %w", ns, err)
		}
		if err := waitGone(ctx, client, ns); err != nil {
			return err
		}
	}
	_, err = DeleteClusterObjects(ctx, client, ClusterScopedKinds(lab), []string{ns}, true)
	return err
}

// AllClusterScopedKinds are every cluster-scoped kind a setup may hold,
// for a caller that does not know which labs made a namespace.
func AllClusterScopedKinds() []string {
	return labfile.SetupClusterKinds()
}

// DeleteClusterObjects deletes the objects of the given cluster-scoped
// kinds (API version/kind keys) that k8slab made for any of the lab
// namespaces, and with wait, waits until they are gone. It reports how
// many it deleted. A volume still bound to a claim is held by its
// protection finalizer until the claim goes.
func DeleteClusterObjects(ctx context.Context, client dynamic.Interface, kinds, namespaces []string, wait bool) (int, error) {
	if len(namespaces) == 0 {
		return 0, nil
	}
	selector := ManagedByLabel + "=" + ManagedByValue + "," + LabNamespaceLabel
	if len(namespaces) == 1 {
		selector += "=" + namespaces[0]
	}
	var errs []error
	deleted := 0
	for _, key := range kinds {
		k, ok := kube.KnownKind(key)
		if !ok || k.Namespaced || !slices.Contains(labfile.SetupClusterKinds(), key) {
			continue
		}
		ri := client.Resource(k.GVR)
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		list, err := ri.List(cctx, metav1.ListOptions{LabelSelector: selector})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s made for lab namespaces: %w", k.GVR.Resource, err))
			continue
		}
		for i := range list.Items {
			o := &list.Items[i]
			// The selector already asked for these labels; check again
			// so that nothing else is ever deleted.
			ns := o.GetLabels()[LabNamespaceLabel]
			if !slices.Contains(namespaces, ns) || !ownedBy(o, ns) {
				continue
			}
			if err := deleteOwned(ctx, ri, o, ns); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted++
			if !wait {
				continue
			}
			if err := waitObjectGone(ctx, ri, o.GetKind(), o.GetName()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return deleted, errors.Join(errs...)
}

// deleteOwned deletes o only if it is still the object that was read (its
// uid), so a same-named object made meanwhile by someone else is safe.
func deleteOwned(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured, ns string) error {
	uid := o.GetUID()
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	err := ri.Delete(cctx, o.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s %s made for namespace %s: %w", o.GetKind(), o.GetName(), ns, err)
	}
	return nil
}

func getObject(ctx context.Context, ri dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	got, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return got, err
}

func waitObjectGone(ctx context.Context, ri dynamic.ResourceInterface, kind, name string) error {
	var failed error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, controllerWait, true, func(ctx context.Context) (bool, error) {
		got, err := getObject(ctx, ri, name)
		if err != nil && ctx.Err() == nil {
			failed = fmt.Errorf("waiting for %s %s to go: %w", kind, name, err)
			return false, failed
		}
		return got == nil && err == nil, nil
	})
	if err != nil && failed == nil {
		return fmt.Errorf("%s %s is still being deleted (kubectl describe says what holds it): %w", kind, name, err)
	}
	return err
}
