package checks

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
			c, err := compileExpr(tt.expr, nil)
			if err != nil {
				t.Fatal(err)
			}
			oc := &ObjectCheck{Resource: Resource{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				Assert: []Assertion{{Expr: tt.expr, Message: "the rule", expr: c}}}
			got := evalObject(context.Background(), snapshotOf(t, noReplicas), testNS, oc)
			expect(t, got, tt.status, tt.words...)
		})
	}
}

func TestAbsentNamesWhatIsMissing(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"object.spec.paused", "field paused is not set"},
		{"object.items[2]", "a list has no item 2"},
		{"[1][2]", "a list has no item 2"},
	} {
		c, err := compileExpr(tt.expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.eval(context.Background(), map[string]any{"object": map[string]any{"spec": map[string]any{}, "items": []any{}}})
		if err == nil || !strings.Contains(absent(err), tt.want) {
			t.Errorf("%s: absent(%v) = %q, want %q", tt.expr, err, absent(err), tt.want)
		}
	}
}
