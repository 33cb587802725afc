package images_test

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/kwok"
	"github.com/k8slab/k8slab/images"
	"github.com/k8slab/k8slab/internal/source"
)

func TestBuiltInCatalogue(t *testing.T) {
	cat, err := images.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	// The images the course's lessons and labs name; the simulated cluster
	// must pull them.
	for _, ref := range []string{"nginx:1.26", "nginx:1.27", "nginx", "docker.io/library/nginx:1.27", "busybox:1.37"} {
		if _, ok := cat.Lookup(ref); !ok {
			t.Errorf("%s is not in the built-in catalogue", ref)
		}
	}
	if ports, _ := cat.Lookup("nginx:1.27"); !slices.Equal(ports, []int{80}) {
		t.Errorf("nginx:1.27 ports = %v, want [80]", ports)
	}
	// The web servers' default content: a readiness probe of /healthz
	// fails on them (404), which labs' mistakes rely on.
	for _, r := range cat.Refs() {
		if strings.HasPrefix(r.Ref, "nginx:") || strings.HasPrefix(r.Ref, "httpd:") {
			if !slices.Contains(r.Paths, "/") || slices.Contains(r.Paths, "/healthz") {
				t.Errorf("%s serves %v, want / and not /healthz", r.Ref, r.Paths)
			}
		}
	}
	if _, ok := cat.Lookup("nginx:1.27-doesnotexist"); ok {
		t.Error("the catalogue knows nginx:1.27-doesnotexist, which labs use as a tag that does not exist")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                              "nginx:latest",
		"nginx:1.27":                         "nginx:1.27",
		"docker.io/library/nginx:1.27":       "nginx:1.27",
		"library/nginx:1.27":                 "nginx:1.27",
		"docker.io/nginx":                    "nginx:latest",
		"docker.io/bitnami/redis:7":          "bitnami/redis:7",
		"registry.k8s.io/pause:3.10":         "registry.k8s.io/pause:3.10",
		"localhost:5000/app":                 "localhost:5000/app:latest",
		"localhost:5000/app:v2":              "localhost:5000/app:v2",
		"nginx@sha256:0123":                  "nginx@sha256:0123",
		"docker.io/library/nginx@sha256:0a1": "nginx@sha256:0a1",
	} {
		if got := images.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	data := `apiVersion: k8slab.dev/v1alpha1
kind: ImageCatalog
images:
  - image: nginx:1.27
    tags: ["1.27"]
  - image: nginx
    tags: ["1.27", "1.27", "bad tag"]
    ports: [80, 0, 80]
  - image: docker.io/library/nginx
    tags: ["1.28"]
  - image: Nginx
    tags: ["1"]
  - image: redis
    tgas: ["7"]
  - tags: ["1"]
  - image: httpd
    tags: ["2.4"]
    ports: [80]
    paths: [/, healthz, "/a?b", /]
  - image: busybox
    tags: ["1.37"]
    paths: [/]
  - image: caddy
    tags: ["2"]
    ports: [80]
    paths: [/]
    root: /srv/
  - image: traefik
    tags: ["3"]
    ports: [80]
    root: /srv
`
	_, ps := images.Parse([]byte(data))
	want := []string{
		`4: image "nginx:1.27" must not carry a tag or digest`,
		`7: image "nginx": tag "1.27" is listed twice`,
		`7: image "nginx": tag "bad tag" is not a valid tag`,
		`8: image "nginx": port 0 is not between 1 and 65535`,
		`8: image "nginx": port 80 is listed twice`,
		`9: image "docker.io/library/nginx" is listed twice (first on line 6)`,
		`11: image "Nginx" is not a valid repository name`,
		`14: unknown field "tgas" (did you mean "tags"?)`,
		`15: an image entry needs 'image'`,
		`19: image "httpd": path "healthz" must start with /`,
		`19: image "httpd": path "/a?b" must start with /`,
		`19: image "httpd": path "/" is listed twice`,
		`22: image "busybox": paths are served on the image's ports, and it lists none`,
		`27: image "caddy": root "/srv/" must be an absolute directory other than /`,
		`31: image "traefik": root is where paths are served from, and it lists none`,
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, "line "+w) }) {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	// "redis" has no tags because of the misspelling; one problem for
	// that line is enough, the misspelling is reported.
	if len(got) != len(want)+1 {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want)+1, strings.Join(got, "\n"))
	}
}

