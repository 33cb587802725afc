package networkpolicy

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// The target's info is what the kernel's xt_NFQUEUE reads for revision 3:
// queue 101 (kindnetd's), one queue, the bypass flag, padded to 8 bytes.
// A wrong size is refused by nft_compat, a queues_total of 0 by the
// target's own check, and a missing bypass would drop every packet of a
// pod under a policy while kindnetd restarts, where kind's lets it pass.
func TestNfqueueTarget(t *testing.T) {
	tg := nfqueueTarget(101, true)
	if tg.Name != "NFQUEUE" || tg.Rev != 3 {
		t.Fatalf("target %s rev %d, want NFQUEUE rev 3", tg.Name, tg.Rev)
	}
	info, ok := tg.Info.(*xt.Unknown)
	if !ok {
		t.Fatalf("info is %T, want *xt.Unknown", tg.Info)
	}
	want := make([]byte, 8)
	binary.NativeEndian.PutUint16(want[0:], 101)
	binary.NativeEndian.PutUint16(want[2:], 1)
	binary.NativeEndian.PutUint16(want[4:], 1)
	if !bytes.Equal(*info, want) {
		t.Errorf("info % x, want % x", []byte(*info), want)
	}
	if got := *nfqueueTarget(7, false).Info.(*xt.Unknown); binary.NativeEndian.Uint16(got[4:]) != 0 {
		t.Errorf("flags %d without bypass, want 0", binary.NativeEndian.Uint16(got[4:]))
	}
}

// Where the kernel has the queue expression, the library's own is used.
func TestQueueKeepsNativeWhereSupported(t *testing.T) {
	k8slabQueueOnce.Do(func() {})
	k8slabQueueCompat = false
	q := &expr.Queue{Num: 101, Flag: expr.QueueFlagBypass}
	if got := k8slabQueue(q); got != expr.Any(q) {
		t.Errorf("k8slabQueue = %#v, want the library's queue", got)
	}
	k8slabQueueCompat = true
	if got, ok := k8slabQueue(q).(*expr.Target); !ok || got.Name != "NFQUEUE" {
		t.Errorf("k8slabQueue = %#v, want the NFQUEUE target", got)
	}
}
