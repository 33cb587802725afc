package clusterctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/internal/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
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
type NodeStatus struct {
	Name  string
	Ready bool
	// Settled: Ready, and no longer tainted not-ready or unreachable.
	Settled bool
	Roles   []string
}

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
func RESTConfig(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.Timeout = APITimeout
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// Probe asks the cluster behind cfg for its version and nodes.
func Probe(ctx context.Context, cfg *rest.Config) (version string, nodes []NodeStatus, err error) {
	client, err := nodeClient(cfg)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, APITimeout)
	defer cancel()
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", nil, explainAPIError(err)
	}
	version, err = ServerVersion(ctx, cfg)
	if err != nil {
		return "", nil, explainAPIError(err)
	}
	for i := range list.Items {
		var n corev1.Node
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &n); err != nil {
			return "", nil, fmt.Errorf("reading node %s: %w", list.Items[i].GetName(), err)
		}
		nodes = append(nodes, nodeStatus(n))
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return version, nodes, nil
}

// nodeClient reads and writes nodes through the dynamic client: the typed
// clientset would link all of client-go's API groups, and their init,
// into every k8slab command.
func nodeClient(cfg *rest.Config) (dynamic.ResourceInterface, error) {
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return dc.Resource(kube.NodesGVR), nil
}

// ServerVersion is what 'kubectl version' shows for the server, read from
// /version as client-go's discovery client does.
func ServerVersion(ctx context.Context, cfg *rest.Config) (string, error) {
	body, err := get(ctx, cfg, "/version")
	if err != nil {
		return "", err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("reading the server version: %w", err)
	}
	return info.GitVersion, nil
}

// getOK asks the API server for path (/readyz, /livez) and wants 200.
func getOK(ctx context.Context, cfg *rest.Config, path string) error {
	_, err := get(ctx, cfg, path)
	return err
}

// get reads an API server path with the kubeconfig's credentials. It is
// what the discovery client does for /version and health paths, without
// linking the typed clientset that carries it.
func get(ctx context.Context, cfg *rest.Config, path string) ([]byte, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base.String(), "/")+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apierrors.NewGenericServerResponse(resp.StatusCode, http.MethodGet, schema.GroupResource{}, "", strings.TrimSpace(string(body)), 0, false)
	}
	return body, nil
}

func nodeStatus(n corev1.Node) NodeStatus {
	ns := NodeStatus{Name: n.Name, Ready: kube.NodeReady(&n), Settled: kube.NodeSettled(&n), Roles: kube.NodeRoles(&n)}
	slices.Sort(ns.Roles)
	return ns
}

// WaitForNodes polls until want nodes are Ready and settled (see
// kube.NodeSettled) or ctx ends: right after Ready, the scheduler may still
// refuse a node, and a lab set up then would find its pods Pending.
func WaitForNodes(ctx context.Context, cfg *rest.Config, want int) ([]NodeStatus, error) {
	var last error
	var nodes []NodeStatus
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, ns, err := Probe(ctx, cfg)
		if err != nil {
			last = err
			return false, nil
		}
		nodes = ns
		ready, settled := 0, 0
		for _, n := range ns {
			if n.Ready {
				ready++
			}
			if n.Settled {
				settled++
			}
		}
		last = fmt.Errorf("%d of %d nodes ready", ready, want)
		if ready >= want {
			last = fmt.Errorf("%d of %d nodes ready, %d still tainted not-ready by the node lifecycle controller", ready, want, ready-settled)
		}
		return settled >= want, nil
	})
	if err != nil {
		return nodes, fmt.Errorf("waiting for %d ready nodes: %w (last: %v)", want, err, last)
	}
	return nodes, nil
}

func explainAPIError(err error) error {
	switch kube.Classify(err) {
	case kube.Unreachable:
		if strings.Contains(err.Error(), "no such host") {
			return problemf(err, "check the server address in the kubeconfig", "the cluster's API server address does not resolve")
		}
		return problemf(err, "start it with 'k8slab cluster up', or check the kubeconfig points at a running cluster",
			"the cluster's API server refused the connection (it is not running)")
	case kube.Timeout:
		return problemf(err, "check your network and the server address in the kubeconfig",
			"the cluster's API server did not answer in time")
	case kube.Unauthorized:
		return problemf(err, "your credentials were rejected; get a fresh kubeconfig from whoever runs the cluster",
			"the cluster rejected k8slab's credentials")
	case kube.Forbidden:
		return problemf(err, "ask for permission to list nodes, or use a context with more rights",
			"the cluster forbids this account to list nodes")
	}
	return err
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
