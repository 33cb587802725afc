package clusterctl

import (
	"context"
	"errors"
	"os"

	"k8s.io/client-go/tools/clientcmd"
)

// existing is a cluster the learner already has. k8slab only reads the
// kubeconfig; it never creates, changes or deletes the cluster.
type existing struct {
	path, context string
	name          string
}

// NewExisting uses the kubeconfig at path (or $KUBECONFIG / ~/.kube/config
// when empty) and the named context (or the current one).
func NewExisting(path, kubeContext string) (Provider, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, problemf(err, "check the file named by --kubeconfig or $KUBECONFIG", "cannot read the kubeconfig")
	}
	name := kubeContext
	if name == "" {
		name = raw.CurrentContext
	}
	if _, ok := raw.Contexts[name]; !ok || name == "" {
		return nil, problemf(nil, "list contexts with 'kubectl config get-contexts' and pass one with --context",
			"the kubeconfig has no context %q", name)
	}
	if path == "" {
		path = rules.GetDefaultFilename()
		if env := os.Getenv("KUBECONFIG"); env != "" {
			path = env
		}
	}
	return &existing{path: path, context: name, name: name}, nil
}

func (e *existing) Name() string           { return Existing }
func (e *existing) ClusterName() string    { return e.name }
func (e *existing) KubeconfigPath() string { return e.path }

// Context is the kubeconfig context in use.
func (e *existing) Context() string { return e.context }

func (e *existing) Exists(context.Context) (bool, error) { return true, nil }

var errNotOurs = errors.New("k8slab does not create or delete existing clusters")

func (e *existing) Create(context.Context, Progress) error { return errNotOurs }
func (e *existing) Delete(context.Context, Progress) error { return errNotOurs }
