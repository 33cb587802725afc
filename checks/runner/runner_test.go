package runner

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

const markedLab = `apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: marked
title: Marked
tasks:
  - id: made
    title: Made from a file
    grading: manifests
    goal: G
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - {name: c, rolloutComplete: {deployment: web}}
  - id: deleted
    title: A pod deleted
    grading: live
    goal: G
    hints: [h]
    solution: [{run: "true"}]
    mistakes: [{name: m, steps: [{run: "true"}], expect: x}]
    checks:
      - {name: c, podReplaced: {deployment: web}}
  - id: reach
    title: Reached from the host
    grading: live
    features: [nodeport-from-host]
    goal: G
    hints: [h]
    question:
      prompt: What does it say?
      resource: {apiVersion: v1, kind: Service, name: web}
      answer: "'hello'"
`

func TestSelect(t *testing.T) {
	lab, ps := labfile.ParseLab([]byte(markedLab))
	if ps != nil {
		t.Fatal(ps)
	}
	reasons := func(left []report.Skipped) map[string]string {
		m := map[string]string{}
		for _, k := range left {
			m[k.ID] = k.Reason
		}
		return m
	}
	ids, left, err := Select(lab, "manifests", nil, false)
	if err != nil || fmt.Sprint(ids) != "[made]" || len(left) != 2 || !strings.Contains(reasons(left)["deleted"], "needs actions on the live cluster (grading: live)") {
		t.Errorf("manifests: %v %+v %v", ids, left, err)
	}
	ids, left, err = Select(lab, "live", nil, false)
	if err != nil || fmt.Sprint(ids) != "[deleted reach]" || !strings.Contains(reasons(left)["made"], "grading: manifests") {
		t.Errorf("live: %v %+v %v", ids, left, err)
	}
	// On a simulated cluster the NodePort question is never graded: typing
	// the expected text there would pass it without reaching anything.
	ids, left, err = Select(lab, "", labfile.SimulatedClusterLacks, false)
	if err != nil || fmt.Sprint(ids) != "[made deleted]" || !strings.Contains(reasons(left)["reach"], "a NodePort reachable from your machine, which a simulated cluster lacks") {
		t.Errorf("sim: %v %+v %v", ids, left, err)
	}
	// A workshop learner is not on the machine that runs the cluster,
	// whichever cluster it is.
	ids, left, err = Select(lab, "", labfile.WorkshopLearnerLacks, true)
	if err != nil || fmt.Sprint(ids) != "[made deleted]" || !strings.Contains(reasons(left)["reach"], "which a workshop learner does not have") {
		t.Errorf("workshop: %v %+v %v", ids, left, err)
	}
	ids, left, err = Select(lab, "", nil, false)
	if err != nil || len(ids) != 3 || len(left) != 0 {
		t.Errorf("kind: %v %+v %v", ids, left, err)
	}
	ids, left, err = Select(lab, "made, reach", nil, false)
	if err != nil || fmt.Sprint(ids) != "[made reach]" || reasons(left)["deleted"] != "not among --tasks made, reach" {
		t.Errorf("ids: %v %+v %v", ids, left, err)
	}
	if _, _, err := Select(lab, "made,nope", nil, false); err == nil || !strings.Contains(err.Error(), `no task "nope"`) {
		t.Errorf("unknown id: %v", err)
	}
	unmarked, _ := labfile.ParseLab([]byte(oneCheckLab))
	if _, _, err := Select(unmarked, "manifests", nil, false); err == nil || !strings.Contains(err.Error(), "--tasks roll") {
		t.Errorf("unmarked lab: %v", err)
	}
}

// Every machine format says why it could not grade once on stderr, and
// text, which says it on stdout already, does not repeat it there.
func TestNotGradedSaysWhyOnStderr(t *testing.T) {
	lab, _ := labfile.ParseLab([]byte(oneCheckLab))
	for _, f := range report.Formats {
		var out, errOut bytes.Buffer
		run := &Check{Lab: lab, Format: f, Out: &out, Err: &errOut}
		code, err := run.NotGraded(checks.Unreachable, "not graded", "the cluster at https://x did not answer")
		if err != nil || code != ExitNotGraded {
			t.Fatalf("%s: %d %v", f, code, err)
		}
		want := "k8slab: could not grade lab one (exit status 2): the cluster at https://x did not answer\n"
		if f == report.Text {
			want = ""
		}
		if errOut.String() != want {
			t.Errorf("%s: stderr %q, want %q", f, errOut.String(), want)
		}
	}
	// A task that could not be judged is a reason too, said once.
	var errOut bytes.Buffer
	run := &Check{Lab: lab, Format: report.JUnit, Out: io.Discard, Err: &errOut}
	r := report.Report{LabResult: checks.LabResult{Lab: "one", Tasks: []checks.TaskResult{
		{ID: "roll", Status: checks.Forbidden, Checks: []checks.CheckResult{
			{Name: "a", Status: checks.Forbidden, Messages: []string{"deployments is forbidden"}},
			{Name: "b", Status: checks.Forbidden, Messages: []string{"deployments is forbidden"}}}}}}}
	if code, _ := run.finish(r); code != ExitNotGraded || errOut.String() != "k8slab: could not grade lab one (exit status 2): roll: deployments is forbidden\n" {
		t.Errorf("forbidden: %d %q", code, errOut.String())
	}
}

// An --until-done run reports the time it ran, from the command's start,
// in JUnit: not the last grading's milliseconds.
func TestUntilDoneReportsTheRunsTime(t *testing.T) {
	lab, _ := labfile.ParseLab([]byte(oneCheckLab))
	cfg, _ := apiServer(t)
	var out, errOut bytes.Buffer
	run := &Check{Lab: lab, Options: checks.Options{Namespace: "lab-one"}, Format: report.JUnit, UntilDone: true,
		Timeout: 300 * time.Millisecond, Start: time.Now().Add(-45 * time.Second), Out: &out, Err: &errOut}
	// Whether a grading finishes within the timeout (exit 1) or not
	// (exit 2), the document gives the run's time.
	code, err := run.Run(t.Context(), cfg)
	if err != nil || code == ExitPassed {
		t.Fatalf("exit %d, %v\n%s%s", code, err, out.String(), errOut.String())
	}
	var doc struct {
		Time  float64 `xml:"time,attr"`
		Cases []struct {
			Time float64 `xml:"time,attr"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Time < 45 || len(doc.Cases) != 1 || doc.Cases[0].Time < 45 || doc.Cases[0].Time > doc.Time {
		t.Errorf("times %+v; want the run's 45 s and more\n%s", doc, out.String())
	}
}
