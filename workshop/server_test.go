package workshop

import (
	"strings"
	"testing"
)

func TestServerWarningForLoopback(t *testing.T) {
	for _, tc := range []struct {
		host, server string
		warn         bool
	}{
		{"https://127.0.0.1:43211", "", true},
		{"https://localhost:6443", "", true},
		{"https://[::1]:6443", "", true},
		{"https://127.0.0.1:43211", "https://10.0.0.5:6443", false},
		{"https://10.0.0.5:6443", "", false},
		{"https://k8s.example.org", "", false},
	} {
		got := ServerWarning(tc.host, tc.server)
		if (got != "") != tc.warn {
			t.Errorf("%s with --server %q: warning %q", tc.host, tc.server, got)
		}
		if tc.warn && !strings.Contains(got, "--server https://ADDRESS:") {
			t.Errorf("%s: the warning does not say how to pass --server: %s", tc.host, got)
		}
	}
}
