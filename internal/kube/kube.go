// Package kube holds the Kubernetes facts k8slab reads the same way
// everywhere: whether a pod is ready, which role a node plays, which
// revision a ReplicaSet is, and what an API error means for a learner. The
// checks, the cluster map and 'cluster status' all ask here, so they cannot
// disagree.
package kube

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Labels and annotations that controllers and kubectl maintain.
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	LastAppliedAnnotation     = "kubectl.kubernetes.io/last-applied-configuration"
	ServiceNameLabel          = "kubernetes.io/service-name"
	ControlPlaneRoleLabel     = "node-role.kubernetes.io/control-plane"
	// LegacyMasterRoleLabel is what clusters before 1.24 put on control
	// plane nodes; some installers still add it.
	LegacyMasterRoleLabel = "node-role.kubernetes.io/master"
	roleLabelPrefix       = "node-role.kubernetes.io/"
)

// PodActive is a pod that is neither finished nor on its way out: the ones
// a Service can still route to.
func PodActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// PodReady is an active pod whose Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	if !PodActive(p) {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// NodeReady reports the node's Ready condition.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// NodeSettled reports whether n is Ready and the node lifecycle
// controller has taken away the not-ready and unreachable taints it puts on
// a node that is not: until then the scheduler places no ordinary pod there,
// so a cluster that has just come up is not yet ready for a lab.
func NodeSettled(n *corev1.Node) bool {
	if !NodeReady(n) {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	return true
}

// ControlPlane reports whether n runs the control plane, by the current
// role label or the legacy one.
func ControlPlane(n *corev1.Node) bool {
	_, cp := n.Labels[ControlPlaneRoleLabel]
	_, master := n.Labels[LegacyMasterRoleLabel]
	return cp || master
}

// NodeRole is "control-plane" or "worker", the two roles labs talk about.
func NodeRole(n *corev1.Node) string {
	if ControlPlane(n) {
		return "control-plane"
	}
	return "worker"
}

// NodeRoles lists every node-role.kubernetes.io/ label, as kubectl's ROLES
// column does.
func NodeRoles(n *corev1.Node) []string {
	var roles []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, roleLabelPrefix); ok && r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

// Revision is the number the deployment controller gives a ReplicaSet (or
// a Deployment); 0 when it has none.
func Revision(obj metav1.Object) int64 {
	n, err := strconv.ParseInt(obj.GetAnnotations()[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// OwnedBy reports whether obj is controlled by the object of kind, name and
// uid. Matching on UID keeps objects left over from a deleted owner of the
// same name out; objects without a UID (hand-written fixtures) fall back to
// the name.
func OwnedBy(obj metav1.Object, kind, name string, uid types.UID) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.Kind != kind {
			continue
		}
		if uid != "" && o.UID != "" {
			if o.UID == uid {
				return true
			}
			continue
		}
		if o.Name == name {
			return true
		}
	}
	return false
}

// ReplicaSetOf is the name of the ReplicaSet that owns the pod, or "".
func ReplicaSetOf(p *corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		if o.Kind == "ReplicaSet" {
			return o.Name
		}
	}
	return ""
}

// NewestReplicaSet returns the ReplicaSet of d with the highest revision,
// or nil when d has none.
func NewestReplicaSet(d *appsv1.Deployment, rss []appsv1.ReplicaSet) *appsv1.ReplicaSet {
	var best *appsv1.ReplicaSet
	for i := range rss {
		rs := &rss[i]
		if !OwnedBy(rs, "Deployment", d.Name, d.UID) {
			continue
		}
		if best == nil || Revision(rs) > Revision(best) {
			best = rs
		}
	}
	return best
}

// PodLabels shows a pod's labels without the hash a Deployment adds, so a
// learner can compare them with what they wrote.
func PodLabels(l map[string]string) string {
	m := labels.Set{}
	for k, v := range l {
		if k != appsv1.DefaultDeploymentUniqueLabelKey {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return "no labels"
	}
	return m.String()
}

// Failure is what an API error means for the person who met it.
type Failure int

const (
	// Other is any error the categories below do not cover.
	Other Failure = iota
	// Forbidden: authenticated, but RBAC says no.
	Forbidden
	// Unauthorized: the credentials were rejected.
	Unauthorized
	// NotFound: the object or resource does not exist.
	NotFound
	// Timeout: the server took too long (or the client gave up).
	Timeout
	// Unreachable: no server answered at the address.
	Unreachable
)

// Classify sorts an error from an API call into a Failure.
func Classify(err error) Failure {
	if err == nil {
		return Other
	}
	var netErr net.Error
	msg := err.Error()
	switch {
	case apierrors.IsForbidden(err):
		return Forbidden
	case apierrors.IsUnauthorized(err):
		return Unauthorized
	case apierrors.IsNotFound(err):
		return NotFound
	case errors.Is(err, context.DeadlineExceeded), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err),
		strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "deadline exceeded"):
		return Timeout
	case errors.As(err, &netErr), strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"),
		apierrors.IsServiceUnavailable(err):
		return Unreachable
	}
	return Other
}

// Reason is the server's own message for an API error, without client-go's
// wrapping; the error text for anything else.
func Reason(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}
