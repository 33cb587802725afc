// Command registry serves the workload stand-ins (OCI archives made by
// build.sh's workloads stage) read-only over the registry API, on the
// loopback of an offline kind node, where containerd's hosts.toml for
// docker.io points at it (test-kind.sh installs both).
//
// Why: an image written without a tag or as :latest gets imagePullPolicy
// Always, so the kubelet asks the registry every time a container starts,
// even when `kind load` put the image in the node. Offline that pull can
// never succeed, while with a learner's kind it reaches Docker Hub. This
// registry makes Always resolve to the same stand-in kind load put there,
// and a tag the catalogue lacks (a lab's deliberately wrong one) fails as
// Docker Hub fails it: not found. The course's manifests stay as written.
//
// Usage: registry ADDR DIR   (DIR holds the *.tar archives)
package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// store is every blob of every archive by digest, and every name's tags.
type store struct {
	blobs map[string][]byte
	// tags maps "library/nginx:1.27" to a manifest digest.
	tags map[string]string
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: registry ADDR DIR")
	}
	s := &store{blobs: map[string][]byte{}, tags: map[string]string{}}
	archives, err := filepath.Glob(filepath.Join(os.Args[2], "*.tar"))
	if err != nil || len(archives) == 0 {
		log.Fatalf("registry: no *.tar archives in %s", os.Args[2])
	}
	for _, a := range archives {
		if err := s.load(a); err != nil {
			log.Fatalf("registry: %s: %v", a, err)
		}
	}
	log.Printf("registry: %d tags from %d archives on %s", len(s.tags), len(archives), os.Args[1])
	log.Fatal(http.ListenAndServe(os.Args[1], s))
}

func (s *store) load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var index []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case name == "index.json":
			index = b
		case strings.HasPrefix(name, "blobs/sha256/"):
			s.blobs["sha256:"+strings.TrimPrefix(name, "blobs/sha256/")] = b
		}
	}
	var idx struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(index, &idx); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	for _, m := range idx.Manifests {
		// "docker.io/library/nginx:1.27" is served as library/nginx:1.27,
		// the path containerd asks docker.io's mirror for.
		ref := m.Annotations["io.containerd.image.name"]
		if ref == "" {
			continue
		}
		s.tags[strings.TrimPrefix(ref, "docker.io/")] = m.Digest
	}
	return nil
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log.Printf("%s %s", r.Method, r.URL.Path)
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		regError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	if p == "" || p == r.URL.Path {
		if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
		return
	}
	if i := strings.LastIndex(p, "/manifests/"); i > 0 {
		name, ref := p[:i], p[i+len("/manifests/"):]
		digest := ref
		if !strings.HasPrefix(ref, "sha256:") {
			digest = s.tags[name+":"+ref]
		}
		b, ok := s.blobs[digest]
		if digest == "" || !ok {
			regError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
			return
		}
		var m struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(b, &m)
		serve(w, r, m.MediaType, digest, b)
		return
	}
	if i := strings.LastIndex(p, "/blobs/"); i > 0 {
		digest := p[i+len("/blobs/"):]
		b, ok := s.blobs[digest]
		if !ok {
			regError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
			return
		}
		serve(w, r, "application/octet-stream", digest, b)
		return
	}
	http.NotFound(w, r)
}

func serve(w http.ResponseWriter, r *http.Request, mediaType, digest string, b []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

func regError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
