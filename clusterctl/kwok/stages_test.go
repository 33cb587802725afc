package kwok

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/images"
)

// The stages are run by kwok, so their behaviour is tested on a simulated
// cluster (clusterctl's TestSimFidelity); this checks the generated file
// is what kwokctl expects: a complete set, delays per profile, and the
// catalogue inside.
func TestStages(t *testing.T) {
	cat, err := images.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Profile{"instant": Instant, "realistic": Realistic} {
		data, err := Stages(cat, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var names []string
		delays := map[string]bool{}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			var st struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     struct {
					Delay    *struct{ DurationMilliseconds int }
					Selector struct {
						MatchExpressions []struct{ Key, Operator string }
					}
				}
			}
			if err := yaml.Unmarshal([]byte(doc), &st); err != nil {
				t.Fatalf("%s: a stage is not valid YAML: %v\n%s", name, err, doc)
			}
			if st.Kind != "Stage" {
				t.Errorf("%s: kind %q", name, st.Kind)
			}
			names = append(names, st.Metadata.Name)
			delays[st.Metadata.Name] = st.Spec.Delay != nil && st.Spec.Delay.DurationMilliseconds > 0
		}
		want := []string{"node-initialize", "node-heartbeat-with-lease", "pod-start", "pod-not-ready", "pod-restart", "pod-unhealthy", "pod-liveness-restart", "pod-crash-start", "pod-crash-restart-now", "pod-crash-restart", "pod-crash-backoff", "pod-pull-failed", "pod-pull-retry", "pod-pull-backoff", "pod-complete", "pod-delete"}
		if !slices.Equal(names, want) {
			t.Errorf("%s: stages %v, want %v", name, names, want)
		}
		if !strings.Contains(string(data), `\"nginx:1.27\":[80]`) || !strings.Contains(string(data), `"nginx:1.27" (list "80")`) {
			t.Errorf("%s: nginx:1.27 and its port are not in the selectors and templates", name)
		}
		if !strings.Contains(string(data), `POSTGRES_PASSWORD`) || !strings.Contains(string(data), `--vm-bytes`) {
			t.Errorf("%s: the behaviour of postgres and polinux/stress is not in the stages", name)
		}
		if name == "instant" && (delays["pod-start"] || delays["node-initialize"]) {
			t.Errorf("instant profile delays pods or nodes")
		}
		if name == "realistic" && (!delays["pod-start"] || !delays["pod-pull-failed"]) {
			t.Errorf("realistic profile starts pods or fails pulls at once")
		}
		if !delays["pod-pull-retry"] {
			t.Errorf("%s: pull retries have no delay, so a failing pod would spin", name)
		}
	}
}
