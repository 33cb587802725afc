package checks

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("podsPlaced", func() CheckKind { return &PodsPlaced{} })
}

// PodsPlaced holds when every running pod of a deployment was bound by
// the scheduler to a node of the kind asked for: one carrying a label, or
// of a role. The evidence is the pods' spec.nodeName, which only a
// binding sets, and the nodes' labels as they are now; a pod the
// scheduler cannot place is explained with the scheduler's own message
// from its PodScheduled condition.
type PodsPlaced struct {
	Deployment string `yaml:"deployment"`
	// NodeLabel is "key=value" (or "key") that each pod's node must carry.
	NodeLabel string `yaml:"nodeLabel"`
	// Role is "worker" or "control-plane": each pod's node must have it.
	Role string `yaml:"role"`
}

func (c *PodsPlaced) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
	switch c.Role {
	case "", "worker", "control-plane":
	default:
		v.Add(node, "%s: role %q must be worker or control-plane", what, c.Role)
	}
	if c.NodeLabel == "" && c.Role == "" {
		v.Add(node, "%s: podsPlaced needs nodeLabel, role or both", what)
	}
	if c.NodeLabel != "" {
		if _, err := labels.Parse(c.NodeLabel); err != nil {
			v.Add(node, "%s: nodeLabel %q: %v", what, c.NodeLabel, err)
		}
	}
}

func (c *PodsPlaced) reads(ns string) []clustercache.Key {
	return append(inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR), clustercache.Key{Resource: kube.NodesGVR})
}

func (c *PodsPlaced) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return podsPlaced(ctx, snap, ns, *c)
}

func podsPlaced(ctx context.Context, snap clustercache.Snapshot, ns string, spec PodsPlaced) Outcome {
	want, err := labels.Parse(spec.NodeLabel)
	if err != nil {
		return Outcome{Status: Error, Messages: []string{fmt.Sprintf("nodeLabel %q: %v", spec.NodeLabel, err)}}
	}
	d, rss, pods, out := getDeploymentPods(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	nodes, unreadable := listTyped[corev1.Node](ctx, snap, kube.NodesGVR, "")
	if unreadable != nil {
		return *unreadable
	}
	running, cur, out := runningPodsOf(d, rss, pods)
	if out != nil {
		return *out
	}
	what := placeWanted(spec)
	var msgs []string
	wait := true // every failure is one the controllers are still fixing
	for _, p := range running {
		old := cur != nil && p.rs.UID != cur.UID
		if p.Spec.NodeName == "" {
			reason, message := unscheduled(p.Pod)
			if reason == "" {
				msgs = append(msgs, fmt.Sprintf("pod %s has not been placed on a node yet", p.Name))
				continue
			}
			wait = wait && old
			msgs = append(msgs, fmt.Sprintf("pod %s is Pending: the scheduler found no node for it (%s: %s); kubectl describe pod %s shows the same under Events",
				p.Name, reason, strings.TrimSpace(message), p.Name))
			continue
		}
		n := findNamed(nodes, p.Spec.NodeName)
		if n == nil {
			wait = false
			msgs = append(msgs, fmt.Sprintf("pod %s runs on node %s, which no longer exists", p.Name, p.Spec.NodeName))
			continue
		}
		if problem := placedWrong(n, spec, want); problem != "" {
			wait = wait && old
			msgs = append(msgs, fmt.Sprintf("pod %s runs on node %s, %s; the task wants every pod on %s", p.Name, n.Name, problem, what))
		}
	}
	switch {
	case len(running) == 0:
		return settling(fmt.Sprintf("deployment %s has no running pods yet", d.Name))
	case len(msgs) == 0:
		return passed()
	case wait:
		return settling(msgs...)
	}
	return failed(msgs...)
}

// unscheduled returns the reason and message of a pod's PodScheduled
// condition when the scheduler has reported that it cannot place it.
func unscheduled(p *corev1.Pod) (reason, message string) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return c.Reason, c.Message
		}
	}
	return "", ""
}

// placedWrong says what is wrong with node n for spec, or "".
func placedWrong(n *corev1.Node, spec PodsPlaced, want labels.Selector) string {
	var probs []string
	if spec.Role != "" && kube.NodeRole(n) != spec.Role {
		probs = append(probs, "a "+kube.NodeRole(n)+" node")
	}
	if spec.NodeLabel != "" && !want.Matches(labels.Set(n.Labels)) {
		probs = append(probs, "which does not have the label "+spec.NodeLabel)
	}
	return strings.Join(probs, " ")
}

// placeWanted names the nodes spec asks for.
func placeWanted(spec PodsPlaced) string {
	switch {
	case spec.Role != "" && spec.NodeLabel != "":
		return "a " + spec.Role + " node with the label " + spec.NodeLabel
	case spec.Role != "":
		return "a " + spec.Role + " node"
	}
	return "a node with the label " + spec.NodeLabel
}
