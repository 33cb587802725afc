// Command kindnetd is a stand-in for kind's kindnetd in the offline kind
// node image: kind's own source (sigs.k8s.io/kind/images/kindnetd) is a
// module the Go module proxy does not serve. It does what kindnetd does for
// a cluster of kind nodes on one bridge: it writes the CNI configuration
// kindnetd writes (ptp + host-local on this node's pod CIDR, portmap),
// keeps a route to every other node's pod CIDR through that node's
// address, and enforces NetworkPolicy with the library kindnetd runs for
// it, sigs.k8s.io/kube-network-policies (netpol.go). It does no
// masquerading: nothing may leave this machine.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	cniConfigPath = "/etc/cni/net.d/10-kindnet.conflist"
	resync        = 10 * time.Second
)

func main() {
	hostIP := os.Getenv("HOST_IP")
	if hostIP == "" {
		log.Fatal("HOST_IP is not set: the DaemonSet passes status.hostIP")
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		log.Fatalf("in-cluster config: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	runNetworkPolicies(context.Background(), cs)
	// A list every few seconds is what kindnetd did before it used
	// informers; three nodes make it cheap.
	for {
		if err := sync(cs, hostIP); err != nil {
			log.Printf("sync: %v", err)
		}
		time.Sleep(resync)
	}
}

func sync(cs kubernetes.Interface, hostIP string) error {
	ctx, cancel := context.WithTimeout(context.Background(), resync)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		ip := internalIP(n)
		if ip == "" || n.Spec.PodCIDR == "" {
			continue
		}
		if ip == hostIP {
			if err := writeCNIConfig(n.Spec.PodCIDR); err != nil {
				return err
			}
			continue
		}
		if err := route(n.Spec.PodCIDR, ip); err != nil {
			return fmt.Errorf("route to node %s: %w", n.Name, err)
		}
	}
	return nil
}

func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address).To4() != nil {
			return a.Address
		}
	}
	return ""
}

func route(podCIDR, via string) error {
	_, dst, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return err
	}
	return netlink.RouteReplace(&netlink.Route{Dst: dst, Gw: net.ParseIP(via)})
}

// writeCNIConfig writes kindnetd's CNI configuration, replacing the file
// only when it changes so the runtime does not reload it every resync.
func writeCNIConfig(podCIDR string) error {
	conf := map[string]any{
		"cniVersion": "0.3.1",
		"name":       "kindnet",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": false,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges":  []any{[]any{map[string]any{"subnet": podCIDR}}},
				},
				"mtu": 1500,
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(cniConfigPath); err == nil && string(old) == string(b) {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(cniConfigPath), ".10-kindnet.conflist.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	log.Printf("CNI configuration for pod CIDR %s", podCIDR)
	return os.Rename(tmp, cniConfigPath)
}
