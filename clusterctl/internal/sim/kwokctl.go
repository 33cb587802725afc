package sim

// How kwokctl is configured and run: its configuration file (ports, binaries,
// the API server's flags), and its command line.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
)

// kwokctlConfig is parsed when a simulated cluster is created, not at the
// start of every command.
var kwokctlConfig = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("kwokctl").Parse(kwokctlConfigText))
})

const kwokctlConfigText = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  # Loopback only: etcd serves without TLS.
  bindAddress: 127.0.0.1
  # Ports the operating system handed out: kwokctl's own choice counts down
  # from 32765 and two clusters created at once pick the same ones.
  kubeApiserverPort: {{ index .Ports 0 }}
  etcdPort: {{ index .Ports 1 }}
  etcdPeerPort: {{ index .Ports 2 }}
  kubeControllerManagerPort: {{ index .Ports 3 }}
  kubeSchedulerPort: {{ index .Ports 4 }}
  kwokControllerPort: {{ index .Ports 5 }}
{{- with .BinDir }}
  etcdBinary: {{ . }}/etcd
  kubeApiserverBinary: {{ . }}/kube-apiserver
  kubeControllerManagerBinary: {{ . }}/kube-controller-manager
  kubeSchedulerBinary: {{ . }}/kube-scheduler
  kwokControllerBinary: {{ . }}/kwok
{{- end }}
  # kubectl logs reads what the simulator's controller lists per pod
  # (clusterctl/internal/simkubelet).
  enableCRDs: [Logs]
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # The API server reaches a node's kubelet (logs, exec) at the node's
  # first address of these types. kwok serves every fake node on loopback,
  # which each node lists as InternalDNS: its Hostname (the node name, as
  # on kind) resolves nowhere.
  - key: kubelet-preferred-address-types
    value: InternalDNS,Hostname,InternalIP,ExternalDNS,ExternalIP
{{- if .NoDefaultRoute }}
  # Without a default route kube-apiserver finds no address to advertise;
  # the loopback address is accepted only with the endpoint reconciler off.
  - key: advertise-address
    value: 127.0.0.1
  - key: endpoint-reconciler-type
    value: none
{{- end }}
`

// writeConfig writes kwokctl's configuration and returns the flags that
// point kwokctl at it.
func (s *Cluster) writeConfig() ([]string, error) {
	dir := filepath.Join(s.workDir, "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, fmt.Errorf("finding free ports for the simulated cluster: %w", err)
	}
	var buf bytes.Buffer
	if err := kwokctlConfig().Execute(&buf, map[string]any{"BinDir": s.binDir, "NoDefaultRoute": !hasDefaultRoute(), "Ports": ports}); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, s.name+".yaml")
	if err := os.WriteFile(cfgPath, buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if err := writeNodes(s.nodesPath(), s.nodes); err != nil {
		return nil, err
	}
	args := []string{"--config", cfgPath}
	stages, err := s.writeStages()
	if err != nil {
		return nil, err
	}
	args = append(args, stages...)
	return args, nil
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before kwokctl binds them, but ephemeral ports are handed out in
// a wide, rotating range, so a clash in that moment is very unlikely.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// hasDefaultRoute reads Linux's routing table; elsewhere it assumes one.
func hasDefaultRoute() bool {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 2 && fields[1] == "00000000" {
			return true
		}
	}
	return false
}

func (s *Cluster) kwokctlRun(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.kwokctl, append([]string{"--name", s.name}, args...)...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+s.workDir)
	cmd.Dir = s.workDir
	if err := os.MkdirAll(s.workDir, 0o700); err != nil {
		return err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", strings.Join(args, " "), err, lastLines(out, 8))
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
