package checks

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"context"
	"fmt"

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

// LiveOnly: this check grades what happened, not the objects as they are.
func (c *RolledBack) LiveOnly() string {
	return "a rollback, which only the live cluster's revision history shows"
}

func (c *RolledBack) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
}

func (c *RolledBack) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR)
}

// The engine finds managedFields readers by a type assertion; this keeps
// a changed signature from silently dropping the ReplicaSets' ones.
var _ managedFieldsReader = (*RolledBack)(nil)

// readsManagedFields: who wrote a ReplicaSet's revision-history annotation
// tells the deployment controller's record from a learner's claim.
func (c *RolledBack) readsManagedFields(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.ReplicaSetsGVR)
}

func (c *RolledBack) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return rolledBack(ctx, snap, ns, labfile.WorkloadRef(*c))
}

// controllerManager is the field manager of every write the
// kube-controller-manager's controllers make.
const controllerManager = "kube-controller-manager"

// rolledBack holds when the deployment runs a template it ran before,
// judged from what only the API server and the deployment controller
// write. The API server stamps each ReplicaSet's creation, so a current
// ReplicaSet older than another template's ReplicaSet means the deployment
// left its template and came back to it ('kubectl rollout undo', or
// applying an old manifest). Creation times have one-second resolution,
// and a return to the newer of two templates leaves no trace in them; then
// the revision-history annotation decides, but only as the deployment
// controller wrote it when it renumbered the ReplicaSet: anyone can
// 'kubectl annotate' a ReplicaSet, and that is a claim, not a rollback.
func rolledBack(ctx context.Context, snap clustercache.Snapshot, ns string, ref labfile.WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	owned, cur, unreadable := deploymentReplicaSets(ctx, snap, ns, d)
	if unreadable != nil {
		return *unreadable
	}
	switch {
	case len(owned) == 0:
		return settling(fmt.Sprintf("deployment %s has no ReplicaSets yet; wait a moment for the deployment controller", d.Name))
	case cur == nil && d.Spec.Paused:
		return failed(fmt.Sprintf("deployment %s is paused, so its current template has no ReplicaSet yet: resume it with kubectl rollout resume deployment/%s", d.Name, d.Name))
	case cur == nil:
		return settling(fmt.Sprintf("deployment %s's current template has no ReplicaSet yet; wait a moment for the deployment controller", d.Name))
	}
	created := cur.CreationTimestamp.Unix()
	later := false
	for i := range owned {
		rs := &owned[i]
		if !equalIgnoreHash(&rs.Spec.Template, &cur.Spec.Template) && rs.CreationTimestamp.Unix() > created {
			later = true
		}
	}
	rev, top := kube.Revision(cur), kube.Revision(&owned[0])
	var claimedBy *write
	byController := false
	for _, w := range fieldWriters(cur, "f:metadata", "f:annotations", "f:"+kube.RevisionHistoryAnnotation) {
		if w.manager == controllerManager && w.operation == metav1.ManagedFieldsOperationUpdate {
			byController = true
		} else if claimedBy == nil {
			claimedBy = &w
		}
	}
	switch {
	case later && rev < top:
		// The template is an earlier one, but the controller has not
		// renumbered its ReplicaSet yet: a rollback in progress.
		return settling(fmt.Sprintf("deployment %s's template is that of revision %d, but the deployment controller has not made it the current revision (%d is) yet; wait a moment",
			d.Name, rev, top))
	case later, byController && claimedBy == nil:
		return passed()
	case claimedBy != nil:
		return failed(fmt.Sprintf("replicaset %s's annotation %s was written by %s, not by the deployment controller: an annotation does not roll anything back; roll back with kubectl rollout undo deployment/%s",
			cur.Name, kube.RevisionHistoryAnnotation, quoted(claimedBy.command()), d.Name))
	case len(owned) == 1 || rev <= 1:
		return failed(fmt.Sprintf("deployment %s is at revision %d, its first: change it (for example with kubectl set image) before rolling back", d.Name, rev))
	}
	return failed(fmt.Sprintf("deployment %s is at revision %d, which is a new template, not an earlier one: roll back with kubectl rollout undo deployment/%s",
		d.Name, rev, d.Name))
}
