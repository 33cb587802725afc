package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

const setupPVLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: setup-pv
title: A volume from the setup
setup: |
  apiVersion: v1
  kind: PersistentVolume
  metadata:
    name: ${LAB_NAMESPACE}-data
  spec:
    capacity:
      storage: 1Gi
    accessModes: [ReadWriteOnce]
    storageClassName: manual
    persistentVolumeReclaimPolicy: Retain
    hostPath:
      path: /tmp/k8slab/${LAB_NAMESPACE}
      type: DirectoryOrCreate
    claimRef:
      namespace: ${LAB_NAMESPACE}
      name: data
tasks:
  - id: claim
    title: Claim it
    goal: Claim it.
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - name: claim data is bound
        object:
          apiVersion: v1
          kind: PersistentVolumeClaim
          name: data
          assert:
            - expr: has(object.status.phase) && object.status.phase == 'Bound'
              message: not bound
`

// TestSetupVolumeOnSimulatedCluster proves, against a real API server and
// volume controller, that a setup's volume is made and labelled for its
// namespace, that a same-named volume k8slab did not make is refused,
// that a reset deletes only the lab's volume and makes it anew so a new
// claim binds, and that a volume left Released is made anew on start.
func TestSetupVolumeOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	lab, ps := labfile.ParseLab([]byte(setupPVLab))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	lc := startLabCluster(t)
	ctx := context.Background()
	pvs := lc.typed.CoreV1().PersistentVolumes()
	mkPV := func(name string, labels map[string]string) *corev1.PersistentVolume {
		pv, err := pvs.Create(ctx, &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return pv
	}
	// Bystanders: a volume of nobody's, one made by hand under the name
	// another lab namespace would use, and one k8slab made for another
	// namespace. None may change.
	bystanders := []*corev1.PersistentVolume{
		mkPV("bystander", nil),
		mkPV("setup-pv-b-data", nil),
		mkPV("setup-pv-c-data", map[string]string{labenv.ManagedByLabel: labenv.ManagedByValue, labenv.LabNamespaceLabel: "setup-pv-c"}),
	}
	const ns = "setup-pv-a"
	waitPhase := func(name string, want corev1.PersistentVolumePhase) *corev1.PersistentVolume {
		t.Helper()
		var pv *corev1.PersistentVolume
		var err error
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if pv, err = pvs.Get(ctx, name, metav1.GetOptions{}); err == nil && pv.Status.Phase == want {
				return pv
			}
		}
		t.Fatalf("volume %s never became %s: %v %+v", name, want, err, pv)
		return nil
	}
	claimBound := func() {
		t.Helper()
		class := "manual"
		_, err := lc.typed.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: &class,
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitPhase(ns+"-data", corev1.VolumeBound)
	}

	if err := labenv.StartLab(ctx, lc.client, lab, ns); err != nil {
		t.Fatal(err)
	}
	first := waitPhase(ns+"-data", corev1.VolumeAvailable)
	if first.Labels[labenv.ManagedByLabel] != labenv.ManagedByValue || first.Labels[labenv.LabNamespaceLabel] != ns {
		t.Errorf("labels %v", first.Labels)
	}
	if first.Spec.ClaimRef == nil || first.Spec.ClaimRef.Namespace != ns || first.Spec.HostPath.Path != "/tmp/k8slab/"+ns {
		t.Errorf("placeholder not replaced: %+v", first.Spec)
	}

	err := labenv.StartLab(ctx, lc.client, lab, "setup-pv-b")
	if err == nil || !strings.Contains(err.Error(), "PersistentVolume setup-pv-b-data exists but was not created by k8slab for namespace setup-pv-b") {
		t.Errorf("taking over a volume made by hand: %v", err)
	}

	claimBound()
	if err := labenv.ResetLab(ctx, lc.client, lab, ns); err != nil {
		t.Fatal(err)
	}
	second := waitPhase(ns+"-data", corev1.VolumeAvailable)
	if second.UID == first.UID {
		t.Error("reset kept the old volume")
	}
	if second.Spec.ClaimRef.UID != "" {
		t.Errorf("the new volume is still bound to claim %s", second.Spec.ClaimRef.UID)
	}
	claimBound() // a new claim binds to the new volume

	// A learner deletes the claim: the volume is Released, and starting
	// the lab again makes it anew.
	if err := lc.typed.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	released := waitPhase(ns+"-data", corev1.VolumeReleased)
	if err := labenv.StartLab(ctx, lc.client, lab, ns); err != nil {
		t.Fatal(err)
	}
	if third := waitPhase(ns+"-data", corev1.VolumeAvailable); third.UID == released.UID {
		t.Error("start kept the released volume")
	}
	claimBound()

	if err := labenv.RemoveLab(ctx, lc.client, lab, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := pvs.Get(ctx, ns+"-data", metav1.GetOptions{}); err == nil {
		t.Error("the lab's volume outlived the lab")
	}
	for _, b := range bystanders {
		got, err := pvs.Get(ctx, b.Name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("bystander %s: %v", b.Name, err)
			continue
		}
		if got.UID != b.UID || len(got.Labels) != len(b.Labels) {
			t.Errorf("bystander %s was replaced or relabelled: %v", b.Name, got.Labels)
		}
	}
}
