package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"

	"context"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

func init() {
	registerCheckKind("rolloutComplete", func() CheckKind { return &RolloutComplete{} })
}

// RolloutComplete holds when the deployment's rollout has finished, as
// 'kubectl rollout status' decides it.
type RolloutComplete labfile.WorkloadRef

func (c *RolloutComplete) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
}

// reads: the ReplicaSets and pods tell a rollout that cannot finish (its
// new pods cannot pull their image) from one still under way.
func (c *RolloutComplete) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR)
}

func (c *RolloutComplete) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return rolloutComplete(ctx, snap, ns, labfile.WorkloadRef(*c))
}

// rolloutComplete makes the decision 'kubectl rollout status' makes
// (k8s.io/kubectl/pkg/polymorphichelpers DeploymentStatusViewer), so a lab
// agrees with what the learner sees in the terminal.
func rolloutComplete(ctx context.Context, snap clustercache.Snapshot, ns string, ref labfile.WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	waiting, timedOut := rolloutWaiting(d)
	switch {
	case timedOut != "":
		return failed(timedOut)
	case waiting == "":
		return passed()
	case d.Spec.Paused:
		// A paused deployment never finishes by itself; waiting longer
		// would not help the learner.
		return failed(fmt.Sprintf("deployment %s is paused with its rollout unfinished (%s): resume it with kubectl rollout resume deployment/%s",
			d.Name, waiting, d.Name))
	}
	if rs, out := refusedReplicaSet(ctx, snap, ns, d); out != nil {
		return *out
	} else if rs != "" {
		return failed(fmt.Sprintf("deployment %s: the API server refuses the pods of its ReplicaSet %s, so the rollout cannot finish until what refuses them changes; kubectl describe replicaset %s says why",
			d.Name, rs, rs))
	}
	if msg, out := cannotPull(ctx, snap, ns, d); out != nil {
		return *out
	} else if msg != "" {
		return failed(fmt.Sprintf("deployment %s: %s, so the rollout cannot finish, however long you wait; the pod's events (kubectl describe pod) say why",
			d.Name, msg))
	}
	return settling(fmt.Sprintf("deployment %s: %s; the rollout is still in progress", d.Name, waiting))
}

// pullFailures are the reasons the kubelet gives a container it cannot
// get the image of; waiting on them does not help, as a wrong name or tag
// never appears by itself.
var pullFailures = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true}

// cannotPull says which pod of the deployment's current template cannot
// pull its image or be scheduled, as soon as the pod's status says so, or
// "". It names no cause: finding it is often the learner's task.
func cannotPull(ctx context.Context, snap clustercache.Snapshot, ns string, d *appsv1.Deployment) (string, *Outcome) {
	_, cur, unreadable := deploymentReplicaSets(ctx, snap, ns, d)
	if unreadable != nil {
		return "", unreadable
	}
	if cur == nil {
		return "", nil
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, kube.PodsGVR, ns)
	if unreadable != nil {
		return "", unreadable
	}
	for i := range pods {
		p := &pods[i]
		if !kube.OwnedBy(p, "ReplicaSet", cur.Name, cur.UID) {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return fmt.Sprintf("its new pod %s cannot be scheduled: the scheduler finds no node for it", p.Name), nil
			}
		}
		for _, cs := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && pullFailures[w.Reason] {
				return fmt.Sprintf("its new pod %s cannot pull its image (%s)", p.Name, w.Reason), nil
			}
		}
	}
	return "", nil
}

// refusedReplicaSet names the deployment's current ReplicaSet when the
// ReplicaSet controller says it cannot create its pods (its ReplicaFailure
// condition: a LimitRange or quota admission refused them), or "". Such a
// rollout has no pod to schedule: inside a workshop's LimitRange, a pod
// asking for more CPU than any node has is refused before the scheduler
// sees it. It names no cause: finding it is often the learner's task.
func refusedReplicaSet(ctx context.Context, snap clustercache.Snapshot, ns string, d *appsv1.Deployment) (string, *Outcome) {
	_, cur, unreadable := deploymentReplicaSets(ctx, snap, ns, d)
	if unreadable != nil {
		return "", unreadable
	}
	if cur == nil {
		return "", nil
	}
	for _, c := range cur.Status.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return cur.Name, nil
		}
	}
	return "", nil
}

// rolloutWaiting returns why the rollout is not complete yet, or why it
// will not complete.
func rolloutWaiting(d *appsv1.Deployment) (waiting, timedOut string) {
	st := d.Status
	if d.Generation > st.ObservedGeneration {
		return fmt.Sprintf("the deployment controller has not yet seen the latest change (generation %d, observed %d)", d.Generation, st.ObservedGeneration), ""
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			msg := fmt.Sprintf("deployment %s exceeded its progress deadline: its new pods did not become available in time", d.Name)
			if c.Message != "" {
				msg += " (" + strings.TrimSuffix(c.Message, ".") + ")"
			}
			return "", msg + fmt.Sprintf("; look at kubectl describe deployment/%s and the events of its pods", d.Name)
		}
	}
	switch {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated", st.UpdatedReplicas, *d.Spec.Replicas), ""
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas are pending termination", st.Replicas-st.UpdatedReplicas), ""
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas are available", st.AvailableReplicas, st.UpdatedReplicas), ""
	}
	return "", ""
}
