package clusterctl

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
)

// MergeKubeconfig adds the clusters, users and contexts of the lab
// cluster's kubeconfig (labPath) to the learner's default kubeconfig
// ($KUBECONFIG, else ~/.kube/config), the way `kubectl config set-context`
// would: through clientcmd.ModifyConfig, which takes kubectl's lock on every
// file it may write, so a kubectl running at the same time neither loses its
// change nor reads half of ours. Everything else in the file, the current
// context included, stays as it was. It returns the file written to.
func MergeKubeconfig(labPath string) (string, error) {
	lab, err := clientcmd.LoadFromFile(labPath)
	if err != nil {
		return "", fmt.Errorf("reading the lab cluster's kubeconfig: %w", err)
	}
	access := clientcmd.NewDefaultPathOptions()
	user, err := access.GetStartingConfig()
	if err != nil {
		return "", fmt.Errorf("reading your kubeconfig: %w", err)
	}
	// LocationOfOrigin decides which file ModifyConfig writes an entry to:
	// an entry the learner already has is updated where it lives, a new one
	// goes to the default file; never back into the lab's own kubeconfig.
	for k, v := range lab.Clusters {
		v.LocationOfOrigin = ""
		if old, ok := user.Clusters[k]; ok {
			v.LocationOfOrigin = old.LocationOfOrigin
		}
		user.Clusters[k] = v
	}
	for k, v := range lab.AuthInfos {
		v.LocationOfOrigin = ""
		if old, ok := user.AuthInfos[k]; ok {
			v.LocationOfOrigin = old.LocationOfOrigin
		}
		user.AuthInfos[k] = v
	}
	for k, v := range lab.Contexts {
		v.LocationOfOrigin = ""
		if old, ok := user.Contexts[k]; ok {
			v.LocationOfOrigin = old.LocationOfOrigin
		}
		user.Contexts[k] = v
	}
	if err := clientcmd.ModifyConfig(access, *user, false); err != nil {
		return "", fmt.Errorf("writing your kubeconfig: %w", err)
	}
	return access.GetDefaultFilename(), nil
}
