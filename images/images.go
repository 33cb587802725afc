// Package images reads the course's image catalogue: the container images
// (and tags) that exist upstream, with the ports each listens on. The
// simulated cluster has no container runtime, so it asks the catalogue
// whether a pull would succeed and whether a probe would be answered.
package images

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/k8slab/k8slab/internal/source"
)

// File is where a course folder keeps its catalogue.
const File = "images.yaml"

// Catalog lists the images that exist upstream.
type Catalog struct {
	source.Header `yaml:",inline"`
	Images        []Image `yaml:"images"`
}

// Image is one repository with the tags that exist and the ports a
// container from it listens on.
type Image struct {
	// Image is the repository as written in pod specs, without a tag:
	// "nginx", "bitnami/redis", "registry.k8s.io/pause". A Docker Hub
	// prefix (docker.io/library/) may be left out or written out; both
	// mean the same image.
	Image string `yaml:"image"`
	// Tags are the tags that exist; "latest" also covers an image written
	// without a tag.
	Tags []string `yaml:"tags"`
	// Ports are the TCP ports the image's default command listens on.
	Ports []int `yaml:"ports"`
	// Paths, for an image whose default command is a web server, are the
	// HTTP paths its default content answers with a success (200-399) on
	// those ports: an HTTP probe of any other path gets 404 and fails, as
	// on a real kubelet. Without Paths the simulator does not judge a
	// probe's path.
	Paths []string `yaml:"paths"`
	// Root is the directory Paths are served from. A volume mounted
	// there, or at a path under it, changes what is served (a ConfigMap
	// that adds /healthz, say), and the simulator cannot see inside
	// volumes: with such a mount it does not judge a probe's path.
	Root string `yaml:"root"`
	// Exits, when set, says the default command stops at once unless it
	// is configured: the simulated kubelet then restarts it with back-off
	// (CrashLoopBackOff), as a real one would.
	Exits *Exit `yaml:"exits"`
	// Memory, when set, is how much memory the container uses; under a
	// lower memory limit the simulated kubelet reports it OOMKilled.
	Memory *Memory `yaml:"memory"`
	// Logs are the lines the default command prints when it starts and
	// runs: what 'kubectl logs' shows on the simulated cluster (a
	// command that exits shows its exits.log line instead).
	Logs []string `yaml:"logs"`
}

// Exit is how an image's default command fails when a setting is missing.
type Exit struct {
	// Code is the exit code (1 to 255).
	Code int `yaml:"code"`
	// Log is the line the command prints before it exits.
	Log string `yaml:"log"`
	// UnlessEnv: the command runs when any of these variables is set in
	// the container (a non-empty value, or valueFrom).
	UnlessEnv []string `yaml:"unlessEnv"`
	// UnlessFile: the command runs when a volume is mounted at any of
	// these absolute paths or at a directory above one.
	UnlessFile []string `yaml:"unlessFile"`
}

// Memory is how much memory a container of an image uses: a fixed amount,
// or the size given after a flag in its command or args (stress's
// "--vm-bytes 150M"; suffixes B, K, M, G in powers of 1024).
type Memory struct {
	MiB     int    `yaml:"mib"`
	FromArg string `yaml:"fromArg"`
}

