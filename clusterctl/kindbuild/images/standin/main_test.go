package main

import (
	"slices"
	"testing"
)

// A lab runs polinux/stress with `command: ["stress"]`, which replaces the
// image's entrypoint: the stand-in must answer to that name. Before the
// link, every such pod failed to start on kind (RunContainerError,
// "stress": not found) instead of being OOMKilled, and fix-workloads'
// out-of-memory task could not be proven there.
func TestRoleOf(t *testing.T) {
	for _, c := range []struct {
		argv []string
		role string
		args []string
		ok   bool
	}{
		{[]string{"/standin", "stress", "--vm-bytes", "250M"}, "stress", []string{"--vm-bytes", "250M"}, true},
		{[]string{"stress", "--vm", "1"}, "stress", []string{"--vm", "1"}, true},
		{[]string{"/usr/local/bin/stress"}, "stress", []string{}, true},
		{[]string{"/standin", "nginx"}, "nginx", []string{}, true},
		{[]string{"/standin"}, "", nil, false},
		{nil, "", nil, false},
	} {
		role, args, ok := roleOf(c.argv)
		if role != c.role || ok != c.ok || !slices.Equal(args, c.args) {
			t.Errorf("roleOf(%q) = %q, %q, %v; want %q, %q, %v", c.argv, role, args, ok, c.role, c.args, c.ok)
		}
	}
}
