package simkubelet

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Lookup finds a ConfigMap or Secret of the pod's namespace; nil when
// there is none.
type Lookup struct {
	ConfigMap func(name string) *corev1.ConfigMap
	Secret    func(name string) *corev1.Secret
}

// ConfigError is why the kubelet cannot build a container's configuration
// from its env and envFrom, worded as kubelet_pods.go
// (makeEnvironmentVariables) words it, or "" when it can. Like the kubelet
// it reads envFrom first, then env in order, and stops at the first
// problem; a reference marked optional is skipped when what it names is
// missing. A missing object reads as the kubelet's watch-based ConfigMap
// and Secret managers report it (apierrors.NewNotFound with the resources
// "configmap" and "secret").
func ConfigError(namespace string, c *corev1.Container, l Lookup) string {
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			if l.ConfigMap(from.ConfigMapRef.Name) == nil && !isTrue(from.ConfigMapRef.Optional) {
				return fmt.Sprintf("configmap %q not found", from.ConfigMapRef.Name)
			}
		case from.SecretRef != nil:
			if l.Secret(from.SecretRef.Name) == nil && !isTrue(from.SecretRef.Optional) {
				return fmt.Sprintf("secret %q not found", from.SecretRef.Name)
			}
		}
	}
	for _, e := range c.Env {
		// A literal value wins over valueFrom, as in the kubelet.
		if e.Value != "" || e.ValueFrom == nil {
			continue
		}
		switch {
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			optional := isTrue(ref.Optional)
			cm := l.ConfigMap(ref.Name)
			if cm == nil {
				if optional {
					continue
				}
				return fmt.Sprintf("configmap %q not found", ref.Name)
			}
			// Only data: a key under binaryData is not found either.
			if _, ok := cm.Data[ref.Key]; !ok && !optional {
				return fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", ref.Key, namespace, ref.Name)
			}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			optional := isTrue(ref.Optional)
			s := l.Secret(ref.Name)
			if s == nil {
				if optional {
					continue
				}
				return fmt.Sprintf("secret %q not found", ref.Name)
			}
			if _, ok := s.Data[ref.Key]; !ok && !optional {
				return fmt.Sprintf("couldn't find key %s in Secret %s/%s", ref.Key, namespace, ref.Name)
			}
		}
	}
	return ""
}

// HasRefs reports whether a container's environment depends on a
// ConfigMap or Secret that is not optional: such a container waits for
// this package's verdict before kwok may start it.
func HasRefs(c *corev1.Container) bool {
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil && !isTrue(from.ConfigMapRef.Optional) || from.SecretRef != nil && !isTrue(from.SecretRef.Optional) {
			return true
		}
	}
	for _, e := range c.Env {
		if e.Value != "" || e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !isTrue(r.Optional) {
			return true
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil && !isTrue(r.Optional) {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }
