package checks

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/k8slab/k8slab/labfile"
)

// Every way Kubernetes sets a variable is a right way to set it: a
// literal, a key of a Secret or ConfigMap, or all keys of one (#19 found
// envFrom and secretKeyRef refused).
func TestContainerEnvResolvesAsTheKubeletDoes(t *testing.T) {
	withEnv := func(env []corev1.EnvVar, from ...corev1.EnvFromSource) *appsv1.Deployment {
		return deployment("backend", 1, func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Env = env
			d.Spec.Template.Spec.Containers[0].EnvFrom = from
		})
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: testNS}, Data: map[string][]byte{"host": []byte("db"), "DB_HOST": []byte("db")}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: testNS}, Data: map[string]string{"host": "db", "HOST": "db." + testNS}}
	keyRef := func(s *corev1.SecretKeySelector, c *corev1.ConfigMapKeySelector) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: s, ConfigMapKeyRef: c}
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		status Status
		words  []string
	}{
		{"literal value", []runtime.Object{withEnv([]corev1.EnvVar{{Name: "DB_HOST", Value: "db"}})}, Pass, nil},
		{"from a Secret key", []runtime.Object{secret, withEnv([]corev1.EnvVar{{Name: "DB_HOST", ValueFrom: keyRef(&corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "host"}, nil)}})}, Pass, nil},
		{"from a ConfigMap key", []runtime.Object{cm, withEnv([]corev1.EnvVar{{Name: "DB_HOST", ValueFrom: keyRef(nil, &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "host"})}})}, Pass, nil},
		{"all keys of a Secret", []runtime.Object{secret, withEnv(nil, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}})}, Pass, nil},
		{"all keys of a ConfigMap, with a prefix", []runtime.Object{cm, withEnv(nil, corev1.EnvFromSource{Prefix: "DB_", ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}})}, Pass, nil},
		{"env overrides envFrom", []runtime.Object{secret, withEnv([]corev1.EnvVar{{Name: "DB_HOST", Value: "10.0.0.7"}},
			corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}})},
			Fail, []string{"set DB_HOST to db", "has DB_HOST=10.0.0.7"}},
		{"wrong literal", []runtime.Object{withEnv([]corev1.EnvVar{{Name: "DB_HOST", Value: "postgres"}})}, Fail, []string{"has DB_HOST=postgres"}},
		{"not set", []runtime.Object{withEnv(nil)}, Fail, []string{"set DB_HOST to db"}},
		{"Secret key missing", []runtime.Object{secret, withEnv([]corev1.EnvVar{{Name: "DB_HOST", ValueFrom: keyRef(&corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "hostname"}, nil)}})},
			Fail, []string{"DB_HOST comes from key hostname of Secret db, which has no such key"}},
		{"envFrom a missing ConfigMap", []runtime.Object{withEnv([]corev1.EnvVar{{Name: "DB_HOST", Value: "db"}},
			corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}})},
			Fail, []string{"envFrom names ConfigMap nope, which does not exist"}},
		{"lab namespace in a value", []runtime.Object{cm, withEnv(nil, corev1.EnvFromSource{Prefix: "DB_", ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}})}, Pass, nil},
		{"no deployment", nil, Missing, []string{"deployment backend in namespace " + testNS + " not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &ContainerEnv{Deployment: "backend", Variable: "DB_HOST", Values: []string{"db", "db." + labfile.LabNamespacePlaceholder}, Message: "set DB_HOST to db"}
			if tt.name == "lab namespace in a value" {
				c.Variable = "DB_HOST"
				c.Values = []string{"db." + labfile.LabNamespacePlaceholder}
			}
			expect(t, c.evaluate(context.Background(), snapshotOf(t, tt.objs...), testNS), tt.status, tt.words...)
		})
	}
}
