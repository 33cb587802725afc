package checks

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/k8slab/k8slab/internal/celexpr"
	"github.com/k8slab/k8slab/labfile"
)

// A rule that reads a field the object lacks is not done, and says which
// field; cel-go's own words for a missing list item count too (they once
// made such a rule an error, "could not grade").
func TestRuleReadingAMissingFieldIsNotDoneAndSaysSo(t *testing.T) {
	noReplicas := deployment("web", 3, func(d *appsv1.Deployment) {
		d.Spec.Replicas = nil
		d.Spec.Template.Spec.Containers = []corev1.Container{}
	})
	tests := []struct {
		expr   string
		status Status
		words  []string
	}{
		{"object.spec.replicas == 3", Fail, []string{"the rule", "(field replicas is not set)"}},
		{"object.spec.template.spec.containers[0].name == 'web'", Fail, []string{"the rule", "(a list has no item 0)"}},
		// Optional fields say what a missing one means.
		{"!object.?spec.?paused.orValue(false)", Pass, nil},
		{"object.?spec.?replicas.orValue(1) == 1", Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := celexpr.Compile(tt.expr, nil)
			if err != nil {
				t.Fatal(err)
			}
			oc := &ObjectCheck{Resource: labfile.Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				Assert: []Assertion{{Expr: tt.expr, Message: "the rule", expr: c}}}
			got := evalObject(context.Background(), snapshotOf(t, noReplicas), testNS, oc)
			expect(t, got, tt.status, tt.words...)
		})
	}
}
