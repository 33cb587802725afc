// Package engine finds the container engine kind runs its nodes on
// (Docker, Podman or nerdctl) and explains, for a learner, why one cannot
// be used.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/problem"
)

// Container engines kind can run its nodes on, named as their CLIs and
// kind's providers are.
const (
	Docker  = "docker"
	Podman  = "podman"
	Nerdctl = "nerdctl"
)

// engineCheckTimeout bounds one `<engine> info`. kind runs the same command
// with no timeout, so an engine that accepts connections but never answers
// (Docker Desktop while it starts) would hang it; a healthy engine answers
// well within a second.
const engineCheckTimeout = 5 * time.Second

// podmanCheckTimeout is engineCheckTimeout for Podman, whose info does the
// work a daemon would have done already: 3 to over 5 s on a two-core
// machine under load, and over 20 s at a load of 60, when a slow answer
// is still an answer.
const podmanCheckTimeout = 60 * time.Second

// runCommand runs a container engine CLI and returns its stdout and stderr
// together, the way a learner sees them. It is a variable only so tests can
// replay outputs captured from real engines.
var runCommand = func(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	// A killed CLI can leave a helper holding the output pipe open (docker
	// keeps an ssh child for ssh:// hosts); without WaitDelay that would
	// hold us past the timeout.
	cmd.WaitDelay = time.Second
	return cmd.CombinedOutput()
}

// Spec is what k8slab needs to know about one engine's CLI.
type Spec struct {
	Name    string // the CLI, and the kind provider's name
	Display string // how a learner knows it
	// versionPrefix starts `<cli> -v` output. kind checks the same prefix,
	// which tells real Docker apart from podman-docker's `docker` shim.
	versionPrefix string
	// infoArgs is the info command kind runs before creating a cluster, so
	// an engine that passes here passes kind's own check too.
	infoArgs []string
	// infoTimeout bounds infoArgs; see engineCheckTimeout.
	infoTimeout time.Duration
}

// Specs lists the engines in the order Detect prefers them:
// Docker first as kind's best-supported provider, then Podman, then
// nerdctl, which kind also supports.
func specs() []Spec {
	return []Spec{
		{Docker, "Docker", "Docker version", []string{"info", "--format", "{{json .}}"}, engineCheckTimeout},
		// Podman has no daemon: `podman info` opens its storage itself,
		// which took 3 to over 5 s on this two-core build machine under load.
		{Podman, "Podman", "podman version", []string{"info", "--format", "json"}, podmanCheckTimeout},
		{Nerdctl, "nerdctl", "nerdctl version", []string{"info", "--format", "{{json .}}"}, engineCheckTimeout},
	}
}

func SpecFor(name string) (Spec, bool) {
	for _, e := range specs() {
		if e.Name == name {
			return e, true
		}
	}
	return Spec{}, false
}

// Env is the variable kind's own CLI reads to choose its engine
// ("docker", "podman" or "nerdctl"); k8slab honours it the same way, so a
// learner with two engines picks one for both tools.
const Env = "KIND_EXPERIMENTAL_PROVIDER"

// Detect finds a running container engine kind can use and returns its
// name: Docker, Podman or Nerdctl. only, when not empty, is the one engine
// to consider (as Env names it); otherwise an installed engine that is not
// running is skipped if a later one works. The error is a *problem.Problem
// wrapping problem.ErrNoEngine (no engine CLI installed) or
// problem.ErrEngineNotRunning (the first installed engine's failure), a
// *problem.Problem for an engine kind does not know, or ctx's error.
func Detect(ctx context.Context, only string) (engine string, err error) {
	specs := specs()
	if only != "" {
		e, ok := SpecFor(only)
		if !ok {
			return "", &problem.Problem{
				Summary: fmt.Sprintf("%s=%s names no container engine kind supports", Env, only),
				Fix:     fmt.Sprintf("set %s to %s, %s or %s, or unset it to let k8slab find the engine that runs", Env, Docker, Podman, Nerdctl),
			}
		}
		specs = []Spec{e}
	}
	var firstProblem error
	for _, e := range specs {
		installed, err := engineInstalled(ctx, e)
		if err != nil {
			return "", err
		}
		if !installed {
			continue
		}
		err = Probe(ctx, e)
		if err == nil {
			return e.Name, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if firstProblem == nil {
			firstProblem = err
		}
	}
	if firstProblem != nil {
		return "", firstProblem
	}
	return "", NoEngine(only, nil)
}

// engineInstalled reports whether e's CLI is on PATH and really is e. The
// error is only ever ctx's.
func engineInstalled(ctx context.Context, e Spec) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, engineCheckTimeout)
	defer cancel()
	out, err := runCommand(cctx, e.Name, "-v")
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, exec.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		// A CLI that exists but cannot even print its version is still
		// the learner's engine; let the info check explain what is wrong.
		return true, nil
	}
	return strings.HasPrefix(strings.TrimSpace(string(out)), e.versionPrefix), nil
}

