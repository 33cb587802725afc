// Package simbuilder builds the simulated cluster's binaries (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kwokctl)
// with the learner's own Go toolchain, for a k8slab installed with
// 'go install', which has no clone to run 'make sim' in.
//
// It builds from the same pinned module set as clusterctl/simbuild: that
// module's go.mod, go.sum and sources are embedded (copied by generate.sh;
// a test fails when the copies drift), written to a temporary module, and
// compiled with the flags build.sh uses, so both produce the same binaries
// and share Go's build cache. The stamp it writes is build.sh's, so 'make
// sim' then finds the binaries up to date.
package simbuilder

//go:generate ./generate.sh

import (
	"bufio"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

//go:embed files
var files embed.FS

// Binary is one program the simulator runs and the package it is built from.
type Binary struct {
	Name    string
	Package string
}

// Binaries are built in this order: the control plane first, then kwok.
// kube-apiserver compiles most of what the others share.
var Binaries = []Binary{
	{"etcd", "./etcd"},
	{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"},
	{"kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"},
	{"kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"},
	{"kwok", "sigs.k8s.io/kwok/cmd/kwok"},
	{"kwokctl", "sigs.k8s.io/kwok/cmd/kwokctl"},
}

// Measured with 'make sim' on two cores with empty Go caches: about 17
// minutes, 0.7 GB of modules, 3.8 GB of build cache, 433 MB of binaries.
const (
	measuredCores   = 2
	measuredMinutes = 17
	// DiskNeeded says what the first build leaves on disk.
	DiskNeeded = "about 4.5 GB of Go caches and 450 MB for the binaries"
)

// Estimate is how long a first build takes with cores CPUs, scaled from the
// measurement on two cores; compiling parallelises well, linking less so,
// hence the floor.
func Estimate(cores int) time.Duration {
	cores = max(cores, 1)
	m := max(measuredMinutes*measuredCores/cores, 6)
	return time.Duration(m) * time.Minute
}

// EstimateText says the estimate for this machine in words.
func EstimateText() string {
	n := runtime.NumCPU()
	return fmt.Sprintf("about %d minutes on this machine's %d cores the first time (measured: 17 on two cores), much less when Go's build cache already holds these packages", int(Estimate(n).Minutes()), n)
}

// ErrNoGo is returned when no go command is on PATH.
var ErrNoGo = errors.New("building the simulator needs Go 1.26 or newer on PATH, and 'go' was not found: " +
	"install Go from https://go.dev/dl and run 'k8slab cluster up' again, or start Docker or Podman for a kind cluster instead")

// GoCommand finds the go command.
func GoCommand() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGo
	}
	return p, nil
}

// Event reports progress: which binary is being built and how many
// packages the go command has compiled for it so far.
type Event struct {
	// Binary is being built; Index counts from 1 to Total.
	Binary       string
	Index, Total int
	// Downloading is true while the go command fetches modules.
	Downloading bool
	// Packages compiled so far for this binary (cached ones are not
	// compiled, so a warm cache shows few).
	Packages int
	// Done is set once the binary is in place.
	Done bool
}

// Options says what to build where.
type Options struct {
	// OutDir receives the binaries (created if needed).
	OutDir string
	// Only limits the build to these binary names; empty means all.
	Only []string
	// Go is the go command; empty means the one on PATH.
	Go string
	// Progress, if set, is called from the building goroutine.
	Progress func(Event)
}

