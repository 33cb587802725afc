package simkubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestConfigError follows makeEnvironmentVariables (kubelet_pods.go):
// envFrom before env, optional references skipped, data keys only, a
// literal value winning over valueFrom.
func TestConfigError(t *testing.T) {
	yes := true
	l := Lookup{
		ConfigMap: func(n string) *corev1.ConfigMap {
			if n != "cfg" {
				return nil
			}
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}, Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"bin": {1}}}
		},
		Secret: func(n string) *corev1.Secret {
			if n != "sec" {
				return nil
			}
			return &corev1.Secret{Data: map[string][]byte{"p": []byte("x")}}
		},
	}
	cm := func(name, key string, opt *bool) corev1.EnvVar {
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: opt}}}
	}
	sec := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	for name, tc := range map[string]struct {
		c    corev1.Container
		want string
		refs bool
	}{
		"present":          {corev1.Container{Env: []corev1.EnvVar{cm("cfg", "a", nil), sec("sec", "p")}}, "", true},
		"missing key":      {corev1.Container{Env: []corev1.EnvVar{cm("cfg", "A", nil)}}, "couldn't find key A in ConfigMap ns/cfg", true},
		"binary key":       {corev1.Container{Env: []corev1.EnvVar{cm("cfg", "bin", nil)}}, "couldn't find key bin in ConfigMap ns/cfg", true},
		"optional key":     {corev1.Container{Env: []corev1.EnvVar{cm("cfg", "A", &yes)}}, "", false},
		"optional missing": {corev1.Container{Env: []corev1.EnvVar{cm("gone", "a", &yes)}}, "", false},
		"missing cm":       {corev1.Container{Env: []corev1.EnvVar{cm("gone", "a", nil)}}, `configmap "gone" not found`, true},
		"secret key":       {corev1.Container{Env: []corev1.EnvVar{sec("sec", "q")}}, "couldn't find key q in Secret ns/sec", true},
		"missing secret":   {corev1.Container{Env: []corev1.EnvVar{sec("gone", "q")}}, `secret "gone" not found`, true},
		"value wins":       {corev1.Container{Env: []corev1.EnvVar{{Name: "V", Value: "x", ValueFrom: cm("gone", "a", nil).ValueFrom}}}, "", false},
		"envFrom first": {corev1.Container{
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}},
			Env:     []corev1.EnvVar{cm("gone", "a", nil)},
		}, `secret "gone" not found`, true},
		"envFrom optional": {corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: &yes}}}}, "", false},
	} {
		if got := ConfigError("ns", &tc.c, l); got != tc.want {
			t.Errorf("%s: ConfigError = %q, want %q", name, got, tc.want)
		}
		if got := HasRefs(&tc.c); got != tc.refs {
			t.Errorf("%s: HasRefs = %v, want %v", name, got, tc.refs)
		}
	}
}
