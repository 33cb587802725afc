package checks

import (
	appsv1 "k8s.io/api/apps/v1"

	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("rolledBack", func() CheckKind { return &RolledBack{} })
}

// RolledBack holds when the deployment's current template is an earlier
// revision's, brought back with a new revision number.
type RolledBack labfile.WorkloadRef

func (c *RolledBack) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
}

func (c *RolledBack) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR)
}

func (c *RolledBack) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return rolledBack(ctx, snap, ns, labfile.WorkloadRef(*c))
}

// rolledBack holds when the deployment runs a template it ran before under
// an earlier revision. The deployment controller, on finding an existing
// ReplicaSet for the template (which 'kubectl rollout undo' or applying an
// old manifest brings about), gives it the next revision number and keeps
// its old numbers in the revision-history annotation.
func rolledBack(ctx context.Context, snap clustercache.Snapshot, ns string, ref labfile.WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, kube.ReplicaSetsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	owned, cur := replicaSetsOf(d, rss)
	switch {
	case len(owned) == 0:
		return settling(fmt.Sprintf("deployment %s has no ReplicaSets yet; wait a moment for the deployment controller", d.Name))
	case cur == nil && d.Spec.Paused:
		return failed(fmt.Sprintf("deployment %s is paused, so its current template has no ReplicaSet yet: resume it with kubectl rollout resume deployment/%s", d.Name, d.Name))
	case cur == nil:
		return settling(fmt.Sprintf("deployment %s's current template has no ReplicaSet yet; wait a moment for the deployment controller", d.Name))
	}
	rev, top := kube.Revision(cur), kube.Revision(&owned[0])
	if rev < top {
		// The template is an earlier one, but the controller has not
		// renumbered its ReplicaSet yet: a rollback in progress.
		return settling(fmt.Sprintf("deployment %s's template is that of revision %d, but the deployment controller has not made it the current revision (%d is) yet; wait a moment",
			d.Name, rev, top))
	}
	if strings.TrimSpace(cur.Annotations[kube.RevisionHistoryAnnotation]) != "" {
		return passed()
	}
	for i := range owned {
		rs := &owned[i]
		if rs.Name != cur.Name && kube.Revision(rs) < rev && equalIgnoreHash(&rs.Spec.Template, &cur.Spec.Template) {
			return passed()
		}
	}
	if len(owned) == 1 || rev <= 1 {
		return failed(fmt.Sprintf("deployment %s is at revision %d, its first: change it (for example with kubectl set image) before rolling back", d.Name, rev))
	}
	return failed(fmt.Sprintf("deployment %s is at revision %d, which is a new template, not an earlier one: roll back with kubectl rollout undo deployment/%s",
		d.Name, rev, d.Name))
}
