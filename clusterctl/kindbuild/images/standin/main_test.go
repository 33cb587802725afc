package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A lab runs polinux/stress with `command: ["stress"]`, which replaces the
// image's entrypoint: the stand-in must answer to that name. Before the
// link, every such pod failed to start on kind (RunContainerError,
// "stress": not found) instead of being OOMKilled, and fix-workloads'
// out-of-memory task could not be proven there.
func TestRoleOf(t *testing.T) {
	for _, c := range []struct {
		argv []string
		role string
		args []string
		ok   bool
	}{
		{[]string{"/standin", "stress", "--vm-bytes", "250M"}, "stress", []string{"--vm-bytes", "250M"}, true},
		{[]string{"stress", "--vm", "1"}, "stress", []string{"--vm", "1"}, true},
		{[]string{"/usr/local/bin/stress"}, "stress", []string{}, true},
		{[]string{"/standin", "nginx"}, "nginx", []string{}, true},
		{[]string{"/standin"}, "", nil, false},
		{nil, "", nil, false},
	} {
		role, args, ok := roleOf(c.argv)
		if role != c.role || ok != c.ok || !slices.Equal(args, c.args) {
			t.Errorf("roleOf(%q) = %q, %q, %v; want %q, %q, %v", c.argv, role, args, ok, c.role, c.args, c.ok)
		}
	}
}

// The stand-ins serve exactly the paths images.yaml lists for nginx and
// httpd, which the simulated cluster's probes go by: a readiness probe of
// /healthz fails on both (404), on kind as on the simulator. Before, both
// counted it differently from the real images: three-tier's "Probed
// /healthz" mistakes waited for a rollout that passed on the simulator.
func TestWebServersServeTheCataloguedPaths(t *testing.T) {
	data, err := os.ReadFile("../../../../assets/course/images.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"nginx", "httpd"} {
		m := regexp.MustCompile(`(?s)\n  - image: ` + image + `\n.*?\n    paths: \[([^\]]*)\]`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("images.yaml lists no paths for %s", image)
		}
		rootLine := regexp.MustCompile(`(?s)\n  - image: ` + image + `\n.*?\n    root: (\S+)`).FindSubmatch(data)
		if rootLine == nil || string(rootLine[1]) != docRoot[image] {
			t.Errorf("images.yaml's root for %s is %q; the stand-in serves %s", image, rootLine, docRoot[image])
		}
		var want []string
		for _, p := range strings.Split(string(m[1]), ",") {
			want = append(want, strings.Trim(strings.TrimSpace(p), `"`))
		}
		root := t.TempDir()
		for name, body := range defaultContent[image] {
			if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(fileHandler(root))
		// Every catalogued path answers 200, with or without a query.
		for _, p := range want {
			for _, u := range []string{p, p + "?probe=1"} {
				if code := get(t, srv.URL+u); code != http.StatusOK {
					t.Errorf("%s: GET %s = %d, want 200", image, u, code)
				}
			}
		}
		// No file the image lacks, and no directory listing.
		for _, u := range []string{"/healthz", "/index.htm", "/dir/", "/dir"} {
			if code := get(t, srv.URL+u); code != http.StatusNotFound && !slices.Contains(want, u) {
				t.Errorf("%s: GET %s = %d, want 404", image, u, code)
			}
		}
		// Nothing is served but the catalogued paths: / and the files.
		served := []string{"/"}
		for name := range defaultContent[image] {
			served = append(served, "/"+name)
		}
		slices.Sort(served)
		slices.Sort(want)
		if !slices.Equal(served, want) {
			t.Errorf("%s: the stand-in serves %v, images.yaml lists %v", image, served, want)
		}
		srv.Close()
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
