package clusterctl

import (
	"github.com/k8slab/k8slab/clusterctl/internal/kind"
)

const (
	// DefaultKindClusterName names the cluster when KindOptions.Name is
	// empty.
	DefaultKindClusterName = kind.DefaultClusterName
	// DefaultKindNodeImage is kind's own default node image, pinned by
	// digest.
	DefaultKindNodeImage = kind.DefaultNodeImage
	// KindNodePort is the NodePort the labs expose their apps on,
	// published on 127.0.0.1 only.
	KindNodePort = kind.NodePort
)

// KindOptions configures NewKind.
type KindOptions = kind.Options

// NewKind returns a Provider that runs a kind cluster: one control-plane
// node and two workers, with KindNodePort published on 127.0.0.1. The
// provider lives in clusterctl/internal/kind; this is its only front.
func NewKind(o KindOptions) (Provider, error) {
	c, err := kind.New(o)
	if err != nil {
		return nil, err
	}
	return c, nil
}
