// Package clusterctl gives every learner a Kubernetes cluster for the labs:
// a kind cluster where a container engine runs, a simulated one (kwok)
// where none does, or an existing cluster they name. It never modifies or
// deletes a cluster that k8slab did not create.
package clusterctl

import (
	"context"

	"github.com/k8slab/k8slab/clusterctl/internal/problem"
)

// Provider creates and manages one cluster.
type Provider interface {
	// Name is the provider's kind: "kind", "sim" or "existing".
	Name() string
	// ClusterName is the name of the cluster this provider manages.
	ClusterName() string
	// Create makes the cluster, writes its kubeconfig to KubeconfigPath and
	// reports each step to progress. Creating a cluster that is already
	// running returns ErrAlreadyRunning.
	Create(ctx context.Context, progress Progress) error
	// Delete removes the cluster and everything Create made.
	Delete(ctx context.Context, progress Progress) error
	// Exists reports whether the cluster has been created (it may still be
	// stopped or unreachable).
	Exists(ctx context.Context) (bool, error)
	// KubeconfigPath is the kubeconfig that points at the cluster.
	KubeconfigPath() string
}

// ErrAlreadyRunning is returned by Create when the cluster is up already.
var ErrAlreadyRunning = problem.ErrAlreadyRunning

// ErrNodeImagePull: kind could not download its node image.
var ErrNodeImagePull = problem.ErrNodeImagePull

// Progress receives the steps of a long operation as they happen. It may be
// nil. An alias, so that the providers under internal/, which take a plain
// func(Step), are Providers as they are.
type Progress = func(Step)

// StepState is where a step is.
type StepState = problem.StepState

const (
	StepStarted = problem.StepStarted
	StepDone    = problem.StepDone
	StepFailed  = problem.StepFailed
	StepWarning = problem.StepWarning
)

// Step is one named stage of creating or deleting a cluster, the unit a
// progress display shows.
type Step = problem.Step

// Problem is a failure explained for a learner: what happened, in plain
// words, and what to do about it.
type Problem = problem.Problem

func problemf(err error, fix, format string, args ...any) *Problem {
	return problem.Newf(err, fix, format, args...)
}