// Compiled on first use, not at start-up: every command pays package
// init, and only loading a catalogue needs these.
var (
	// A repository path, lowercase, as the distribution spec allows, with
	// an optional registry host (which may carry a port).
	repoRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+|__)*(/[a-z0-9]+([._-][a-z0-9]+|__)*)*$`)
	})
	tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) })
)

// Parse decodes and validates a catalogue, reporting every problem with its
// line.
func Parse(data []byte) (*Catalog, source.Problems) {
	root, ps := source.Parse(data)
	if ps != nil {
		return nil, ps
	}
	var c Catalog
	decodeProblems := source.Decode(root, &c)
	ps = append(ps, source.CheckHeader(root, c.Header, "ImageCatalog")...)
	items := source.Items(root, "images")
	if len(c.Images) == 0 {
		where := source.Field(root, "images")
		if where == nil {
			where = root
		}
		ps.Add(where, "the catalogue lists no images; add them under 'images'")
	}
	seen := map[string]int{}
	for i, img := range c.Images {
		node := source.Item(root, "images", i)
		if i >= len(items) {
			node = root
		}
		imgNode := source.Field(node, "image")
		if imgNode == nil {
			imgNode = node
		}
		switch {
		case img.Image == "":
			ps.Add(node, "an image entry needs 'image', the repository as written in pod specs (for example nginx)")
			continue
		case strings.ContainsAny(img.Image, "@") || hasTag(img.Image):
			ps.Add(imgNode, "image %q must not carry a tag or digest; list tags under 'tags'", img.Image)
			continue
		case !repoRE().MatchString(img.Image):
			ps.Add(imgNode, "image %q is not a valid repository name (lowercase letters, digits, '.', '_', '-' and '/')", img.Image)
			continue
		}
		repo := normalizeRepo(img.Image)
		if first, dup := seen[repo]; dup {
			ps.Add(imgNode, "image %q is listed twice (first on line %d); merge the tags into one entry", img.Image, first)
		} else {
			seen[repo] = imgNode.Line
		}
		if len(img.Tags) == 0 {
			ps.Add(node, "image %q has no tags; list the tags that exist upstream under 'tags'", img.Image)
		}
		tagSeen := map[string]bool{}
		for j, tag := range img.Tags {
			tn := source.Item(node, "tags", j)
			switch {
			case !tagRE().MatchString(tag):
				ps.Add(tn, "image %q: tag %q is not a valid tag (letters, digits, '_', '.', '-', at most 128)", img.Image, tag)
			case tagSeen[tag]:
				ps.Add(tn, "image %q: tag %q is listed twice", img.Image, tag)
			}
			tagSeen[tag] = true
		}
		portSeen := map[int]bool{}
		for j, port := range img.Ports {
			pn := source.Item(node, "ports", j)
			switch {
			case port < 1 || port > 65535:
				ps.Add(pn, "image %q: port %d is not between 1 and 65535", img.Image, port)
			case portSeen[port]:
				ps.Add(pn, "image %q: port %d is listed twice", img.Image, port)
			}
			portSeen[port] = true
		}
		pathSeen := map[string]bool{}
		for j, path := range img.Paths {
			pn := source.Item(node, "paths", j)
			switch {
			case len(img.Ports) == 0:
				ps.Add(pn, "image %q: paths are served on the image's ports, and it lists none", img.Image)
			case !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# "):
				ps.Add(pn, "image %q: path %q must start with / and hold no query, fragment or space", img.Image, path)
			case pathSeen[path]:
				ps.Add(pn, "image %q: path %q is listed twice", img.Image, path)
			}
			pathSeen[path] = true
		}
		if img.Root != "" {
			rn := source.Field(node, "root")
			switch {
			case len(img.Paths) == 0:
				ps.Add(rn, "image %q: root is where paths are served from, and it lists none", img.Image)
			case !strings.HasPrefix(img.Root, "/") || img.Root == "/" || path.Clean(img.Root) != img.Root:
				ps.Add(rn, "image %q: root %q must be an absolute directory other than /, written without a trailing / or . and .. parts", img.Image, img.Root)
			}
		}
		if e := img.Exits; e != nil {
			en := source.Field(node, "exits")
			if e.Code < 1 || e.Code > 255 {
				ps.Add(en, "image %q: exits.code must be between 1 and 255 (a command that exits 0 has succeeded)", img.Image)
			}
			if strings.TrimSpace(e.Log) == "" || strings.Contains(e.Log, "\n") {
				ps.Add(en, "image %q: exits.log must be the one line the command prints before it exits", img.Image)
			}
			if len(e.UnlessEnv)+len(e.UnlessFile) == 0 {
				ps.Add(en, "image %q: exits needs unlessEnv or unlessFile, the setting that makes the command run; an image that always exits is of no use in a lab", img.Image)
			}
			for _, f := range e.UnlessFile {
				if !strings.HasPrefix(f, "/") {
					ps.Add(en, "image %q: exits.unlessFile %q must be an absolute path", img.Image, f)
				}
			}
		}
		for j, line := range img.Logs {
			if strings.TrimSpace(line) == "" || strings.Contains(line, "\n") {
				ps.Add(source.Item(node, "logs", j), "image %q: each entry of logs is one line the command prints, not empty", img.Image)
			}
		}
		if m := img.Memory; m != nil {
			mn := source.Field(node, "memory")
			if (m.MiB > 0) == (m.FromArg != "") || m.MiB < 0 {
				ps.Add(mn, "image %q: memory needs exactly one of mib (a positive number) and fromArg (the flag before the size)", img.Image)
			}
		}
	}
	if ps = decodeProblems.Merge(ps); len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return &c, nil
}

// Load reads File from a course folder. A folder without one has no
// catalogue: Load returns nil and no error.
func Load(fsys fs.FS) (*Catalog, error) {
	data, err := source.ReadFile(fsys, File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", File, err)
	}
	c, ps := Parse(data)
	if ps != nil {
		return nil, ps.InFile(File, 0)
	}
	return c, nil
}

// hasTag reports whether a reference's last path element carries a tag;
// a colon before the last slash is a registry port.
func hasTag(ref string) bool {
	return strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":")
}

// normalizeRepo writes a repository the short way Docker Hub allows:
// docker.io/library/nginx and library/nginx are nginx, docker.io/bitnami/x
// is bitnami/x.
func normalizeRepo(repo string) string {
	for _, prefix := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
		if rest, ok := strings.CutPrefix(repo, prefix); ok {
			repo = rest
			break
		}
	}
	if rest, ok := strings.CutPrefix(repo, "library/"); ok && !strings.Contains(rest, "/") {
		repo = rest
	}
	return repo
}

// Normalize turns an image reference as written in a pod spec into the
// catalogue's form, "repository:tag": the Docker Hub prefixes go and a
// missing tag is "latest", as the container runtime reads it. A reference
// by digest is returned with its digest, so it matches no catalogue entry.
func Normalize(ref string) string {
	repo, tag := ref, "latest"
	if i := strings.Index(ref, "@"); i >= 0 {
		return normalizeRepo(ref[:i]) + ref[i:]
	}
	if hasTag(ref) {
		i := strings.LastIndex(ref, ":")
		repo, tag = ref[:i], ref[i+1:]
	}
	return normalizeRepo(repo) + ":" + tag
}

// Refs returns every known image in Normalize's form with its ports,
// sorted by reference, so generated files are stable.
func (c *Catalog) Refs() []Ref {
	if c == nil {
		return nil
	}
	var out []Ref
	for _, img := range c.Images {
		for _, tag := range img.Tags {
			out = append(out, Ref{Ref: normalizeRepo(img.Image) + ":" + tag, Ports: slices.Clone(img.Ports), Paths: img.Paths, Root: img.Root, Exits: img.Exits, Memory: img.Memory, Logs: img.Logs})
		}
	}
	slices.SortFunc(out, func(a, b Ref) int { return strings.Compare(a.Ref, b.Ref) })
	return slices.CompactFunc(out, func(a, b Ref) bool { return a.Ref == b.Ref })
}

// Ref is one image:tag the catalogue knows.
type Ref struct {
	Ref    string
	Ports  []int
	Paths  []string
	Root   string
	Exits  *Exit
	Memory *Memory
	Logs   []string
}

// Lookup reports whether the catalogue knows an image reference and, if so,
// the ports it listens on.
func (c *Catalog) Lookup(ref string) (ports []int, ok bool) {
	n := Normalize(ref)
	for _, r := range c.Refs() {
		if r.Ref == n {
			return r.Ports, true
		}
	}
	return nil, false
}