// Probe runs e's info command, as kind does before creating a
// cluster, and explains a failure as a *problem.Problem.
func Probe(ctx context.Context, e Spec) error {
	cctx, cancel := context.WithTimeout(ctx, e.infoTimeout)
	defer cancel()
	out, err := runCommand(cctx, e.Name, e.infoArgs...)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, exec.ErrNotFound) {
		return NoEngine(e.Name, err)
	}
	cmdline := e.Name + " " + strings.Join(e.infoArgs, " ")
	// A CLI killed for the deadline says only "signal: killed"; the
	// context says why.
	if errors.Is(cctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return &problem.Problem{
			Summary: fmt.Sprintf("%s did not answer within %s (`%s` timed out)",
				e.Display, e.infoTimeout, cmdline),
			Fix: fmt.Sprintf("if %s is still starting, wait until it is ready and try again; otherwise restart it and check that `%s info` answers. %s",
				e.Display, e.Name, SimHint),
			Err: fmt.Errorf("%w: %s: %w", problem.ErrEngineNotRunning, cmdline, err),
		}
	}
	underlying := fmt.Errorf("%w: %s: %w\n%s", problem.ErrEngineNotRunning, cmdline, err, OutputTail(string(out), OutputTailLines))
	if p := Explain(string(out), underlying); p != nil {
		return p
	}
	return &problem.Problem{
		Summary: fmt.Sprintf("`%s info` failed, so k8slab cannot use %s: %s",
			e.Name, e.Display, LastMeaningfulLine(string(out), err)),
		Fix: fmt.Sprintf("run `%s info` and fix what it reports; k8slab can make a cluster once it works. %s",
			e.Name, SimHint),
		Err: underlying,
	}
}

// SimHint points at the provider that needs no container engine.
const SimHint = "Or use --provider sim for a simulated cluster that needs no container engine."

// NoEngine explains a missing engine CLI. engine is the one that was
// asked for, or "" when Detect found none at all.
func NoEngine(engine string, err error) *problem.Problem {
	wrapped := problem.ErrNoEngine
	if err != nil {
		wrapped = fmt.Errorf("%w: %w", problem.ErrNoEngine, err)
	}
	summary := "no container engine found: k8slab needs Docker or Podman for a kind cluster, and neither `docker` nor `podman` is on your PATH"
	if engine != "" {
		summary = fmt.Sprintf("no container engine found: k8slab was set to use %s for the kind cluster, but `%s` is not on your PATH", engine, engine)
	}
	return &problem.Problem{
		Summary: summary,
		Fix: "install Docker (https://docs.docker.com/get-docker/) or Podman (https://podman.io/docs/installation), start it and check that `docker info` or `podman info` works. " +
			SimHint,
		Err: wrapped,
	}
}

