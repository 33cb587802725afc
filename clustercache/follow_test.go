package clustercache

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/k8slab/k8slab/internal/kube"
)

// blockingReader is a read that tells the test it began and then waits
// for the test to let it go, so a test knows what runs meanwhile.
type blockingReader struct {
	began   chan int // the read's number, from 1
	release chan struct{}
	reads   int // read by the test only after coalesce returned
}

func newBlockingReader() *blockingReader {
	return &blockingReader{began: make(chan int, 1), release: make(chan struct{})}
}

func (r *blockingReader) read() error {
	r.reads++
	r.began <- r.reads
	<-r.release
	return nil
}

// next waits for the next read to begin and returns its number.
func (r *blockingReader) next(t *testing.T) int {
	t.Helper()
	select {
	case n := <-r.began:
		return n
	case <-time.After(30 * time.Second): // only a failure waits for it
		t.Fatal("no read began")
		return 0
	}
}

// following runs coalesce with a blocking reader until the test ends.
type following struct {
	r       *blockingReader
	changed chan struct{}
	notify  func()
	cancel  context.CancelFunc
	done    chan error
}

func follow(t *testing.T, gather func(context.Context) bool) *following {
	t.Helper()
	f := &following{r: newBlockingReader(), done: make(chan error, 1)}
	f.changed, f.notify = newSignal()
	ctx, cancel := context.WithCancel(t.Context())
	f.cancel = cancel
	go func() { f.done <- coalesce(ctx, f.changed, gather, f.r.read) }()
	return f
}

// stop ends the follower, letting a read that runs go, and returns how
// many reads there were.
func (f *following) stop(t *testing.T) int {
	t.Helper()
	f.cancel()
	for {
		select {
		case err := <-f.done:
			if err != nil {
				t.Error(err)
			}
			return f.r.reads
		case f.r.release <- struct{}{}:
		case <-time.After(30 * time.Second): // only a failure waits for it
			t.Fatal("the follower did not stop")
		}
	}
}

// A lone change is read at once: nothing stands between the signal and
// the read (main's follower waited out 50 ms after the last read first,
// so a task flipped 51 ms after a kubectl write at p50).
func TestCoalesceReadsALoneChangeAtOnce(t *testing.T) {
	f := follow(t, nil)
	if n := f.r.next(t); n != 1 {
		t.Fatalf("read %d first", n)
	}
	f.r.release <- struct{}{}
	f.notify()
	if n := f.r.next(t); n != 2 {
		t.Fatalf("read %d after the change", n)
	}
	f.r.release <- struct{}{}
	if n := f.stop(t); n != 2 {
		t.Errorf("%d reads for one change, want 2 (the first and the change)", n)
	}
}

// A burst of 300 changes while a read runs is exactly one read after it,
// and the follower then waits for the next change: the work a burst costs
// is bounded by the reads' own pace, not by the number of events.
func TestCoalesceFoldsABurstDuringAReadIntoOne(t *testing.T) {
	f := follow(t, nil)
	f.r.next(t)
	f.r.release <- struct{}{}
	f.notify()
	if n := f.r.next(t); n != 2 {
		t.Fatalf("read %d for the first change", n)
	}
	for range 300 {
		f.notify()
	}
	f.r.release <- struct{}{}
	if n := f.r.next(t); n != 3 {
		t.Fatalf("read %d after the burst", n)
	}
	// The burst was taken by this read and nothing is waiting: without
	// another change there cannot be a fourth read.
	if len(f.changed) != 0 {
		t.Fatal("a change is still waiting after the burst's read began")
	}
	f.r.release <- struct{}{}
	f.notify()
	if n := f.r.next(t); n != 4 {
		t.Fatalf("read %d for the change after the burst", n)
	}
	if n := f.stop(t); n != 4 {
		t.Errorf("%d reads, want 4", n)
	}
}

// A change that comes while a read runs, after that read has looked, is
// read by the next one: the end of a burst is never left unread.
func TestCoalesceReadsTheEndOfABurst(t *testing.T) {
	var state, seen int
	changed, notify := newSignal()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	began := make(chan struct{}, 1)
	release := make(chan struct{})
	reads := make(chan int, 1)
	go func() {
		_ = coalesce(ctx, changed, nil, func() error {
			seen = state // what the read looked at, before it blocks
			began <- struct{}{}
			<-release
			reads <- seen
			return nil
		})
	}()
	<-began
	release <- struct{}{}
	<-reads
	notify()
	<-began // a read runs, and has looked at state 0
	for i := 1; i <= 300; i++ {
		state = i // coalesce's read is blocked: no race
		notify()
	}
	release <- struct{}{}
	if got := <-reads; got != 0 {
		t.Fatalf("the read during the burst saw %d", got)
	}
	select {
	case <-began:
	case <-time.After(30 * time.Second): // only a failure waits for it
		t.Fatal("the last changes of the burst were never read")
	}
	release <- struct{}{}
	if got := <-reads; got != 300 {
		t.Errorf("the last read saw state %d, want 300", got)
	}
}

// Nothing is read once the follower is stopped, even with a change
// waiting (while a read ran) or being gathered (Follow's quiet).
func TestCoalesceReadsNothingAfterStop(t *testing.T) {
	t.Run("change waiting", func(t *testing.T) {
		f := follow(t, nil)
		f.r.next(t)
		f.r.release <- struct{}{}
		f.notify()
		f.r.next(t)
		f.notify() // waits for the read that runs
		if n := f.stop(t); n != 2 {
			t.Errorf("%d reads, want 2: the change waiting at stop was read", n)
		}
	})
	t.Run("change gathered", func(t *testing.T) {
		gathering := make(chan struct{})
		f := follow(t, func(ctx context.Context) bool {
			close(gathering)
			<-ctx.Done()
			return false
		})
		f.r.next(t)
		f.r.release <- struct{}{}
		f.notify()
		<-gathering
		if n := f.stop(t); n != 1 {
			t.Errorf("%d reads, want 1: the change gathered at stop was read", n)
		}
	})
}

// FollowPromptly reads a cache's changes, the last of a burst included,
// with no quiet to wait out (main's took one).
func TestFollowPromptlyReadsEveryChange(t *testing.T) {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{kube.DeploymentsGVR: "DeploymentList"})
	c := NewCache(client, nil)
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	reads := make(chan int, 1024)
	done := make(chan error, 1)
	go func() {
		done <- c.FollowPromptly(ctx, []Key{deployments}, func() error {
			items, err := c.List(ctx, kube.DeploymentsGVR, testNS)
			reads <- len(items)
			return err
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if n := <-reads; n != 0 {
		t.Fatalf("first read: %d deployments", n)
	}
	ri := client.Resource(kube.DeploymentsGVR).Namespace(testNS)
	wait := func(want int) {
		t.Helper()
		for {
			select {
			case n := <-reads:
				if n == want {
					return
				}
			case <-time.After(30 * time.Second): // only a failure waits for it
				t.Fatalf("no read saw %d deployments", want)
			}
		}
	}
	if _, err := ri.Create(t.Context(), deployment("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(1)
	// 90, not 300: the fake client's watch panics past 100 events
	// waiting (coalesce's tests take 300).
	for i := range 89 {
		if _, err := ri.Create(t.Context(), deployment(fmt.Sprintf("web-%d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wait(90)
}
