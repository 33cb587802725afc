package celexpr

import (
	"context"
	"strings"
	"testing"
)

func TestAbsentNamesWhatIsMissing(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"object.spec.paused", "field paused is not set"},
		{"object.items[2]", "a list has no item 2"},
		{"[1][2]", "a list has no item 2"},
	} {
		c, err := Compile(tt.expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.eval(context.Background(), map[string]any{"object": map[string]any{"spec": map[string]any{}, "items": []any{}}})
		if err == nil || !strings.Contains(absent(err), tt.want) {
			t.Errorf("%s: absent(%v) = %q, want %q", tt.expr, err, absent(err), tt.want)
		}
	}
}
