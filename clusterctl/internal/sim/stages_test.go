package sim

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// The simulator's stages come from the course folder's catalogue, else the
// built-in one; a broken catalogue stops 'cluster up' with a way out.
func TestSimStagesFollowTheCourse(t *testing.T) {
	catalog := "apiVersion: k8slab.dev/v1alpha1\nkind: ImageCatalog\nimages:\n  - image: registry.example/app\n    tags: [\"v1\"]\n    ports: [8080]\n"
	for name, tc := range map[string]struct {
		course  fstest.MapFS
		want    string
		wantErr string
	}{
		"own catalogue":     {course: fstest.MapFS{"images.yaml": {Data: []byte(catalog)}}, want: `registry.example/app:v1\":[8080]`},
		"no catalogue":      {course: fstest.MapFS{}, want: `nginx:1.27\":[80]`},
		"broken catalogue":  {course: fstest.MapFS{"images.yaml": {Data: []byte("kind: ImageCatalog\n")}}, wantErr: "run 'k8slab lint'"},
		"built-in (no dir)": {want: `nginx:1.27\":[80]`},
	} {
		t.Run(name, func(t *testing.T) {
			state := t.TempDir()
			s := &Cluster{name: "t", workDir: state, instant: true}
			if tc.course != nil {
				s.course = tc.course
			}
			if err := os.MkdirAll(state+"/config", 0o700); err != nil {
				t.Fatal(err)
			}
			args, err := s.writeStages()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(args) != 2 || args[0] != "--config" {
				t.Fatalf("args = %q", args)
			}
			data, err := os.ReadFile(args[1])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.want) {
				t.Errorf("stages lack %s", tc.want)
			}
			if name == "own catalogue" && strings.Contains(string(data), `nginx:1.27\"`) {
				t.Error("a course's own catalogue was mixed with the built-in one")
			}
		})
	}
}
