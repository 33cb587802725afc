package lessons

import (
	"strings"
	"testing"
)

func TestWrapCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd   string
		width int
		want  []string
	}{
		{"kubectl get pods", 40, []string{"kubectl get pods"}},
		{"kubectl scale deployment web --replicas=5", 24, []string{"kubectl scale \\", "  deployment web \\", "  --replicas=5"}},
		{"kubectl run t --image=busybox -- sh -c 'sleep 3600; echo done'", 30,
			[]string{"kubectl run t \\", "  --image=busybox -- sh -c \\", "  'sleep 3600; echo done'"}},
		{"averyveryverylongtoken x", 5, []string{"averyveryverylongtoken \\", "  x"}},
		// Inside "$( … )" spaces separate words, so a break is safe there;
		// never inside single quotes or a plain double-quoted string.
		{`kubectl label node "$(kubectl get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{.items[0].metadata.name}')" disk=ssd`, 60,
			[]string{`kubectl label node "$(kubectl get nodes -l \`, `  '!node-role.kubernetes.io/control-plane' -o \`, `  jsonpath='{.items[0].metadata.name}')" disk=ssd`}},
		{`echo "a b c d e f g h" x`, 10, []string{`echo \`, `  "a b c d e f g h" \`, `  x`}},
	} {
		if got := wrapCommand(tc.cmd, tc.width); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("wrapCommand(%q, %d) = %q, want %q", tc.cmd, tc.width, got, tc.want)
		}
	}
}
