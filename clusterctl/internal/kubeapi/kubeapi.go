// Package kubeapi asks a cluster's API server what every provider and
// the status line need to know: a rest config from a kubeconfig, the
// server's version, its nodes and whether they are Ready, and its health
// paths. It reads only; clusterctl re-exports it, and the providers under
// clusterctl/internal use it without importing clusterctl.
package kubeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"github.com/k8slab/k8slab/internal/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Node is one node as the API reports it.
type Node struct {
	Name  string
	Ready bool
	// Settled: Ready, and no longer tainted not-ready or unreachable.
	Settled bool
	Roles   []string
}

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
	cfg.Timeout = kube.RequestTimeout
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// Probe asks the cluster behind cfg for its version and nodes.
func Probe(ctx context.Context, cfg *rest.Config) (version string, nodes []Node, err error) {
	client, err := NodeClient(cfg)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
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
		nodes = append(nodes, nodeOf(n))
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return version, nodes, nil
}

// NodeClient reads and writes nodes through the dynamic client: the typed
// clientset would link all of client-go's API groups, and their init,
// into every k8slab command.
func NodeClient(cfg *rest.Config) (dynamic.ResourceInterface, error) {
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

// GetOK asks the API server for path (/readyz, /livez) and wants 200.
func GetOK(ctx context.Context, cfg *rest.Config, path string) error {
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

func nodeOf(n corev1.Node) Node {
	ns := Node{Name: n.Name, Ready: kube.NodeReady(&n), Settled: kube.NodeSettled(&n), Roles: kube.NodeRoles(&n)}
	slices.Sort(ns.Roles)
	return ns
}

// WaitForNodes polls until want nodes are Ready and settled (see
// kube.NodeSettled) or ctx ends: right after Ready, the scheduler may still
// refuse a node, and a lab set up then would find its pods Pending.
func WaitForNodes(ctx context.Context, cfg *rest.Config, want int) ([]Node, error) {
	// state is what the nodes said last, kept apart from a failed probe:
	// when the wait runs out, a request cut off by the deadline says
	// nothing about why the nodes were not ready.
	var state, last error
	var nodes []Node
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, ns, err := Probe(ctx, cfg)
		if err != nil {
			last = err
			return false, nil
		}
		last = nil
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
		state = fmt.Errorf("%d of %d nodes ready", ready, want)
		if ready >= want {
			state = fmt.Errorf("%d of %d nodes ready, %d still tainted not-ready by the node lifecycle controller", ready, want, ready-settled)
		}
		return settled >= want, nil
	})
	if err != nil {
		if state == nil {
			return nodes, fmt.Errorf("waiting for %d ready nodes: %w (the API server never listed them: %v)", want, err, last)
		}
		return nodes, fmt.Errorf("waiting for %d ready nodes: %w (last seen: %v)", want, err, state)
	}
	return nodes, nil
}

func explainAPIError(err error) error {
	switch kube.Classify(err) {
	case kube.Unreachable:
		if strings.Contains(err.Error(), "no such host") {
			return problem.Newf(err, "check the server address in the kubeconfig", "the cluster's API server address does not resolve")
		}
		return problem.Newf(err, "start it with 'k8slab cluster up', or check the kubeconfig points at a running cluster",
			"the cluster's API server refused the connection (it is not running)")
	case kube.Timeout:
		return problem.Newf(err, "check your network and the server address in the kubeconfig",
			"the cluster's API server did not answer in time")
	case kube.Unauthorized:
		return problem.Newf(err, "your credentials were rejected; get a fresh kubeconfig from whoever runs the cluster",
			"the cluster rejected k8slab's credentials")
	case kube.Forbidden:
		return problem.Newf(err, "ask for permission to list nodes, or use a context with more rights",
			"the cluster forbids this account to list nodes")
	}
	return err
}
