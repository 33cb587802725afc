package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/k8slab/k8slab/clusterctl/internal/kubeapi"
	"github.com/k8slab/k8slab/internal/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Status is what a learner needs to know about their cluster.
type Status struct {
	Provider string
	Name     string
	// Exists is false when the cluster has not been created.
	Exists bool
	// Reachable is true when the API server answered.
	Reachable bool
	// Version is the API server's Kubernetes version, e.g. v1.37.2.
	Version string
	Nodes   []NodeStatus
	// Err says why the cluster is not reachable.
	Err error
	// Health, for a simulated cluster, says which components are down;
	// "" when all are well or the provider cannot tell.
	Health string
}

// NodeStatus is one node as the API reports it.
type NodeStatus = kubeapi.Node

// ReadyNodes counts the nodes whose Ready condition is True.
func (s Status) ReadyNodes() int {
	n := 0
	for _, node := range s.Nodes {
		if node.Ready {
			n++
		}
	}
	return n
}

// Summary is a one-line description for status bars.
func (s Status) Summary() string {
	switch {
	case !s.Exists:
		return "no cluster"
	case !s.Reachable && s.Health != "":
		return fmt.Sprintf("%s (%s): %s", s.Name, s.Provider, s.Health)
	case !s.Reachable:
		return fmt.Sprintf("%s (%s): not reachable", s.Name, s.Provider)
	case s.Health != "":
		return fmt.Sprintf("%s (%s) %s · %s", s.Name, s.Provider, s.Version, s.Health)
	default:
		return fmt.Sprintf("%s (%s) %s · %d/%d nodes ready", s.Name, s.Provider, s.Version, s.ReadyNodes(), len(s.Nodes))
	}
}

// APITimeout bounds each call k8slab makes to a cluster's API server: the
// one per-request bound, kube.RequestTimeout. The rest config carries it
// too, as a backstop for a call made without a deadline; it used to be
// 5 s there, shorter than the callers' own contexts, and cut off lists
// and applies that a kind cluster under load answers in 5 to 10 s.
const APITimeout = kube.RequestTimeout

// RESTConfig loads a kubeconfig file (or the default loading rules when path
// is empty: $KUBECONFIG, then ~/.kube/config) and context. Warnings from the
// API server are dropped, not printed: CLI output must stay clean for graders.
func RESTConfig(path, context string) (*rest.Config, error) { return kubeapi.RESTConfig(path, context) }

// Probe asks the cluster behind cfg for its version and nodes.
func Probe(ctx context.Context, cfg *rest.Config) (version string, nodes []NodeStatus, err error) {
	return kubeapi.Probe(ctx, cfg)
}

// ServerVersion is what 'kubectl version' shows for the server, read from
// /version as client-go's discovery client does.
func ServerVersion(ctx context.Context, cfg *rest.Config) (string, error) {
	return kubeapi.ServerVersion(ctx, cfg)
}

// WaitForNodes polls until want nodes are Ready and settled (see
// kube.NodeSettled) or ctx ends: right after Ready, the scheduler may still
// refuse a node, and a lab set up then would find its pods Pending.
func WaitForNodes(ctx context.Context, cfg *rest.Config, want int) ([]NodeStatus, error) {
	return kubeapi.WaitForNodes(ctx, cfg, want)
}

// WriteNamespacedKubeconfig writes to dst a copy of the kubeconfig at src
// (default loading rules when empty) whose current context is kubeContext
// (or the current one) with namespace as its default, so that kubectl
// commands work in a lab's namespace without -n. The file is 0600.
func WriteNamespacedKubeconfig(src, kubeContext, namespace, dst string) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if src != "" {
		rules.ExplicitPath = src
	}
	cfg, err := rules.Load()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	name := kubeContext
	if name == "" {
		name = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[name]
	if !ok {
		return fmt.Errorf("kubeconfig has no context %q", name)
	}
	ctx = ctx.DeepCopy()
	ctx.Namespace = namespace
	cfg.Contexts[name] = ctx
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, dst); err != nil {
		return err
	}
	return os.Chmod(dst, 0o600)
}

// Reach asks the API server for its version, once, so that a server that
// does not answer is reported once and not under every task. A server that
// answers with an error (forbidden, unauthorized) is reachable: the checks
// judge those per object.
func Reach(ctx context.Context, cfg *rest.Config) error {
	ctx, cancel := context.WithTimeout(ctx, APITimeout)
	defer cancel()
	_, err := ServerVersion(ctx, cfg)
	var status apierrors.APIStatus
	if err == nil || errors.As(err, &status) {
		return nil
	}
	// The URL of the request adds nothing to the server address.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the cluster at %s did not answer within %s; check that it is running ('k8slab cluster status') and the server address in the kubeconfig", cfg.Host, APITimeout)
	}
	return fmt.Errorf("cannot reach the cluster at %s: %v; start it with 'k8slab cluster up', or check the server address in the kubeconfig", cfg.Host, err)
}
