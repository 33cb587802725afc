package clustercache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/k8slab/k8slab/internal/kube"
)

const testNS = "lab-t"

var deployments = Key{Resource: kube.DeploymentsGVR, Namespace: testNS}

// A cache made from a config with a client timeout (clusterctl.RESTConfig
// sets one for every other call) watches without it: a watch carrying
// timeout=5s is cut every five seconds.
func TestNewForConfigWatchesWithoutTheClientTimeout(t *testing.T) {
	watches := make(chan url.Values, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("watch") == "true" || q.Get("watch") == "1" {
			watches <- q
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"1"},"items":[]}`))
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, Timeout: 5 * time.Second}
	c, err := NewForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop, err := c.Watch([]Key{deployments}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := (<-watches).Get("timeout"); got != "" {
		t.Errorf("the watch carries the client timeout %s", got)
	}
	if cfg.Timeout != 5*time.Second {
		t.Errorf("the caller's config was changed: timeout %s", cfg.Timeout)
	}
}

func deployment(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apps/v1")
	u.SetKind("Deployment")
	u.SetNamespace(testNS)
	u.SetName(name)
	_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"manager": "kubectl-client-side-apply", "operation": "Update"}}, "metadata", "managedFields")
	return u
}

func hasManagedFields(items []unstructured.Unstructured) bool {
	for _, u := range items {
		if u.GetManagedFields() != nil {
			return true
		}
	}
	return false
}

// When grading asks for managedFields of a resource the map already
// watches, the map goes on reading the old informer until the new one
// has read everything; grading (WaitForSync) waits for the new one. Before,
// the old informer was stopped at once, and the map's reads failed with
// "not read yet" meanwhile.
func TestKeepManagedFieldsSwapsInTheNewInformerOnceSynced(t *testing.T) {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{kube.DeploymentsGVR: "DeploymentList"}, deployment("web"))
	// The second list of deployments (the new informer's) waits until
	// the test lets it go.
	var lists atomic.Int32
	listing, release := make(chan struct{}), make(chan struct{})
	client.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		if lists.Add(1) == 2 {
			close(listing)
			<-release
		}
		return false, nil, nil
	})
	c := NewCache(client, nil)
	defer c.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	stop, err := c.Watch([]Key{deployments}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := c.WaitForSync(t.Context(), []Key{deployments}); err != nil {
		t.Fatal(err)
	}
	if err := c.KeepManagedFields([]Key{deployments}); err != nil {
		t.Fatal(err)
	}
	<-listing
	items, err := c.ListKey(t.Context(), deployments)
	if err != nil {
		t.Fatalf("while the new informer lists, the old one must serve: %v", err)
	}
	if len(items) != 1 || hasManagedFields(items) {
		t.Errorf("while the new informer lists: %d deployments, managedFields %v; want 1 without", len(items), hasManagedFields(items))
	}
	close(release)
	if err := c.WaitForSync(t.Context(), []Key{deployments}); err != nil {
		t.Fatal(err)
	}
	items, err = c.ListKey(t.Context(), deployments)
	if err != nil || len(items) != 1 || !hasManagedFields(items) {
		t.Errorf("after the swap: %d deployments, managedFields %v, error %v; want 1 with", len(items), hasManagedFields(items), err)
	}
}

// An observer is handed every state a watch delivers, a deleted object
// with deleted set, and before a listener of the same key hears of it.
func TestObserveHandsEveryStateBeforeListenersHear(t *testing.T) {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{kube.DeploymentsGVR: "DeploymentList"})
	c := NewCache(client, nil)
	defer c.Close()
	var mu sync.Mutex
	var seen []string
	stopObs, err := c.Observe([]Key{deployments}, func(u *unstructured.Unstructured, deleted bool) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf("%s deleted=%v", u.GetName(), deleted))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stopObs()
	heard := make(chan int, 16)
	stop, err := c.Watch([]Key{deployments}, func() {
		mu.Lock()
		defer mu.Unlock()
		heard <- len(seen)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := c.WaitForSync(t.Context(), []Key{deployments}); err != nil {
		t.Fatal(err)
	}
	ri := client.Resource(kube.DeploymentsGVR).Namespace(testNS)
	if _, err := ri.Create(t.Context(), deployment("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := <-heard; n != 1 {
		t.Errorf("a listener heard of the change with %d states observed, want 1", n)
	}
	if err := ri.Delete(t.Context(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := <-heard; n != 2 {
		t.Errorf("a listener heard of the delete with %d states observed, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, "; "); got != "web deleted=false; web deleted=true" {
		t.Errorf("observed %q", got)
	}
}
