package celexpr

import (
	_ "embed"
	"encoding/binary"
	"sort"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"
	"google.golang.org/protobuf/proto"
)

// compiledBin holds every expression of the built-in course already
// parsed and type-checked (cel-go's CheckedExpr), by its source text.
// Parsing is most of compiling (cel-go's ANTLR parser warms up on each
// run), and compiling a lab's checks was half of 'k8slab check LAB'. An
// expression found here is the one the parser and checker would make of
// the same text in the same environment, so any course, a --content one
// too, uses it where the text is the same, and compiles the rest.
// TestCompiledTableIsCurrent fails when the built-in course or cel-go
// changes without it; regenerate it with
//
//	go test ./internal/celexpr -run TestCompiledTableIsCurrent -update
//
//go:embed compiled.bin
var compiledBin []byte

var compiledTable = sync.OnceValue(func() map[string][]byte { return decodeTable(compiledBin) })

// recordSource, when set (by a test), is given every source Compile sees.
var recordSource func(src string)

// precompiled returns the checked expression of src from compiledBin, or
// nil when it has none.
func precompiled(src string) *cel.Ast {
	b, ok := compiledTable()[src]
	if !ok {
		return nil
	}
	var ce exprpb.CheckedExpr
	if proto.Unmarshal(b, &ce) != nil {
		return nil
	}
	ast, err := cel.CheckedExprToAstWithSource(&ce, common.NewTextSource(src))
	if err != nil {
		return nil
	}
	return ast
}

// checkedBytes parses and checks src afresh, as compiledBin holds it.
func checkedBytes(src string) ([]byte, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	ce, err := cel.AstToCheckedExpr(ast)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(ce)
}

// The table is its entries in source order, each a source then its
// CheckedExpr, each length-prefixed (uvarint).
func encodeTable(t map[string][]byte) []byte {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []byte
	for _, k := range keys {
		out = binary.AppendUvarint(out, uint64(len(k)))
		out = append(out, k...)
		out = binary.AppendUvarint(out, uint64(len(t[k])))
		out = append(out, t[k]...)
	}
	return out
}

// decodeTable reads encodeTable's bytes; a damaged table yields what was
// read before the damage (the rest is compiled as if not there).
func decodeTable(b []byte) map[string][]byte {
	t := map[string][]byte{}
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	for len(b) > 0 {
		src, ok := next()
		if !ok {
			break
		}
		ce, ok := next()
		if !ok {
			break
		}
		t[string(src)] = ce
	}
	return t
}
