package celexpr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// A rule that reads a field the object lacks is not done (see evalBool).
// That is right for a rule that asks for the field, and wrong under a
// negation: `!object.spec.paused` asks that the deployment not be paused,
// which a deployment without the field is not, yet the rule could never
// pass. These lints find such rules where they are written, before a
// learner meets them.

// alwaysSet are fields that the API server requires or defaults wherever
// they occur in the kinds labs read (a Service port's port and protocol,
// a Deployment's strategy and its type, a metric's type), so reading
// them needs no guard.
var alwaysSet = map[string]bool{
	"metadata": true, "name": true, "uid": true, "creationTimestamp": true,
	"kind": true, "apiVersion": true, "spec": true, "template": true,
	"containers": true, "image": true, "port": true, "protocol": true,
	"type": true, "strategy": true,
}

// negationProblems lists, for a rule, every field it reads under a
// negation (`!`, `!=`) without a has() or `in` test that guards it.
func negationProblems(e ast.Expr) []string {
	var out []string
	seen := map[string]bool{}
	walkNegations(e, false, nil, func(path string) {
		if !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	})
	return out
}

func walkNegations(e ast.Expr, negated bool, guards []string, report func(string)) {
	if e == nil {
		return
	}
	switch e.Kind() {
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			// has(a.b.c) reads a.b, which may be missing too.
			walkNegations(s.Operand(), negated, guards, report)
			return
		}
		if negated && !alwaysSet[s.FieldName()] {
			if p := exprPath(e); p == "" || !guarded(p, guards) {
				// Said once, for the outermost read of the chain.
				report(describeExpr(e))
				negated = false
			}
		}
		walkNegations(s.Operand(), negated, guards, report)
	case ast.CallKind:
		c := e.AsCall()
		args := c.Args()
		switch c.FunctionName() {
		case operators.LogicalNot:
			walkNegations(args[0], !negated, guards, report)
			return
		case operators.NotEquals:
			for _, a := range args {
				walkNegations(a, !negated, guards, report)
			}
			return
		case operators.LogicalAnd, operators.LogicalOr:
			and := c.FunctionName() == operators.LogicalAnd
			parts := flatten(e, c.FunctionName())
			for i, p := range parts {
				g := slices.Clip(guards)
				for j, q := range parts {
					if j != i {
						g = append(g, guardsOf(q, and)...)
					}
				}
				walkNegations(p, negated, g, report)
			}
			return
		case operators.Conditional:
			walkNegations(args[0], negated, guards, report)
			walkNegations(args[1], negated, append(slices.Clip(guards), guardsOf(args[0], true)...), report)
			walkNegations(args[2], negated, append(slices.Clip(guards), guardsOf(args[0], false)...), report)
			return
		case operators.Index:
			if negated {
				if p := exprPath(e); p == "" || !guarded(p, guards) {
					report(describeExpr(e))
					negated = false
				}
			}
		case operators.OptSelect, operators.OptIndex:
			// An optional says itself what a missing field means.
			walkNegations(args[0], negated, guards, report)
			return
		}
		walkNegations(c.Target(), negated, guards, report)
		for _, a := range args {
			walkNegations(a, negated, guards, report)
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		for _, x := range []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
			walkNegations(x, negated, guards, report)
		}
	case ast.ListKind:
		for _, x := range e.AsList().Elements() {
			walkNegations(x, negated, guards, report)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			walkNegations(me.Key(), negated, guards, report)
			walkNegations(me.Value(), negated, guards, report)
		}
	}
}

// flatten lists the operands of a chain of one boolean operator.
func flatten(e ast.Expr, fn string) []ast.Expr {
	if e.Kind() != ast.CallKind || e.AsCall().FunctionName() != fn {
		return []ast.Expr{e}
	}
	var out []ast.Expr
	for _, a := range e.AsCall().Args() {
		out = append(out, flatten(a, fn)...)
	}
	return out
}

