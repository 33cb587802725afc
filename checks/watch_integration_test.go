package checks_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labfile"
)

// The learner's grading reads through a shared Cache, which drops
// managedFields from everything no check reads them on. On the declarative
// lab, appliedBy must still tell kubectl apply from kubectl scale through
// that cache, even when the cluster map watched the deployment first
// (without managedFields) and the cache has to read it again.
func TestDeclarativeLabGradedThroughTheCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	lab, tasks := courseLab(t, "declarative", "declarative", "apply-files")
	lc := startLabCluster(t)
	p := lc.fresh(t, lab)
	// The map watches first, as when a learner opens it before grading
	// has started.
	await := gradeThroughCache(t, p, "apply-files", "deployments")
	p.run(t, tasks[0].Solution)
	await("the solution passes", func(r checks.TaskResult) bool { return r.Status == checks.Pass })

	p.run(t, []labfile.Step{{Run: "kubectl scale deployment web --replicas=3"}})
	await("kubectl scale is reported", func(r checks.TaskResult) bool {
		for _, cr := range r.Checks {
			if cr.Status == checks.Fail && strings.Contains(strings.Join(cr.Messages, " "), "'kubectl scale' (imperative)") {
				return true
			}
		}
		return false
	})
}

// podReplaced reads the ReplicaSets' events through a field-selected
// informer; on a real API server it must sync, and the task must go from
// not done to done when a pod is deleted.
func TestPodReplacedGradedThroughTheCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	lab, tasks := courseLab(t, "deployments", "deployments", "create-deployment", "scale-up", "replace-pod")
	lc := startLabCluster(t)
	p := lc.fresh(t, lab)
	p.run(t, tasks[0].Solution)
	p.run(t, tasks[1].Solution)
	await := gradeThroughCache(t, p, "replace-pod", "deployments", "pods", "replicasets")
	await("not done before a pod is deleted", func(r checks.TaskResult) bool {
		if r.Status == checks.Pass {
			t.Fatalf("replace-pod passes before any pod was deleted: %+v", r)
		}
		return true
	})
	p.run(t, tasks[2].Solution)
	await("the solution passes", func(r checks.TaskResult) bool { return r.Status == checks.Pass })
}

// courseLab reads a lab of the built-in course (module/labs/id.yaml)
// and the named tasks of it.
func courseLab(t *testing.T, module, id string, taskIDs ...string) (*labfile.Lab, []*labfile.Task) {
	t.Helper()
	data, err := fs.ReadFile(assets.Course(), module+"/labs/"+id+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	lab, ps := labfile.ParseLab(data)
	if ps != nil {
		t.Fatal(ps)
	}
	var tasks []*labfile.Task
	for _, tid := range taskIDs {
		for i := range lab.Tasks {
			if lab.Tasks[i].ID == tid {
				tasks = append(tasks, &lab.Tasks[i])
			}
		}
	}
	if len(tasks) != len(taskIDs) {
		t.Fatalf("lab %s lacks one of the tasks %v", id, taskIDs)
	}
	return lab, tasks
}

// gradeThroughCache grades taskID in p's namespace as the TUI does, from a
// Cache on which the map's keys (resources in the namespace) are watched
// first. The returned function waits up to 90 s for a result ok accepts.
func gradeThroughCache(t *testing.T, p *phase, taskID string, mapResources ...string) func(what string, ok func(checks.TaskResult) bool) {
	t.Helper()
	c, err := clustercache.NewForConfig(p.lc.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var keys []clustercache.Key
	for _, r := range mapResources {
		gvr := schema.GroupVersionResource{Version: "v1", Resource: r}
		if r == "deployments" || r == "replicasets" {
			gvr.Group = "apps"
		}
		keys = append(keys, clustercache.Key{Resource: gvr, Namespace: p.ns})
	}
	stopMap, err := c.Watch(keys, func() {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopMap)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	results := make(chan checks.TaskResult, 64)
	done := make(chan error, 1)
	go func() {
		done <- p.lc.engine.Watch(ctx, p.lab, checks.Options{Namespace: p.ns, Tasks: []string{taskID}, Cache: c}, func(r checks.LabResult) {
			results <- r.Tasks[0]
		})
	}()
	return func(what string, ok func(checks.TaskResult) bool) {
		t.Helper()
		deadline := time.After(90 * time.Second)
		var last checks.TaskResult
		for {
			select {
			case last = <-results:
				if ok(last) {
					return
				}
			case err := <-done:
				t.Fatalf("grading ended: %v", err)
			case <-deadline:
				t.Fatalf("%s: not within 90s; last result %+v", what, last)
			}
		}
	}
}
