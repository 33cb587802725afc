package celexpr

import (
	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/proto"
)

// For compiled_test.go, which loads the built-in course and so must be
// package celexpr_test.
var (
	SetRecordSource = func(f func(string)) { recordSource = f }
	CheckedBytes    = checkedBytes
	EncodeTable     = encodeTable
	DecodeTable     = decodeTable
	CompiledBin     = func() []byte { return compiledBin }
)

// RoundTrip is src's expression read from compiledBin and written again,
// which must give the bytes it was read from: the table loses nothing.
func RoundTrip(src string) ([]byte, error) {
	ast := precompiled(src)
	if ast == nil {
		return nil, nil
	}
	ce, err := cel.AstToCheckedExpr(ast)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(ce)
}
