package sim

import (
	"bytes"
	"strings"
	"testing"
)

// TestKwokctlConfigTemplate: the template is parsed on first use, not at
// start-up, so a mistake in it would otherwise surface only when a
// simulated cluster is created.
func TestKwokctlConfigTemplate(t *testing.T) {
	var buf bytes.Buffer
	data := map[string]any{"BinDir": "/bin/sim", "NoDefaultRoute": true, "Ports": []int{1, 2, 3, 4, 5, 6}}
	if err := kwokctlConfig().Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubeApiserverPort: 1\n", "kwokControllerPort: 6\n", "etcdBinary: /bin/sim/etcd\n", "value: 127.0.0.1\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("kwokctl configuration lacks %q:\n%s", want, buf.String())
		}
	}
}
