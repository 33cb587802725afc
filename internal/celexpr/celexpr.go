// Package celexpr is the one CEL environment of lab files: expressions
// are compiled once when a lab loads and evaluated when it is graded.
package celexpr

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// celEnv is shared by every expression: `object` is the selected object,
// `objects` the selected list, `labNamespace` the lab namespace (also
// declared as `namespace`, which CEL reserves, so no expression can name
// it), `nodePort` the nodePort the lab asks the learner for (30080, or a
// workshop learner's own). Objects are dynamic maps, as Kubernetes' own
// validation rules see unstructured data.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("objects", cel.ListType(cel.DynType)),
		cel.Variable("namespace", cel.StringType),
		cel.Variable("labNamespace", cel.StringType),
		cel.Variable("nodePort", cel.IntType),
		ext.Strings(),
		ext.Lists(),
		// Optional fields (`object.?spec.?paused.orValue(false)`) say
		// what a missing field means right where it is read.
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
	)
})

// DefaultNodePort is nodePort when the caller gives none (labfile's
// DefaultNodePort; labfile imports this package).
const DefaultNodePort = 30080

// costLimit stops a runaway expression (a learner cannot write one, but an
// instructor's course folder can).
const costLimit = 1_000_000

// Expr is a checked, ready-to-run expression.
type Expr struct {
	src  string
	prog cel.Program
	// ast is the checked expression, for lints.
	ast *cel.Ast
}

// Compile type-checks src; want is the result type it must have (nil
// for any).
func Compile(src string, want *cel.Type) (*Expr, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	if recordSource != nil {
		recordSource(src)
	}
	ast := precompiled(src)
	if ast == nil {
		var iss *cel.Issues
		if ast, iss = env.Compile(src); iss.Err() != nil {
			return nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
		}
	}
	if want != nil && ast.OutputType() != cel.DynType && !ast.OutputType().IsExactType(want) {
		return nil, fmt.Errorf("expression yields %s, but must yield %s", ast.OutputType(), want)
	}
	prog, err := env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, prog: prog, ast: ast}, nil
}

func (c *Expr) eval(ctx context.Context, vars map[string]any) (ref.Val, error) {
	if _, ok := vars["labNamespace"]; !ok {
		if ns, ok := vars["namespace"]; ok {
			vars["labNamespace"] = ns
		}
	}
	for _, k := range []string{"object", "objects", "namespace", "labNamespace", "nodePort"} {
		if _, ok := vars[k]; !ok {
			switch k {
			case "nodePort":
				vars[k] = int64(DefaultNodePort)
			case "objects":
				vars[k] = []any{}
			case "namespace", "labNamespace":
				vars[k] = ""
			default:
				vars[k] = map[string]any{}
			}
		}
	}
	out, _, err := c.prog.ContextEval(ctx, vars)
	return out, err
}

// absentRE matches what cel-go says when a rule reads a map key or a list
// index that the object does not have.
// Lists say it in two ways, by how they were made.
var absentRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`no such key: (.*)|index '(-?\d+)' out of range in list size '\d+'|index out of bounds: (-?\d+)`)
})

// absent reports what a rule read that the object lacks, from the error
// cel-go gave, or "" when err is something else.
func absent(err error) string {
	m := absentRE().FindStringSubmatch(err.Error())
	switch {
	case m == nil:
		return ""
	case m[1] != "":
		return fmt.Sprintf("field %s is not set", m[1])
	}
	return fmt.Sprintf("a list has no item %s", m[2]+m[3])
}

// EvalBool runs a rule. A rule that reads a field the object lacks is
// neither true nor false: missing says what it lacked, and the caller
// reports it as not done. Reading it as false would flip every negation
// (`!object.spec.paused`, with paused left out when false, could never
// pass); lint asks for has() or an optional (`object.?spec.?paused`)
// wherever a field may be missing.
func (c *Expr) EvalBool(ctx context.Context, vars map[string]any) (ok bool, missing string, err error) {
	out, err := c.eval(ctx, vars)
	if err != nil {
		if m := absent(err); m != "" {
			return false, m, nil
		}
		return false, "", err
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, "", fmt.Errorf("expression %q yielded %v, not true or false", c.src, out)
	}
	return bool(b), "", nil
}

// EvalString runs an expression whose value is shown as text.
func (c *Expr) EvalString(ctx context.Context, vars map[string]any) (string, error) {
	out, err := c.eval(ctx, vars)
	if err != nil {
		return "", err
	}
	if s, ok := out.(types.String); ok {
		return string(s), nil
	}
	native, err := out.ConvertToNative(anyType)
	if err != nil {
		return fmt.Sprint(out.Value()), nil
	}
	return fmt.Sprint(native), nil
}

var anyType = reflect.TypeOf((*any)(nil)).Elem()

// EvalAnswers runs a question's answer: a string, or a list of strings
// that are each a right answer, the first the one shown (the scheduler's
// "Insufficient cpu" is as right as "cpu").
func (c *Expr) EvalAnswers(ctx context.Context, vars map[string]any) ([]string, error) {
	out, err := c.eval(ctx, vars)
	if err != nil {
		return nil, err
	}
	if out.Type() == types.ListType {
		native, err := out.ConvertToNative(reflect.TypeOf([]any{}))
		if err != nil {
			return nil, fmt.Errorf("the answer is a list that is not of strings: %v", err)
		}
		var all []string
		for _, v := range native.([]any) {
			all = append(all, fmt.Sprint(v))
		}
		if len(all) == 0 {
			return nil, errors.New("the answer is an empty list")
		}
		return all, nil
	}
	if s, ok := out.(types.String); ok {
		return []string{string(s)}, nil
	}
	native, err := out.ConvertToNative(anyType)
	if err != nil {
		return []string{fmt.Sprint(out.Value())}, nil
	}
	return []string{fmt.Sprint(native)}, nil
}
