package checks

import (
	"context"
	"testing"
)

// CEL reserves the word namespace, so labs can only reach the lab
// namespace as labNamespace; an expression using it must see the value
// the engine passes as "namespace".
func TestLabNamespaceVariable(t *testing.T) {
	c, err := compileExpr("labNamespace + '-data'", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.evalString(context.Background(), map[string]any{"namespace": "lab-storage-3"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "lab-storage-3-data" {
		t.Fatalf("labNamespace + '-data' = %q, want lab-storage-3-data", got)
	}
}
