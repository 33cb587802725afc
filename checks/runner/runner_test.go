package runner

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/labfile"
)

const oneCheckLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: one
title: One check
tasks:
  - id: roll
    title: Roll out
    goal: Roll out web.
    hints: [Use kubectl.]
    solution:
      - run: kubectl create deployment web --image=nginx
    mistakes:
      - name: nothing
        steps: [{run: "true"}]
        expect: not found
    checks:
      - name: the rollout of web has finished
        rolloutComplete: {deployment: web}
`

// apiServer answers every list with nothing and holds every watch open
// until the client lets go, sending each watch request's query to
// watches.
func apiServer(t *testing.T) (*rest.Config, <-chan url.Values) {
	t.Helper()
	watches := make(chan url.Values, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("watch") == "true" || q.Get("watch") == "1" {
			watches <- q
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"1"},"items":[]}`))
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}, watches
}

// 'k8slab check --watch' gets its config with the client timeout every
// other call has (clusterctl.RESTConfig); its watches must not carry it,
// or each is cut every few seconds. Before the cache owned the rule, the
// watch went out with timeout=5s.
func TestFollowingWatchesWithoutTheClientTimeout(t *testing.T) {
	lab, ps := labfile.ParseLab([]byte(oneCheckLab))
	if ps != nil {
		t.Fatal(ps)
	}
	cfg, watches := apiServer(t)
	cfg.Timeout = 5 * time.Second
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut bytes.Buffer
	run := &Check{Lab: lab, Options: checks.Options{Namespace: "lab-one"}, Format: report.JSON, Watch: true, Out: &out, Err: &errOut}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = run.Run(ctx, cfg)
	}()
	select {
	case q := <-watches:
		if got := q.Get("timeout"); got != "" {
			t.Errorf("the watch carries the client timeout %s: it would be cut every %s", got, got)
		}
	case <-done:
		t.Fatalf("the run ended without watching: %s%s", out.String(), errOut.String())
	}
	cancel()
	<-done
	if cfg.Timeout != 5*time.Second {
		t.Errorf("the caller's config was changed: timeout %s", cfg.Timeout)
	}
}

func TestExitStatus(t *testing.T) {
	pass := checks.LabResult{Tasks: []checks.TaskResult{{Status: checks.Pass}}}
	fail := checks.LabResult{Tasks: []checks.TaskResult{{Status: checks.Pass}, {Status: checks.Fail}}}
	broken := checks.LabResult{Tasks: []checks.TaskResult{{Status: checks.Fail}, {Status: checks.Unreachable}}}
	for _, c := range []struct {
		name string
		r    report.Report
		want int
	}{
		{"all pass", report.Report{LabResult: pass}, ExitPassed},
		{"one fails", report.Report{LabResult: fail}, ExitNotDone},
		{"one unreachable", report.Report{LabResult: broken}, ExitNotGraded},
		{"a problem", report.Report{LabResult: pass, Problem: "no cluster"}, ExitNotGraded},
	} {
		if got := ExitStatus(c.r); got != c.want {
			t.Errorf("%s: exit status %d, want %d", c.name, got, c.want)
		}
	}
}