// guardsOf lists the paths known to be set when e is true (when is true)
// or false. CEL's && and || forgive an error on one side when the other
// decides, so a guard anywhere in the chain protects the whole chain.
func guardsOf(e ast.Expr, when bool) []string {
	switch e.Kind() {
	case ast.SelectKind:
		if s := e.AsSelect(); s.IsTestOnly() && when {
			if p := exprPath(s.Operand()); p != "" {
				return []string{p + "." + s.FieldName()}
			}
		}
	case ast.CallKind:
		c := e.AsCall()
		args := c.Args()
		switch c.FunctionName() {
		case operators.LogicalNot:
			return guardsOf(args[0], !when)
		case operators.LogicalAnd:
			if when {
				return append(guardsOf(args[0], true), guardsOf(args[1], true)...)
			}
		case operators.LogicalOr:
			if !when {
				return append(guardsOf(args[0], false), guardsOf(args[1], false)...)
			}
		case operators.In, operators.OldIn:
			if key, ok := stringLiteral(args[0]); ok && when {
				if p := exprPath(args[1]); p != "" {
					return []string{p + "." + key}
				}
			}
		}
	}
	return nil
}

// guarded reports whether a guard covers path: has(a.b.c) shows a.b.c and
// every field on the way to it are set.
func guarded(path string, guards []string) bool {
	for _, g := range guards {
		if g == path || strings.HasPrefix(g, path+".") {
			return true
		}
	}
	return false
}

// exprPath names a chain of field reads from a variable ("object.spec.
// paused", "p.metadata.labels.app"), or "" for anything else.
func exprPath(e ast.Expr) string {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent()
	case ast.SelectKind:
		if s := e.AsSelect(); !s.IsTestOnly() {
			if p := exprPath(s.Operand()); p != "" {
				return p + "." + s.FieldName()
			}
		}
	case ast.CallKind:
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.Index, operators.OptIndex, operators.OptSelect:
			key, ok := stringLiteral(c.Args()[1])
			if p := exprPath(c.Args()[0]); ok && p != "" {
				return p + "." + key
			}
		}
	}
	return ""
}

func stringLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// describeExpr renders a field read as an author wrote it.
func describeExpr(e ast.Expr) string {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent()
	case ast.SelectKind:
		return describeExpr(e.AsSelect().Operand()) + "." + e.AsSelect().FieldName()
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() == operators.Index {
			return describeExpr(c.Args()[0]) + "[" + describeLiteral(c.Args()[1]) + "]"
		}
		return c.FunctionName() + "(…)"
	case ast.LiteralKind:
		return describeLiteral(e)
	}
	return "…"
}

func describeLiteral(e ast.Expr) string {
	if e.Kind() != ast.LiteralKind {
		return "…"
	}
	if s, ok := e.AsLiteral().(types.String); ok {
		return fmt.Sprintf("'%s'", string(s))
	}
	return fmt.Sprint(e.AsLiteral().Value())
}

// unguardedAll reports whether a rule asks that all of `objects` hold
// something (true when there are none) without asking that there be any.
func unguardedAll(e ast.Expr) (all, nonEmpty bool) {
	var walk func(e ast.Expr, negated bool)
	walk = func(e ast.Expr, negated bool) {
		if e == nil {
			return
		}
		switch e.Kind() {
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			if r := c.IterRange(); r.Kind() == ast.IdentKind && r.AsIdent() == "objects" {
				if init := c.AccuInit(); init.Kind() == ast.LiteralKind {
					switch b, _ := init.AsLiteral().(types.Bool); {
					case bool(b) && !negated:
						all = true
					case !bool(b) && !negated:
						nonEmpty = true // exists: true only with an object
					}
				}
			}
			for _, x := range []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
				walk(x, negated)
			}
		case ast.CallKind:
			c := e.AsCall()
			if c.FunctionName() == "size" {
				for _, a := range append([]ast.Expr{c.Target()}, c.Args()...) {
					if a != nil && a.Kind() == ast.IdentKind && a.AsIdent() == "objects" {
						nonEmpty = true
					}
				}
			}
			if c.FunctionName() == operators.LogicalNot {
				walk(c.Args()[0], !negated)
				return
			}
			walk(c.Target(), negated)
			for _, a := range c.Args() {
				walk(a, negated)
			}
		case ast.SelectKind:
			walk(e.AsSelect().Operand(), negated)
		case ast.ListKind:
			for _, x := range e.AsList().Elements() {
				walk(x, negated)
			}
		}
	}
	walk(e, false)
	return all, nonEmpty
}

// NegationProblems lists the fields the expression reads under a
// negation without a guard; see negationProblems.
func (c *Expr) NegationProblems() []string {
	return negationProblems(c.ast.NativeRep().Expr())
}

// AllOverObjects reports whether the expression asks that all of
// `objects` hold something, and whether it asks that there be any.
func (c *Expr) AllOverObjects() (all, nonEmpty bool) {
	return unguardedAll(c.ast.NativeRep().Expr())
}
