package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/resourceversion"

	"context"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("startedAfter", func() CheckKind { return &StartedAfter{} })
}

// StartedAfter holds when every running pod of a deployment was created
// after the last change to a ConfigMap or Secret: a container reads its
// environment once, when it starts, so only such pods can hold the
// current values. The evidence is what the API server writes, the pods'
// creation times and the time of the object's last write in its
// managedFields, never an annotation the learner could set.
type StartedAfter struct {
	Deployment string `yaml:"deployment"`
	ConfigMap  string `yaml:"configMap"`
	Secret     string `yaml:"secret"`
}

func (c *StartedAfter) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
	if (c.ConfigMap == "") == (c.Secret == "") {
		v.Add(node, "%s: startedAfter needs exactly one of configMap or secret", what)
	}
}

// source is the kind, resource and name of the object the pods must be
// newer than.
func (c *StartedAfter) source() (kind string, res clustercache.Key) {
	if c.Secret != "" {
		return "secret", clustercache.Key{Resource: kube.SecretsGVR}
	}
	return "configmap", clustercache.Key{Resource: kube.ConfigMapsGVR}
}

func (c *StartedAfter) reads(ns string) []clustercache.Key {
	_, src := c.source()
	src.Namespace = ns
	return []clustercache.Key{{Resource: kube.DeploymentsGVR, Namespace: ns}, {Resource: kube.ReplicaSetsGVR, Namespace: ns}, {Resource: kube.PodsGVR, Namespace: ns}, src}
}

// readsManagedFields: the object's last change is dated by its
// managedFields.
func (c *StartedAfter) readsManagedFields(ns string) []clustercache.Key {
	_, src := c.source()
	src.Namespace = ns
	return []clustercache.Key{src}
}

func (c *StartedAfter) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return startedAfter(ctx, snap, ns, *c)
}

func startedAfter(ctx context.Context, snap clustercache.Snapshot, ns string, spec StartedAfter) Outcome {
	kind, src := spec.source()
	src.Namespace = ns
	name := spec.ConfigMap
	if spec.Secret != "" {
		name = spec.Secret
	}
	d, out := getDeployment(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	objs, unreadable := listKeyTyped[metav1.PartialObjectMetadata](ctx, snap, src)
	if unreadable != nil {
		return *unreadable
	}
	obj := findNamed(objs, name)
	if obj == nil {
		return missing("%s %s%s not found", kind, name, inNamespace(ns))
	}
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, kube.ReplicaSetsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, kube.PodsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	running, cur, out := runningPodsOf(d, rss, pods)
	if out != nil {
		return *out
	}
	changed := lastSpecWrite(obj)
	var stale []string
	// staleCurrent: a stale pod runs the current template, so no rollout
	// will replace it; stale pods of older ReplicaSets are on their way
	// out in a rollout that is already under way.
	staleCurrent := false
	for _, p := range running {
		if startedBefore(p.Pod, changed, obj.ResourceVersion) {
			stale = append(stale, p.Name)
			if cur == nil || kube.OwnedBy(p.Pod, "ReplicaSet", cur.Name, cur.UID) {
				staleCurrent = true
			}
		}
	}
	switch {
	case len(running) == 0:
		return settling(fmt.Sprintf("deployment %s has no running pods yet", d.Name))
	case len(stale) == 0:
		return passed()
	case !staleCurrent:
		return settling(fmt.Sprintf("deployment %s is replacing %s %s, which started before %s %s last changed",
			d.Name, plural(len(stale), "pod", "pods"), nameList(stale), kind, name))
	}
	n := len(stale)
	return failed(fmt.Sprintf("%s %s of deployment %s started before %s %s last changed (at %s UTC), so %s still %s the old values in %s environment: replace %s with kubectl rollout restart deployment %s",
		plural(n, "pod", "pods"), nameList(stale), d.Name, kind, name, changed.UTC().Format(time.TimeOnly),
		plural(n, "it", "they"), plural(n, "has", "have"), plural(n, "its", "their"), plural(n, "it", "them"), d.Name))
}

// startedBefore reports whether pod p was created before a change made at
// changed that left the object at resourceVersion rv. Times have
// one-second resolution, so within the same second the resource versions
// decide: one etcd numbers every write in order, and a pod whose latest
// write is older than the change was certainly created before it. A pod
// written since in that same second counts as newer; a learner who
// restarts right after a change is what that second usually holds.
func startedBefore(p *corev1.Pod, changed time.Time, rv string) bool {
	created := p.CreationTimestamp.Time
	if !created.Equal(changed) {
		return created.Before(changed)
	}
	c, err := resourceversion.CompareResourceVersion(p.ResourceVersion, rv)
	return err == nil && c < 0
}
