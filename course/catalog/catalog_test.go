package catalog

import "testing"

// A lab's FEATURES cell names what the whole lab needs first, then what
// only some tasks need, with how many tasks need it.
func TestFeatureSummary(t *testing.T) {
	for _, c := range []struct {
		lab   []string
		tasks map[string][]string
		want  string
	}{
		{nil, nil, "-"},
		{[]string{"storage"}, nil, "storage"},
		{[]string{"storage"}, map[string][]string{"a": {"storage"}, "b": {"containers"}}, "storage, containers (1 task)"},
		{nil, map[string][]string{"b": {"nodeport-from-host"}, "a": {"containers", "nodeport-from-host"}}, "containers (1 task), nodeport-from-host (2 tasks)"},
	} {
		if got := featureSummary(c.lab, c.tasks); got != c.want {
			t.Errorf("featureSummary(%v, %v) = %q, want %q", c.lab, c.tasks, got, c.want)
		}
	}
}
