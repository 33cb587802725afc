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

// reads: the ReplicaSets, pods and the kubelet's events tell a rollout
// that cannot finish (its new pods cannot pull their image, keep
// crashing, fail their readiness probe) from one still under way.
func (c *RolloutComplete) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR, kube.EventsGVR)
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
	if msg, out := stuckPod(ctx, snap, ns, d); out != nil {
		return *out
	} else if msg != "" {
		return failed(fmt.Sprintf("deployment %s: %s", d.Name, msg))
	}
	return settling(fmt.Sprintf("deployment %s: %s; the rollout is still in progress", d.Name, waiting))
}

// pullFailures are the reasons the kubelet gives a container it cannot
// get the image of; waiting on them does not help, as a wrong name or tag
// never appears by itself.
var pullFailures = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true}

// createFailures are the reasons the kubelet gives a container it cannot
// create or start (pkg/kubelet/container: ErrCreateContainerConfig,
// ErrCreateContainer, ErrRunContainer): a missing key or object, a bad
// command. They last until what the pod refers to, or the pod, changes.
var createFailures = map[string]bool{"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true}

// stuckPod says why a pod of the deployment's current template cannot
// become ready, as soon as what the scheduler or the kubelet wrote shows
// it (its conditions, its containers' states, the kubelet's Unhealthy
// event for a readiness probe), or "" while it may still get there. It
// names no cause beyond what 'kubectl get pods' and the pod's events
// show: finding it is often the learner's task.
func stuckPod(ctx context.Context, snap clustercache.Snapshot, ns string, d *appsv1.Deployment) (string, *Outcome) {
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
	var unready []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if !kube.OwnedBy(p, "ReplicaSet", cur.Name, cur.UID) || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return fmt.Sprintf("its new pod %s cannot be scheduled: the scheduler finds no node for it, so the rollout cannot finish, however long you wait; the pod's events (kubectl describe pod %s) say why", p.Name, p.Name), nil
			}
		}
		running := false
		for _, cs := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
			w := cs.State.Waiting
			switch {
			case w != nil && pullFailures[w.Reason]:
				return fmt.Sprintf("its new pod %s cannot pull its image (%s), so the rollout cannot finish, however long you wait; the pod's events (kubectl describe pod %s) say why", p.Name, w.Reason, p.Name), nil
			case w != nil && w.Reason == "CrashLoopBackOff":
				return fmt.Sprintf("its new pod %s keeps crashing (CrashLoopBackOff), so the rollout cannot finish, however long you wait; kubectl describe pod %s shows how its container last ended, kubectl logs %s --previous what it printed", p.Name, p.Name, p.Name), nil
			case w != nil && createFailures[w.Reason]:
				return fmt.Sprintf("the kubelet cannot create the container of its new pod %s (%s), so the rollout cannot finish until what the pod refers to changes; kubectl describe pod %s says why", p.Name, w.Reason, p.Name), nil
			case cs.State.Running != nil && !cs.Ready:
				running = true
			}
		}
		if running && !kube.PodReady(p) {
			unready = append(unready, p)
		}
	}
	if len(unready) == 0 {
		return "", nil
	}
	// A readiness probe may fail while a container starts; the kubelet's
	// Unhealthy event is the evidence that it has failed, which the pod's
	// status does not keep.
	events, unreadable := listTyped[corev1.Event](ctx, snap, kube.EventsGVR, ns)
	if unreadable != nil {
		return "", unreadable
	}
	for _, p := range unready {
		for i := range events {
			e := &events[i]
			if e.Reason == "Unhealthy" && e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == p.Name &&
				(e.InvolvedObject.UID == "" || e.InvolvedObject.UID == p.UID) && strings.HasPrefix(e.Message, "Readiness probe") {
				return fmt.Sprintf("its new pod %s runs but fails its readiness probe, so the rollout waits for a pod that is not ready, which waiting fixes only while the container is still starting; kubectl describe pod %s shows the probe and the kubelet's Unhealthy events", p.Name, p.Name), nil
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
