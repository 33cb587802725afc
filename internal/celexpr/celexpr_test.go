package celexpr

import (
	"context"
	"testing"
)

// CEL reserves the word namespace, so labs can only reach the lab
// namespace as labNamespace; an expression using it must see the value
// the engine passes as "namespace".
func TestLabNamespaceVariable(t *testing.T) {
	c, err := Compile("labNamespace + '-data'", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.EvalString(context.Background(), map[string]any{"namespace": "lab-storage-3"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "lab-storage-3-data" {
		t.Fatalf("labNamespace + '-data' = %q, want lab-storage-3-data", got)
	}
}

// FuzzCompileExpr feeds arbitrary authored expressions to the compiler and
// evaluates what compiles against an odd object: nothing may panic.
func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{"object.spec.replicas == 3", "size(objects) > 0", "object.metadata.labels['app'] == 'web'",
		"objects.all(o, o.status.phase == 'Running')", "'a' + 1", "object.x.y.z", "[1,2,3].map(x, x * 2)[5] == 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Compile(src, nil)
		if err != nil {
			return
		}
		vars := map[string]any{"object": map[string]any{"spec": map[string]any{"replicas": int64(3)}}, "objects": []any{map[string]any{}}}
		_, _ = c.eval(t.Context(), vars)
	})
}