// Build builds the binaries into o.OutDir. A failure names the binary and
// ends with the go command's last lines of output.
func Build(ctx context.Context, o Options) error {
	goCmd := o.Go
	if goCmd == "" {
		var err error
		if goCmd, err = GoCommand(); err != nil {
			return err
		}
	}
	todo, err := selected(o.Only)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("creating %s for the simulator's binaries: %w", o.OutDir, err)
	}
	mod, err := os.MkdirTemp("", "k8slab-simbuild-")
	if err != nil {
		return fmt.Errorf("creating a temporary build module: %w", err)
	}
	defer os.RemoveAll(mod)
	if err := writeModule(mod); err != nil {
		return err
	}
	// The output goes next to its destination so that moving it in place is
	// a rename, never a half-written binary.
	tmpOut, err := os.MkdirTemp(o.OutDir, ".build.")
	if err != nil {
		return fmt.Errorf("creating a build folder in %s: %w", o.OutDir, err)
	}
	defer os.RemoveAll(tmpOut)

	env := append(os.Environ(),
		// A temporary module has no vendor folder; -mod=mod lets the go
		// command add a go.sum line another toolchain version may want
		// instead of refusing. The versions stay those go.mod pins.
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
		"CGO_ENABLED=0", // static binaries, and the same build cache keys as build.sh
	)
	start := time.Now()
	emit := func(e Event) {
		if o.Progress != nil {
			o.Progress(e)
		}
	}
	emit(Event{Binary: todo[0].Name, Index: 1, Total: len(todo), Downloading: true})
	ldflags, versions, err := linkerFlags(ctx, goCmd, mod, env)
	if err != nil {
		return err
	}
	for i, b := range todo {
		ev := Event{Binary: b.Name, Index: i + 1, Total: len(todo)}
		emit(ev)
		cmd := exec.CommandContext(ctx, goCmd, "build", "-v", "-trimpath", "-buildvcs=false",
			"-ldflags", ldflags, "-o", filepath.Join(tmpOut, b.Name), b.Package)
		cmd.Dir, cmd.Env = mod, env
		tail := &lastLines{n: 15}
		if err := runWithLines(cmd, func(line string) {
			tail.add(line)
			if strings.HasPrefix(line, "go: downloading ") {
				ev.Downloading = true
			} else if pkgLine().MatchString(line) {
				ev.Downloading = false
				ev.Packages++
			}
			emit(ev)
		}); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("building %s was stopped (%w); nothing half-built was kept", b.Name, ctx.Err())
			}
			return fmt.Errorf("building %s failed (%v); the go command's last lines:\n%s", b.Name, err, tail)
		}
		if err := os.Rename(filepath.Join(tmpOut, b.Name), filepath.Join(o.OutDir, b.Name)); err != nil {
			return fmt.Errorf("moving %s into %s: %w", b.Name, o.OutDir, err)
		}
		ev.Done, ev.Downloading = true, false
		emit(ev)
	}
	if len(todo) == len(Binaries) {
		return writeStamp(o.OutDir, goCmd, mod, env, versions, todo, time.Since(start))
	}
	return nil
}

// pkgLine matches what 'go build -v' prints for each package it compiles.
// It and kubeVersionRE are compiled on first use: every k8slab command
// links this package, few build the simulator.
var pkgLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.~/-]+$`) })

func selected(only []string) ([]Binary, error) {
	if len(only) == 0 {
		return Binaries, nil
	}
	var out []Binary
	for _, name := range only {
		found := false
		for _, b := range Binaries {
			if b.Name == name {
				out, found = append(out, b), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no simulator binary is called %q", name)
		}
	}
	return out, nil
}

// writeModule lays the embedded module out in dir under its real names.
func writeModule(dir string) error {
	return fs.WalkDir(files, "files", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(path, "files/"), ".txt")
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return fmt.Errorf("writing the build module: %w", err)
		}
		return nil
	})
}

// File returns one of the embedded module's files by its name in
// clusterctl/simbuild (go.mod, go.sum, build.sh, tools.go, etcd/main.go).
func File(name string) ([]byte, error) { return files.ReadFile("files/" + name + ".txt") }

type moduleVersions struct{ kube, kubeTime, kwok, etcd string }

var kubeVersionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^v([0-9]+)\.([0-9]+)\.[0-9]+`) })

