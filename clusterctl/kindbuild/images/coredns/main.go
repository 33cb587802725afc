// Command coredns is CoreDNS with only the plugins kubeadm's Corefile
// names, for the offline kind node image (CoreDNS's own way of choosing
// plugins: set dnsserver.Directives and import them). All of CoreDNS would
// compile every cloud provider's SDK on a machine shared by many builds.
//
// "forward" is replaced by a stand-in that answers SERVFAIL: the test
// cluster must send no query outside the machine, and the labs only look up
// cluster names, which the kubernetes plugin answers.
package main

import (
	"context"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/whoami"
)

// The relative order of core/dnsserver/zdirectives.go (CoreDNS's plugin.cfg).
var directives = []string{
	"reload", "ready", "health", "prometheus", "errors", "log",
	"loadbalance", "cache", "kubernetes", "loop", "forward", "whoami",
}

func init() {
	dnsserver.Directives = directives
	plugin.Register("forward", func(c *caddy.Controller) error {
		for c.Next() {
			for c.NextBlock() {
			}
		}
		dnsserver.GetConfig(c).AddPlugin(func(plugin.Handler) plugin.Handler { return noUpstream{} })
		return nil
	})
}

// noUpstream answers what reaches it (names outside the cluster) with
// SERVFAIL instead of forwarding.
type noUpstream struct{}

func (noUpstream) Name() string { return "forward" }

func (noUpstream) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	m := new(dns.Msg)
	m.SetRcode(r, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
	return dns.RcodeServerFailure, nil
}

func main() { coremain.Run() }
