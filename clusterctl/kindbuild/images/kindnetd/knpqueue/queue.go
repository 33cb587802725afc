// Package networkpolicy here is not a package of its own: build.sh
// (knp_patched) copies sigs.k8s.io/kube-network-policies, lays this file
// into the copy's pkg/networkpolicy, turns each `queue,` in that package's
// nftables rules into `k8slabQueue(queue),`, and builds kindnetd against
// the copy with `go build -modfile` (an -overlay may not replace files of
// the module cache). Everything else is the library as kind's kindnetd
// runs it.
//
// Why: the library sends a packet to its user-space policy check with
// nftables' native queue expression, and a kernel built without
// CONFIG_NFT_QUEUE (this machine's 6.18 kernel: /proc/config.gz says "#
// CONFIG_NFT_QUEUE is not set", and there are no modules to load) refuses
// the whole rule batch ("conn.Receive: netlink receive: no such file or
// directory"), so no policy would be enforced at all. The same kernel has
// xtables' NFQUEUE target (CONFIG_NETFILTER_XT_TARGET_NFQUEUE=y), which
// nftables runs through nft_compat (CONFIG_NFT_COMPAT=y), as iptables-nft
// does for `-j NFQUEUE`: the packet reaches the same netlink queue with the
// same bypass flag, and the library's verdict applies unchanged. On a
// kernel with the native expression, the library's own rules are used.
package networkpolicy

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

var (
	k8slabQueueOnce   sync.Once
	k8slabQueueCompat bool
)

// k8slabQueue is q where the kernel has nftables' queue expression, and
// the xtables NFQUEUE target that does the same where it has not.
func k8slabQueue(q *expr.Queue) expr.Any {
	k8slabQueueOnce.Do(func() {
		k8slabQueueCompat = !nftQueueSupported()
		if k8slabQueueCompat {
			klog.Infof("this kernel has no nftables queue expression (CONFIG_NFT_QUEUE): queueing packets with xtables' NFQUEUE target through nft_compat")
		}
	})
	if !k8slabQueueCompat {
		return q
	}
	return nfqueueTarget(q.Num, q.Flag&expr.QueueFlagBypass != 0)
}

// nfqFlagBypass is NFQ_FLAG_BYPASS of linux/netfilter/xt_NFQUEUE.h: accept
// the packet when no program listens on the queue, as nftables' bypass
// flag does (kindnetd fails open).
const nfqFlagBypass = 0x01

// nfqueueTarget is the xtables NFQUEUE target, revision 3, for queue num:
// struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16
// flags; } in the machine's byte order, padded to XT_ALIGN (8 bytes), as
// nft_compat checks the size against the target's.
func nfqueueTarget(num uint16, bypass bool) *expr.Target {
	info := make(xt.Unknown, 8)
	binary.NativeEndian.PutUint16(info[0:], num)
	binary.NativeEndian.PutUint16(info[2:], 1) // one queue: no fan-out
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], nfqFlagBypass)
	}
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}
}

// nftQueueSupported adds a rule with a queue expression to a chain of a
// table of its own that no hook reaches, and deletes the table again. Only
// ENOENT (no such expression) says the kernel lacks it; any other failure
// leaves the library's own rules, which then say what is wrong.
func nftQueueSupported() bool {
	c, err := nftables.New()
	if err != nil {
		return true
	}
	t := &nftables.Table{Name: "k8slab-nfqueue-probe", Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	ch := c.AddChain(&nftables.Chain{Name: "probe", Table: t})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{&expr.Queue{Num: 1, Flag: expr.QueueFlagBypass}}})
	err = c.Flush()
	c.DelTable(t)
	_ = c.Flush()
	return !errors.Is(err, unix.ENOENT)
}
