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
	registerCheckKind("nodeLabelled", func() CheckKind { return &NodeLabelled{} })
}

// NodeLabelled asks for a label on nodes of a role.
type NodeLabelled struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
	// Role is "worker" (default), "control-plane" or "any".
	Role string `yaml:"role"`
	// Only requires that no node outside the role has the label.
	Only bool `yaml:"only"`
}

// LiveOnly: this check grades what happened, not the objects as they are.
func (c *NodeLabelled) LiveOnly() string {
	return "a node labelled, which is outside the lab namespace"
}

func (c *NodeLabelled) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	if c.Key == "" {
		v.Add(node, "%s: nodeLabelled needs a key", what)
	}
	switch c.Role {
	case "", "worker", "control-plane", "any":
	default:
		v.Add(node, "%s: role %q must be worker, control-plane or any", what, c.Role)
	}
}

func (c *NodeLabelled) reads(string) []clustercache.Key {
	return []clustercache.Key{{Resource: kube.NodesGVR}}
}

func (c *NodeLabelled) evaluate(ctx context.Context, snap clustercache.Snapshot, _ string) Outcome {
	return nodeLabelled(ctx, snap, *c)
}

// nodeLabelled holds when a node of the role has the label and, with
// Only, no other node has it.
func nodeLabelled(ctx context.Context, snap clustercache.Snapshot, spec NodeLabelled) Outcome {
	role := spec.Role
	if role == "" {
		role = "worker"
	}
	switch {
	case spec.Key == "":
		return Outcome{Status: Error, Messages: []string{"nodeLabelled needs a key"}}
	case role != "worker" && role != "control-plane" && role != "any":
		return Outcome{Status: Error, Messages: []string{fmt.Sprintf("nodeLabelled role %q must be worker, control-plane or any", spec.Role)}}
	}
	nodes, unreadable := listTyped[corev1.Node](ctx, snap, kube.NodesGVR, "")
	if unreadable != nil {
		return *unreadable
	}
	slices.SortFunc(nodes, func(a, b corev1.Node) int { return strings.Compare(a.Name, b.Name) })

	label := spec.Key
	if spec.Value != "" {
		label += "=" + spec.Value
	}
	has := func(n *corev1.Node) bool {
		v, ok := n.Labels[spec.Key]
		return ok && (spec.Value == "" || v == spec.Value)
	}
	ofRole := "node"
	if role != "any" {
		ofRole = role + " node"
	}
	example := spec.Key + "=" + spec.Value
	if spec.Value == "" {
		example = spec.Key + "=<value>"
	}

	var inRole, found, wrongValue, outsideWith []*corev1.Node
	for i := range nodes {
		n := &nodes[i]
		if role == "any" || kube.NodeRole(n) == role {
			inRole = append(inRole, n)
			if has(n) {
				found = append(found, n)
			} else if _, ok := n.Labels[spec.Key]; ok {
				wrongValue = append(wrongValue, n)
			}
			continue
		}
		if has(n) {
			outsideWith = append(outsideWith, n)
		}
	}
	if len(inRole) == 0 {
		return failed(fmt.Sprintf("the cluster has no %ss to label", ofRole))
	}

	var msgs []string
	if len(found) == 0 {
		switch {
		case len(wrongValue) > 0:
			n := wrongValue[0]
			msgs = append(msgs, fmt.Sprintf("no %s has the label %s: %s %s has %s=%s instead (label values are case-sensitive); change it with kubectl label node %s %s --overwrite",
				ofRole, label, ofRole, n.Name, spec.Key, n.Labels[spec.Key], n.Name, example))
		case len(outsideWith) > 0:
			n := outsideWith[0]
			msg := fmt.Sprintf("no %s has the label %s; only the %s node %s has it: label a %s with kubectl label node %s %s",
				ofRole, label, kube.NodeRole(n), n.Name, ofRole, inRole[0].Name, example)
			if spec.Only {
				msg += fmt.Sprintf(", and remove it from %s with kubectl label node %s %s-", n.Name, n.Name, spec.Key)
				outsideWith = outsideWith[1:]
			}
			msgs = append(msgs, msg)
		default:
			msgs = append(msgs, fmt.Sprintf("no %s has the label %s: add it with kubectl label node %s %s", ofRole, label, inRole[0].Name, example))
		}
	}
	if spec.Only {
		for _, n := range outsideWith {
			msgs = append(msgs, fmt.Sprintf("the %s node %s also has %s; label only %ss (remove it with kubectl label node %s %s-)",
				kube.NodeRole(n), n.Name, label, ofRole, n.Name, spec.Key))
		}
	}
	if len(msgs) > 0 {
		return failed(msgs...)
	}
	return passed()
}
