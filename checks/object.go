package checks

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/celexpr"
	"github.com/k8slab/k8slab/internal/source"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("object", func() CheckKind { return &ObjectCheck{} })
}

// ObjectCheck selects objects and asserts CEL expressions on them.
type ObjectCheck struct {
	labfile.Resource `yaml:",inline"`
	// Assert lists CEL expressions; with Name they see `object`, without it
	// `objects` (a list). All must be true.
	Assert []Assertion `yaml:"assert"`
}

// Assertion is one CEL rule with what to tell the learner when it fails,
// shaped like Kubernetes' x-kubernetes-validations.
type Assertion struct {
	Expr string `yaml:"expr"`
	// Message is shown when Expr is false.
	Message string `yaml:"message"`
	// MessageExpression is a CEL expression yielding the message; it wins
	// over Message when it evaluates.
	MessageExpression string `yaml:"messageExpression"`
	// Settling marks an assertion that the cluster makes true by itself
	// once the learner's change has been acted on (ready replicas, say):
	// while only such assertions fail, the task is settling, not wrong.
	Settling bool `yaml:"settling"`

	expr, message *celexpr.Expr
}

func (oc *ObjectCheck) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Resource(&oc.Resource, node, what)
	if len(oc.Assert) == 0 {
		v.Add(node, "%s: object needs at least one assertion under 'assert'", what)
	}
	all, nonEmpty := false, false
	for i := range oc.Assert {
		a := &oc.Assert[i]
		validateAssertion(v, a, source.Item(node, "assert", i), what)
		if a.expr != nil && oc.Name == "" {
			al, ne := a.expr.AllOverObjects()
			all, nonEmpty = all || al, nonEmpty || ne
		}
	}
	// objects.all(...) holds when the selection is empty: with nothing
	// selected nothing was checked, and a learner who deleted everything
	// would pass.
	if all && !nonEmpty {
		v.Add(node, "%s: objects.all(...) holds when nothing is selected; also assert that something is (objects.size() > 0, or objects.exists(...))", what)
	}
}

func (oc *ObjectCheck) reads(ns string) []clustercache.Key {
	return resourceReads(oc.Resource, ns)
}

// readsManagedFields: an assertion that names managedFields reads them.
func (oc *ObjectCheck) readsManagedFields(ns string) []clustercache.Key {
	for _, a := range oc.Assert {
		if mentionsManagedFields(a.Expr) || mentionsManagedFields(a.MessageExpression) {
			return oc.reads(ns)
		}
	}
	return nil
}

func (oc *ObjectCheck) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return evalObject(ctx, snap, ns, oc)
}

func validateAssertion(v *labfile.Validator, a *Assertion, node *yaml.Node, what string) {
	if a.Expr == "" {
		v.Add(node, "%s: an assertion needs 'expr'", what)
		return
	}
	v.Compile(source.Field(node, "expr"), what+": expr", a.Expr, cel.BoolType, func(c *celexpr.Expr) { a.expr = c })
	if a.expr != nil {
		// Compiled now, so lint is running: a lazy parse compiles later.
		for _, f := range a.expr.NegationProblems() {
			v.Add(source.Field(node, "expr"), "%s: %s may be missing and is read under a negation (! or !=); a rule that reads a missing field is not done, so this one fails whenever the field is left out: guard it (has(x.f) && ..., 'key' in x.labels && ...) or give it a default (x.?f.orValue(...))", what, f)
		}
	}
	if a.Message == "" && a.MessageExpression == "" {
		v.Add(node, "%s: an assertion needs 'message' (or 'messageExpression') telling the learner what to fix", what)
	}
	if a.MessageExpression != "" {
		v.Compile(source.Field(node, "messageExpression"), what+": messageExpression", a.MessageExpression, cel.StringType, func(c *celexpr.Expr) { a.message = c })
	}
}

func evalObject(ctx context.Context, snap clustercache.Snapshot, ns string, oc *ObjectCheck) Outcome {
	items, _, failed := selectObjects(ctx, snap, ns, oc.Resource)
	if failed != nil {
		return *failed
	}
	vars := celVars(ctx, ns)
	if oc.Name != "" {
		vars["object"] = items[0].Object
	} else {
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = it.Object
		}
		vars["objects"] = list
	}
	out := Outcome{Status: Pass, Settling: true}
	for i := range oc.Assert {
		a := &oc.Assert[i]
		if a.expr == nil {
			return Outcome{Status: Error, Messages: []string{"assertion was not compiled; load labs with ParseLab"}}
		}
		ok, missing, err := a.expr.EvalBool(ctx, vars)
		if err != nil {
			return Outcome{Status: Error, Messages: []string{fmt.Sprintf("evaluating %q: %v", a.Expr, err)}}
		}
		if ok {
			continue
		}
		out.Status = Fail
		out.Settling = out.Settling && a.Settling
		msg := assertionMessage(ctx, a, vars)
		if missing != "" {
			// Not the rule found false: a field it reads is absent, which
			// the learner may need to know to fix it.
			msg += " (" + missing + ")"
		}
		out.Messages = append(out.Messages, msg)
	}
	if out.Status == Pass {
		out.Settling = false
	}
	return out
}

func assertionMessage(ctx context.Context, a *Assertion, vars map[string]any) string {
	if a.message != nil {
		if msg, err := a.message.EvalString(ctx, vars); err == nil && msg != "" {
			return msg
		}
	}
	if a.Message != "" {
		return a.Message
	}
	return fmt.Sprintf("%s is not true", a.Expr)
}
