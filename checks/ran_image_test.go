package checks

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/k8slab/k8slab/internal/kube"
)

// The update-image task stays done when a later task rolls web back, and
// only then: a 1.26 set by hand before 1.27 ran, a later version, or a
// revision annotation written by hand is not 1.27 (#19).
func TestRanImage(t *testing.T) {
	atImage := func(image string) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) { d.Spec.Template = template("web", image) }
	}
	createdRS := func(sec int) func(*appsv1.ReplicaSet) {
		return func(rs *appsv1.ReplicaSet) { rs.CreationTimestamp = at(sec) }
	}
	historyBy := func(manager string) func(*appsv1.ReplicaSet) {
		return func(rs *appsv1.ReplicaSet) {
			rs.Annotations[kube.RevisionHistoryAnnotation] = "1"
			rs.ManagedFields = append(rs.ManagedFields, managed(manager, metav1.ManagedFieldsOperationUpdate, "", 5,
				`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision-history":{}}}}`))
		}
	}
	// finished is the deployment controller's record that the update
	// replaced every pod of the template web later came back to.
	finished := func(d *appsv1.Deployment, sec int) runtime.Object {
		return scaled(d, sec, 20, "Scaled down replica set web-aaa from 1 to 0")
	}
	tests := []struct {
		name   string
		objs   func() []runtime.Object
		status Status
		words  []string
	}{
		{"runs it", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.27"))
			return []runtime.Object{d, replicaSet(d, "aaa", 1, "nginx:1.26"), replicaSet(d, "bbb", 2, "nginx:1.27")}
		}, Pass, nil},
		{"runs it under Docker Hub's full name", func() []runtime.Object {
			d := deployment("web", 4, atImage("docker.io/library/nginx:1.27"))
			return []runtime.Object{d}
		}, Pass, nil},
		{"rolled back from it: the current ReplicaSet is older", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 3, "nginx:1.26", createdRS(1)), replicaSet(d, "bbb", 2, "nginx:1.27", createdRS(2)),
				finished(d, 5)}
		}, Pass, nil},
		{"rolled back within one second: renumbered by the controller", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 3, "nginx:1.26", createdRS(1), historyBy(controllerManager)),
				replicaSet(d, "bbb", 2, "nginx:1.27", createdRS(1)), finished(d, 1)}
		}, Pass, nil},
		// The same record as a rollback, but the update never finished.
		{"went back by hand before the update finished", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 3, "nginx:1.26", createdRS(1), historyBy(controllerManager)),
				replicaSet(d, "bbb", 2, "nginx:1.27", createdRS(2)),
				scaled(d, 3, 10, "Scaled up replica set web-bbb from 0 to 1")}
		}, Fail, []string{"went back to nginx:1.26 before the update to nginx:1.27 finished", "kubectl rollout status deployment/web"}},
		{"old template scaled to 0 before the image ran", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 3, "nginx:1.26", createdRS(1)),
				replicaSet(d, "bbb", 2, "nginx:1.27", createdRS(8)), finished(d, 5)}
		}, Fail, []string{"before the update to nginx:1.27 finished"}},
		{"renumbered by hand within one second", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 3, "nginx:1.26", createdRS(1), historyBy("kubectl-annotate")),
				replicaSet(d, "bbb", 2, "nginx:1.27", createdRS(1))}
		}, Fail, []string{"deployment web does not run nginx:1.27"}},
		{"went on to a later version", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.28"))
			return []runtime.Object{d, replicaSet(d, "aaa", 1, "nginx:1.26"), replicaSet(d, "bbb", 2, "nginx:1.27"),
				replicaSet(d, "ccc", 3, "nginx:1.28")}
		}, Fail, []string{"deployment web does not run nginx:1.27: it runs nginx:1.28", "kubectl set image deployment/web web=nginx:1.27"}},
		{"never ran it", func() []runtime.Object {
			d := deployment("web", 4, atImage("nginx:1.26"))
			return []runtime.Object{d, replicaSet(d, "aaa", 1, "nginx:1.26")}
		}, Fail, []string{"deployment web does not run nginx:1.27; update it with kubectl set image deployment/web web=nginx:1.27"}},
		{"missing deployment", func() []runtime.Object { return nil }, Missing, []string{"deployment web in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ranImage(context.Background(), snapshotOf(t, tt.objs()...), testNS, RanImage{Deployment: "web", Image: "nginx:1.27"})
			expect(t, got, tt.status, tt.words...)
		})
	}
}
