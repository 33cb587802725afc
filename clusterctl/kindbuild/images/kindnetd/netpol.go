package main

import (
	"context"
	"log"
	"os"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

// runNetworkPolicies starts the NetworkPolicy controller as kind's kindnetd
// starts it (images/kindnetd/cmd/kindnetd/main.go in kind, the last
// version built on kube-network-policies v0.8.0, the one the Go module
// proxy serves; kind v0.33.0's newer pre-release of the library splits the
// same controller into a dataplane and a policy engine): the same queue,
// table name and settings. The first packet of each connection to or from
// a pod that a policy selects goes through an nfqueue to this process,
// which accepts or drops it by the policies; later packets follow
// conntrack. FailOpen lets traffic pass while this process is down, as in
// kind. The only change to the library is the queue rule on a kernel
// without nftables' queue expression (knpqueue/queue.go).
func runNetworkPolicies(ctx context.Context, cs kubernetes.Interface) {
	// On kind nodes the hostname is the node's name (kindnetd runs with
	// hostNetwork).
	nodeName, err := os.Hostname()
	if err != nil {
		log.Fatalf("hostname: %v", err)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	cfg := networkpolicy.Config{
		FailOpen:            true,
		QueueID:             101,
		NodeName:            nodeName,
		NetfilterBug1766Fix: true,
		NFTableName:         "kindnet-network-policies",
	}
	c, err := networkpolicy.NewController(cs,
		f.Networking().V1().NetworkPolicies(),
		f.Core().V1().Namespaces(),
		f.Core().V1().Pods(),
		f.Core().V1().Nodes(),
		nil, nil, nil, cfg)
	if err != nil {
		log.Printf("network policy controller: %v; skipping network policies", err)
		return
	}
	go func() {
		if err := c.Run(ctx); err != nil {
			log.Printf("network policy controller: %v", err)
		}
	}()
	f.Start(ctx.Done())
}