func TestLoad(t *testing.T) {
	cat, err := images.Load(fstest.MapFS{})
	if cat != nil || err != nil {
		t.Errorf("a folder without %s: catalogue %v, error %v; want neither", images.File, cat, err)
	}
	_, err = images.Load(fstest.MapFS{images.File: {Data: []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Catalog\nimages: []\n")}})
	var ps source.Problems
	if !errors.As(err, &ps) || len(ps) != 2 || ps[0].File != images.File || ps[0].Line != 2 || ps[1].Line != 3 {
		t.Fatalf("Load = %v; want problems in %s on lines 2 (kind) and 3 (no images)", err, images.File)
	}
}

func FuzzParse(f *testing.F) {
	builtIn, err := fs.ReadFile(assets.Course(), images.File)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(builtIn)
	f.Add([]byte("apiVersion: k8slab.dev/v1alpha1\nkind: ImageCatalog\nimages: [~, {image: a}, {tags: [~]}, {image: b, tags: [x], ports: [~, 80]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, ps := images.Parse(data)
		if (cat == nil) == (len(ps) == 0) {
			t.Fatal("exactly one of catalogue and problems must be set")
		}
		if cat == nil {
			return
		}
		// Whatever parses is in canonical form and can drive the simulator.
		for _, r := range cat.Refs() {
			if images.Normalize(r.Ref) != r.Ref {
				t.Fatalf("%q is not in Normalize's form", r.Ref)
			}
			if _, ok := cat.Lookup(r.Ref); !ok {
				t.Fatalf("%q is listed but Lookup misses it", r.Ref)
			}
		}
		if _, err := kwok.Stages(cat, kwok.Realistic); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseBehaviour(t *testing.T) {
	data := `apiVersion: k8slab.dev/v1alpha1
kind: ImageCatalog
images:
  - image: db
    tags: ["1"]
    exits: {code: 0, log: "", unlessFile: [etc/app.conf]}
  - image: stress
    tags: ["1"]
    memory: {mib: 100, fromArg: --vm-bytes}
  - image: app
    tags: ["1"]
    exits: {code: 2, log: "no config"}
    memory: {}
`
	_, ps := images.Parse([]byte(data))
	want := []string{
		`6: image "db": exits.code must be between 1 and 255`,
		`6: image "db": exits.log must be the one line`,
		`6: image "db": exits.unlessFile "etc/app.conf" must be an absolute path`,
		`9: image "stress": memory needs exactly one of mib`,
		`12: image "app": exits needs unlessEnv or unlessFile`,
		`13: image "app": memory needs exactly one of mib`,
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, "line "+w) }) {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}

	cat, err := images.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	var pg, stress *images.Ref
	for _, r := range cat.Refs() {
		switch r.Ref {
		case "postgres:17":
			pg = &r
		case "polinux/stress:latest":
			stress = &r
		}
	}
	if pg == nil || pg.Exits == nil || pg.Exits.Code != 1 || !slices.Contains(pg.Exits.UnlessEnv, "POSTGRES_PASSWORD") {
		t.Errorf("postgres:17 = %+v; want it to exit 1 without POSTGRES_PASSWORD", pg)
	}
	if stress == nil || stress.Memory == nil || stress.Memory.FromArg != "--vm-bytes" {
		t.Errorf("polinux/stress = %+v; want its memory from --vm-bytes", stress)
	}
}
