package clusterctl

import (
	"context"

	"github.com/k8slab/k8slab/clusterctl/internal/engine"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
)

// Container engines kind can run its nodes on, as KindOptions.Engine names
// them.
const (
	EngineDocker  = engine.Docker
	EnginePodman  = engine.Podman
	EngineNerdctl = engine.Nerdctl
)

// EngineEnv is the variable kind's own CLI reads to choose its engine
// ("docker", "podman" or "nerdctl"); k8slab honours it the same way, so a
// learner with two engines picks one for both tools.
const EngineEnv = engine.Env

var (
	// ErrNoEngine is wrapped by the Problem DetectEngine returns when no
	// container engine CLI is installed.
	ErrNoEngine = problem.ErrNoEngine
	// ErrEngineNotRunning is wrapped by the Problem returned when an
	// engine's CLI is installed but the engine itself is not running or
	// cannot be reached.
	ErrEngineNotRunning = problem.ErrEngineNotRunning
)

// DetectEngine finds a running container engine kind can use and returns
// its name: EngineDocker, EnginePodman or EngineNerdctl. only, when not
// empty, is the one engine to consider (as EngineEnv names it); otherwise
// the first that runs, Docker first. The error is a *Problem wrapping
// ErrNoEngine or ErrEngineNotRunning, a *Problem for an engine kind does
// not know, or ctx's error.
func DetectEngine(ctx context.Context, only string) (string, error) {
	return engine.Detect(ctx, only)
}
