package workshop

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ServerWarning says, when learners' kubeconfigs would point at a server
// on this machine's loopback address, that learners on other machines
// cannot reach it and how to give one they can; "" otherwise. host is the
// instructor's server URL, server the --server override.
func ServerWarning(host, server string) string {
	if server != "" {
		return ""
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return ""
	}
	name := u.Hostname()
	if ip := net.ParseIP(name); !(name == "localhost" || strings.HasSuffix(name, ".localhost") || (ip != nil && ip.IsLoopback())) {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return fmt.Sprintf("Learners' kubeconfigs will point at %s, this machine's loopback address: only learners "+
		"working on this machine can reach it, not those on their own laptops. For them, run init again with "+
		"--server https://ADDRESS:%s, an address of this machine they can reach, and make sure the API server "+
		"listens there and its certificate names it (a cluster made by 'k8slab cluster up' listens on loopback only).", u.Host, port)
}
