package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/lessons"
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
	course, err := lessons.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	var lab *checks.Lab
	for _, l := range course.AllLabs() {
		if l.ID == "declarative" {
			lab = l
		}
	}
	if lab == nil {
		t.Fatal("the course has no lab declarative")
	}
	const taskID = "apply-files"
	var task *checks.Task
	for i := range lab.Tasks {
		if lab.Tasks[i].ID == taskID {
			task = &lab.Tasks[i]
		}
	}
	if task == nil {
		t.Fatalf("lab declarative has no task %s", taskID)
	}
	lc := startLabCluster(t)
	p := lc.fresh(t, lab)

	c := checks.NewCache(lc.client, nil)
	defer c.Close()
	// The map watches first, as when a learner opens it before grading
	// has started.
	deployments := checks.Key{Resource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Namespace: p.ns}
	stopMap, err := c.Watch([]checks.Key{deployments}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer stopMap()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan checks.TaskResult, 64)
	done := make(chan error, 1)
	go func() {
		done <- lc.engine.Watch(ctx, lab, checks.Options{Namespace: p.ns, Tasks: []string{taskID}, Cache: c}, func(r checks.LabResult) {
			results <- r.Tasks[0]
		})
	}()
	await := func(what string, ok func(checks.TaskResult) bool) {
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

	p.run(t, task.Solution)
	await("the solution passes", func(r checks.TaskResult) bool { return r.Status == checks.Pass })

	p.run(t, []checks.Step{{Run: "kubectl scale deployment web --replicas=3"}})
	await("kubectl scale is reported", func(r checks.TaskResult) bool {
		for _, cr := range r.Checks {
			if cr.Status == checks.Fail && strings.Contains(strings.Join(cr.Messages, " "), "'kubectl scale' (imperative)") {
				return true
			}
		}
		return false
	})
}
