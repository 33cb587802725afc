package checks

import (
	corev1 "k8s.io/api/core/v1"

	"context"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("containerEnv", func() CheckKind { return &ContainerEnv{} })
}

// ContainerEnv holds when a container of the deployment's pod template
// gets the environment variable, with one of the values when they are
// given. The value is the one the kubelet would set: a literal value, a
// key of a Secret or ConfigMap (valueFrom), or every key of one (envFrom,
// with its prefix), later definitions overriding earlier ones and env
// overriding envFrom. Any of these is a right way to set it.
type ContainerEnv struct {
	Deployment string `yaml:"deployment"`
	// Variable is the name of the environment variable.
	Variable string `yaml:"variable"`
	// Values the variable may have; any when empty. ${LAB_NAMESPACE}
	// becomes the lab namespace.
	Values []string `yaml:"values"`
	// Message tells the learner what to fix when the variable is missing
	// or has another value.
	Message string `yaml:"message"`
}

func (c *ContainerEnv) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
	if c.Variable == "" {
		v.Add(node, "%s: containerEnv needs the variable's name", what)
	}
	if c.Message == "" {
		v.Add(node, "%s: containerEnv needs a message telling the learner what to fix", what)
	}
}

func (c *ContainerEnv) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.SecretsGVR, kube.ConfigMapsGVR)
}

func (c *ContainerEnv) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	d, out := getDeployment(ctx, snap, ns, c.Deployment)
	if out != nil {
		return *out
	}
	secrets, unreadable := listTyped[corev1.Secret](ctx, snap, kube.SecretsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	cms, unreadable := listTyped[corev1.ConfigMap](ctx, snap, kube.ConfigMapsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	want := make([]string, len(c.Values))
	for i, v := range c.Values {
		want[i] = strings.ReplaceAll(v, labfile.LabNamespacePlaceholder, ns)
	}
	var problems []string
	for _, ctr := range d.Spec.Template.Spec.Containers {
		val, found, problem := effectiveEnv(ctr, c.Variable, secrets, cms)
		switch {
		case problem != "":
			problems = append(problems, fmt.Sprintf("container %s of deployment %s: %s", ctr.Name, d.Name, problem))
		case !found:
		case len(want) == 0 || slices.Contains(want, val):
			return passed()
		default:
			problems = append(problems, fmt.Sprintf("%s (container %s has %s=%s)", c.Message, ctr.Name, c.Variable, val))
		}
	}
	if len(problems) == 0 {
		return failed(c.Message)
	}
	return failed(problems...)
}

// effectiveEnv resolves name in a container's environment the way the
// kubelet does, or says why the container cannot start with it.
func effectiveEnv(c corev1.Container, name string, secrets []corev1.Secret, cms []corev1.ConfigMap) (value string, found bool, problem string) {
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := findNamed(cms, from.ConfigMapRef.Name)
			if cm == nil {
				if from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional {
					problem = fmt.Sprintf("envFrom names ConfigMap %s, which does not exist", from.ConfigMapRef.Name)
				}
				continue
			}
			for k, v := range cm.Data {
				if from.Prefix+k == name {
					value, found = v, true
				}
			}
		case from.SecretRef != nil:
			s := findNamed(secrets, from.SecretRef.Name)
			if s == nil {
				if from.SecretRef.Optional == nil || !*from.SecretRef.Optional {
					problem = fmt.Sprintf("envFrom names Secret %s, which does not exist", from.SecretRef.Name)
				}
				continue
			}
			for k, v := range secretData(s) {
				if from.Prefix+k == name {
					value, found = v, true
				}
			}
		}
	}
	// A missing envFrom source stops the container whatever env says; a
	// later env entry replaces an earlier one's problem with its own.
	envProblem := ""
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		switch vf := e.ValueFrom; {
		case vf == nil:
			value, found, envProblem = e.Value, true, ""
		case vf.SecretKeyRef != nil:
			ref := vf.SecretKeyRef
			s := findNamed(secrets, ref.Name)
			v, ok := "", false
			if s != nil {
				v, ok = secretData(s)[ref.Key]
			}
			switch {
			case ok:
				value, found, envProblem = v, true, ""
			case ref.Optional != nil && *ref.Optional:
			case s == nil:
				envProblem = fmt.Sprintf("%s comes from Secret %s, which does not exist", name, ref.Name)
			default:
				envProblem = fmt.Sprintf("%s comes from key %s of Secret %s, which has no such key", name, ref.Key, ref.Name)
			}
		case vf.ConfigMapKeyRef != nil:
			ref := vf.ConfigMapKeyRef
			cm := findNamed(cms, ref.Name)
			v, ok := "", false
			if cm != nil {
				v, ok = cm.Data[ref.Key]
			}
			switch {
			case ok:
				value, found, envProblem = v, true, ""
			case ref.Optional != nil && *ref.Optional:
			case cm == nil:
				envProblem = fmt.Sprintf("%s comes from ConfigMap %s, which does not exist", name, ref.Name)
			default:
				envProblem = fmt.Sprintf("%s comes from key %s of ConfigMap %s, which has no such key", name, ref.Key, ref.Name)
			}
		default:
			// A field or resource reference: set, to a value only the
			// running pod knows.
			value, found, envProblem = "", true, ""
		}
	}
	if problem == "" {
		problem = envProblem
	}
	return value, found, problem
}

// secretData is a Secret's values as text; stringData is folded into data
// by the API server, but a fixture may carry either.
func secretData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}
