// Package celexpr is the one CEL environment of lab files: expressions
// are compiled once when a lab loads and evaluated when it is graded.
package celexpr

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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
// it). Objects are dynamic maps, as Kubernetes' own validation rules see
// unstructured data.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("objects", cel.ListType(cel.DynType)),
		cel.Variable("namespace", cel.StringType),
		cel.Variable("labNamespace", cel.StringType),
		ext.Strings(),
		ext.Lists(),
		cel.CrossTypeNumericComparisons(true),
	)
})

// costLimit stops a runaway expression (a learner cannot write one, but an
// instructor's course folder can).
const costLimit = 1_000_000

// Expr is a checked, ready-to-run expression.
type Expr struct {
	src  string
	prog cel.Program
}

// Compile type-checks src; want is the result type it must have (nil
// for any).
func Compile(src string, want *cel.Type) (*Expr, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if want != nil && ast.OutputType() != cel.DynType && !ast.OutputType().IsExactType(want) {
		return nil, fmt.Errorf("expression yields %s, but must yield %s", ast.OutputType(), want)
	}
	prog, err := env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, prog: prog}, nil
}

func (c *Expr) eval(ctx context.Context, vars map[string]any) (ref.Val, error) {
	if _, ok := vars["labNamespace"]; !ok {
		if ns, ok := vars["namespace"]; ok {
			vars["labNamespace"] = ns
		}
	}
	for _, k := range []string{"object", "objects", "namespace", "labNamespace"} {
		if _, ok := vars[k]; !ok {
			switch k {
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

// EvalBool runs a rule. A missing field ("no such key") means the learner
// has not set it yet, which is a plain false, not a broken check.
func (c *Expr) EvalBool(ctx context.Context, vars map[string]any) (bool, error) {
	out, err := c.eval(ctx, vars)
	if err != nil {
		if strings.Contains(err.Error(), "no such key") || strings.Contains(err.Error(), "index out of bounds") {
			return false, nil
		}
		return false, err
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, fmt.Errorf("expression %q yielded %v, not true or false", c.src, out)
	}
	return bool(b), nil
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