// Explain recognises the messages engine CLIs print when their engine
// is down or out of reach (kind itself only reports "exit status 1") and
// explains them. It returns nil for any other output. err becomes the
// Problem's Err. Docker, Podman and nerdctl word their messages
// differently enough that the text alone tells them apart.
func Explain(out string, err error) *problem.Problem {
	lower := strings.ToLower(out)
	has := func(s string) bool { return strings.Contains(lower, s) }
	quote := func(s string) string { return lineContaining(out, s) }

	switch {
	case has("permission denied while trying to connect to the docker daemon"):
		return &problem.Problem{
			Summary: "Docker is running, but your user is not allowed to use it: " +
				beforeURL(quote("permission denied while trying to connect")),
			Fix: "add your user to the docker group with `sudo usermod -aG docker $USER`, then log out and back in " +
				"(or run `newgrp docker`) and check that `docker info` works without sudo. " +
				"Members of the docker group can act as root on this machine; rootless Docker " +
				"(https://docs.docker.com/engine/security/rootless/) avoids that. " +
				"Do not run k8slab with sudo: it would write files your own user cannot read.",
			Err: err,
		}
	case has("cannot connect to the docker daemon"),
		// Docker Desktop on Windows when it is not started: the named
		// pipe it listens on does not exist.
		has("error during connect") && (has("pipe") || has("daemon is not running")):
		line := quote("cannot connect to the docker daemon")
		if line == "" {
			line = quote("error during connect")
		}
		fix := "start Docker: open Docker Desktop and wait until it says Docker is running, or on Linux run `sudo systemctl start docker`; then check with `docker info`. "
		if has("at tcp://") || has("at ssh://") {
			fix = "start the Docker engine this machine is set to use (DOCKER_HOST or `docker context ls` shows which), or point Docker back at a local engine; then check with `docker info`. "
		}
		return &problem.Problem{
			Summary: "Docker is installed, but its engine is not running: " + line,
			Fix:     fix + SimHint,
			Err:     err,
		}
	case has("error during connect"):
		return &problem.Problem{
			Summary: "k8slab cannot reach the Docker engine: " + quote("error during connect"),
			Fix: "check that Docker is running and that DOCKER_HOST and `docker context ls` point at it; " +
				"`docker info` must work before k8slab can make a cluster. " + SimHint,
			Err: err,
		}
	case has("cannot connect to podman"), has("unable to connect to podman"):
		line := quote("cannot connect to podman")
		if line == "" {
			line = quote("unable to connect to podman")
		}
		return &problem.Problem{
			Summary: "Podman is installed, but it cannot connect to its engine (the Podman machine is probably stopped): " +
				firstSentence(line),
			Fix: "run `podman machine start` (the very first time, `podman machine init` before it), " +
				"then check that `podman info` works. " + SimHint,
			Err: err,
		}
	case has("containerd socket"), has("containerd not running"):
		return &problem.Problem{
			Summary: "nerdctl is installed, but containerd is not running: " + quote("containerd"),
			Fix: "start containerd (`sudo systemctl start containerd`, or for rootless containerd " +
				"`containerd-rootless-setuptool.sh install`), then check that `nerdctl info` works. " + SimHint,
			Err: err,
		}
	}
	return nil
}

// OutputTailLines is how much command output a Problem's Err keeps: enough
// for kubeadm's explanation, not its whole log.
const OutputTailLines = 40

// lineContaining returns the first line of out that contains substr,
// ignoring case, trimmed of space.
func lineContaining(out, substr string) string {
	substr = strings.ToLower(substr)
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(strings.ToLower(line), substr) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// LastMeaningfulLine picks the line of a failed command's output that says
// why. It falls back to err.
func LastMeaningfulLine(out string, err error) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !noise(l) {
			return l
		}
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// beforeURL drops the API URL Docker appends to a connection error, which
// repeats the socket path in URL encoding.
func beforeURL(line string) string {
	before, _, _ := strings.Cut(line, ": Get \"")
	return before
}

// firstSentence shortens podman's long connection message to its point.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// outputTail returns the last n lines of a command's output worth
// reading: not the empty JSON document `docker info --format` prints even
// when it fails, nor usage hints.
func OutputTail(out string, n int) string {
	var lines []string
	for line := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		if noise(line) {
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func noise(line string) bool {
	l := strings.TrimSpace(line)
	return strings.HasPrefix(l, "{") || strings.HasPrefix(l, "Run '")
}

// CgroupV1 reports whether e's containers, and so kind's nodes, run on
// cgroup v1, from the same info command Probe runs. The kubelet of
// Kubernetes 1.35 and later refuses to start there unless its
// configuration sets failCgroupV1 to false. An engine whose info does not
// say (an older one) is taken to be on v2, where nothing needs changing.
// The machine's own /sys/fs/cgroup would not do: Docker Desktop and
// Podman machine run the containers in a virtual machine of their own.
func CgroupV1(ctx context.Context, e Spec) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, e.infoTimeout)
	defer cancel()
	out, err := runCommand(cctx, e.Name, e.infoArgs...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", e.Name+" "+strings.Join(e.infoArgs, " "), err)
	}
	return cgroupV1(out)
}

// cgroupV1 reads the cgroup version from `docker|nerdctl info --format
// {{json .}}` ("CgroupVersion": "1") or `podman info --format json`
// ("host": {"cgroupVersion": "v1"}).
func cgroupV1(info []byte) (bool, error) {
	var v struct {
		CgroupVersion string
		Host          struct {
			CgroupVersion string `json:"cgroupVersion"`
		} `json:"host"`
	}
	if err := json.Unmarshal(info, &v); err != nil {
		return false, fmt.Errorf("reading the container engine's info: %w", err)
	}
	version := strings.TrimPrefix(v.CgroupVersion+v.Host.CgroupVersion, "v")
	return version == "1", nil
}