// linkerFlags are build.sh's: the version variables Kubernetes' own build
// sets (hack/lib/version.sh) and kwok's consts. Asking the go command for
// the versions also downloads the modules' go.mod files.
func linkerFlags(ctx context.Context, goCmd, mod string, env []string) (string, moduleVersions, error) {
	var v moduleVersions
	q := func(format, module string) (string, error) {
		cmd := exec.CommandContext(ctx, goCmd, "list", "-m", "-f", format, module)
		cmd.Dir, cmd.Env = mod, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("asking go for the version of %s: %v\n%s", module, err, lastN(string(out), 10))
		}
		return strings.TrimSpace(string(out)), nil
	}
	const ver = "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}"
	var err error
	if v.kube, err = q(ver, "k8s.io/kubernetes"); err != nil {
		return "", v, err
	}
	if v.kubeTime, err = q(`{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}`, "k8s.io/kubernetes"); err != nil {
		return "", v, err
	}
	if v.kwok, err = q(ver, "sigs.k8s.io/kwok"); err != nil {
		return "", v, err
	}
	if v.etcd, err = q(ver, "go.etcd.io/etcd/server/v3"); err != nil {
		return "", v, err
	}
	m := kubeVersionRE().FindStringSubmatch(v.kube)
	if m == nil {
		return "", v, fmt.Errorf("cannot parse the Kubernetes version %q", v.kube)
	}
	flags := []string{"-s", "-w"}
	for _, pkg := range []string{"k8s.io/client-go/pkg/version", "k8s.io/component-base/version"} {
		flags = append(flags,
			"-X "+pkg+".gitVersion="+v.kube,
			"-X "+pkg+".gitMajor="+m[1],
			"-X "+pkg+".gitMinor="+m[2],
			"-X "+pkg+".gitTreeState=clean",
			"-X "+pkg+".gitCommit=",
			"-X "+pkg+".buildDate="+v.kubeTime,
		)
	}
	flags = append(flags,
		"-X sigs.k8s.io/kwok/pkg/consts.Version="+v.kwok,
		"-X sigs.k8s.io/kwok/pkg/consts.KubeVersion="+v.kube,
	)
	return strings.Join(flags, " "), v, nil
}

// InputsSHA256 is build.sh's inputs_sha256: the hash of go.mod, go.sum,
// build.sh and etcd/main.go, concatenated.
func InputsSHA256() (string, error) {
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum", "build.sh", "etcd/main.go"} {
		b, err := File(name)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeStamp writes build.sh's stamp, so that 'make sim' in a clone takes
// these binaries as built from the same inputs.
func writeStamp(out, goCmd, mod string, env []string, v moduleVersions, built []Binary, took time.Duration) error {
	sum, err := InputsSHA256()
	if err != nil {
		return err
	}
	cmd := exec.Command(goCmd, "env", "GOVERSION", "GOOS", "GOARCH")
	cmd.Dir, cmd.Env = mod, env
	goEnv, _ := cmd.Output()
	f := strings.Fields(string(goEnv))
	for len(f) < 3 {
		f = append(f, "?")
	}
	names := make([]string, len(built))
	for i, b := range built {
		names[i] = b.Name
	}
	stamp := fmt.Sprintf("built_at=%s\nkubernetes=%s\netcd=%s\nkwok=%s\ngo=%s %s/%s CGO_ENABLED=0\ninputs_sha256=%s\nlast_build_seconds=%d\nlast_built=%s\n",
		time.Now().UTC().Format("2006-01-02T15:04:05Z"), v.kube, v.etcd, v.kwok, f[0], f[1], f[2], sum, int(took.Seconds()), strings.Join(names, " "))
	if err := os.WriteFile(filepath.Join(out, ".simbuild-stamp"), []byte(stamp), 0o644); err != nil {
		return fmt.Errorf("writing the build stamp: %w", err)
	}
	return nil
}

// runWithLines runs cmd and calls line for each line of its output
// (stdout and stderr together, as 'go build -v' writes to stderr).
func runWithLines(cmd *exec.Cmd, line func(string)) error {
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line(sc.Text())
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	err := cmd.Wait()
	w.Close()
	wg.Wait()
	return err
}

type lastLines struct {
	n     int
	lines []string
}

func (l *lastLines) add(s string) {
	l.lines = append(l.lines, s)
	if len(l.lines) > l.n {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string { return strings.Join(l.lines, "\n") }

func lastN(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
