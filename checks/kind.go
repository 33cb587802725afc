package checks

import (
	"context"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

// CheckKind is one sort of check: its settings are decoded and validated
// by labfile when the lab loads, then evaluated here against a snapshot
// of the cluster.
type CheckKind interface {
	labfile.CheckSpec
	// reads lists what evaluate will read, so that a lab's checks list
	// each resource once, concurrently.
	reads(ns string) []clustercache.Key
	// evaluate decides the check; ns is the lab namespace.
	evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome
}

// registerCheckKind is called from each kind's file: the lab file knows
// the kind's key and settings from then on.
func registerCheckKind(key string, newKind func() CheckKind) {
	labfile.RegisterCheckKind(key, func() labfile.CheckSpec { return newKind() })
}

// kindOf is the check's kind, nil for a check that was not validated.
func kindOf(c *labfile.Check) CheckKind {
	k, _ := c.Spec.(CheckKind)
	return k
}

// evaluateCheck runs the check with its own deadline.
func evaluateCheck(ctx context.Context, c *labfile.Check, snap clustercache.Snapshot, ns string) Outcome {
	kind := kindOf(c)
	if kind == nil {
		return Outcome{Status: Error, Messages: []string{"check was not validated; load labs with ParseLab"}}
	}
	ctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	return kind.evaluate(ctx, snap, ns)
}
