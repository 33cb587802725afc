package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/k8slab/k8slab/labfile"
)

func TestParseValidLab(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lab, ps := labfile.ParseLab(data)
	if len(ps) > 0 {
		t.Fatalf("valid lab: %v", ps)
	}
	if lab.Namespace != "lab-sample" {
		t.Errorf("default namespace = %q", lab.Namespace)
	}
	if lab.Tasks[0].Points != 2 || lab.Tasks[1].Points != 1 {
		t.Errorf("points = %d, %d; want 2 and the default 1", lab.Tasks[0].Points, lab.Tasks[1].Points)
	}
	a := lab.Tasks[0].Checks[0].Spec.(*ObjectCheck).Assert[0]
	if a.expr == nil || a.message == nil {
		t.Error("expressions not compiled at load")
	}
	if lab.Tasks[1].Question.AnswerExpr == nil {
		t.Error("question answer not compiled")
	}
}

// Each file in testdata/invalid lists the problems it must produce in
// "# want LINE: MESSAGE" comments at its top.
func TestParseLabReportsEveryProblem(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if rest, ok := strings.CutPrefix(line, "# want "); ok {
					want = append(want, "line "+rest)
				}
			}
			lab, ps := labfile.ParseLab(data)
			if lab != nil {
				t.Fatal("an invalid lab parsed")
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(sorted(want), "\n") {
				t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sorted(want), "\n"))
			}
		})
	}
}

func sorted(lines []string) []string {
	out := append([]string(nil), lines...)
	// Problems come sorted by line; keep the file's order within a line.
	lineOf := func(s string) int {
		n := 0
		for _, r := range strings.TrimPrefix(s, "line ") {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		return n
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && lineOf(out[j]) < lineOf(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func FuzzParseLab(f *testing.F) {
	for _, name := range []string{"valid.yaml", "invalid/bad-cel.yaml", "invalid/tasks.yaml", "invalid/structure.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Null items and odd shapes once made decoded data and YAML nodes
	// disagree about indexes.
	f.Add([]byte("apiVersion: k8slab.dev/v1alpha1\nkind: Lab\nid: x\ntitle: x\nfeatures: [~, gpu]\ntasks:\n  -\n  - id: t\n    solution:\n      - 0:\n    mistakes:\n      - steps: [~, {run: x}]\n    checks:\n      - object:\n          apiVersion: v1\n          kind: Pod\n          name: p\n          assert: [~, {expr: '1'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lab, ps := labfile.ParseLab(data)
		if (lab == nil) == (len(ps) == 0) {
			t.Fatal("exactly one of lab and problems must be set")
		}
		if lab == nil {
			return
		}
		// Whatever parses has every expression compiled.
		for _, task := range lab.Tasks {
			if task.Question != nil && task.Question.AnswerExpr == nil {
				t.Fatal("question without compiled answer")
			}
			for _, c := range task.Checks {
				if c.Spec == nil {
					t.Fatal("a check of a parsed lab has no kind")
				}
				if oc, ok := c.Spec.(*ObjectCheck); ok {
					for _, a := range oc.Assert {
						if a.expr == nil {
							t.Fatalf("assertion %q not compiled", a.Expr)
						}
					}
				}
			}
		}
	})
}

// A lazily parsed lab grades exactly as an eagerly parsed one, and a bad
// expression, which only lint and the eager parse catch at load, turns
// into an error status naming it instead of a crash or a false pass.
func TestLazyLabCompilesOnFirstEvaluation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	eager, ps := labfile.ParseLab(data)
	if ps != nil {
		t.Fatal(ps)
	}
	lazy, ps := labfile.ParseLabLazily(data)
	if ps != nil {
		t.Fatal(ps)
	}
	if a := lazy.Tasks[0].Checks[0].Spec.(*ObjectCheck).Assert[0]; a.expr != nil {
		t.Error("a lazy parse compiled an expression")
	}
	e := &Engine{now: time.Now}
	snap := snapshotOf(t, deployment("web", 3))
	got := e.Evaluate(context.Background(), lazy, Options{Namespace: testNS, snapshot: snap})
	want := e.Evaluate(context.Background(), eager, Options{Namespace: testNS, snapshot: snap})
	if !sameOutcome(got, want) {
		t.Errorf("lazy lab graded %+v, eager %+v", got.Tasks, want.Tasks)
	}

	bad := strings.Replace(string(data), "expr: ", "expr: object.spec.replicas +++ ", 1)
	if _, ps := labfile.ParseLab([]byte(bad)); ps == nil {
		t.Fatal("the eager parse accepted a bad expression")
	}
	lab, ps := labfile.ParseLabLazily([]byte(bad))
	if ps != nil {
		t.Fatalf("the lazy parse should leave expressions for later: %v", ps)
	}
	res := e.Evaluate(context.Background(), lab, Options{Namespace: testNS, snapshot: snap})
	for _, tr := range res.Tasks {
		if tr.Status != Error || !strings.Contains(tr.Checks[0].Messages[0], "do not compile; run 'k8slab lint'") {
			t.Errorf("task %s: %s %v; want an error asking for lint", tr.ID, tr.Status, tr.Checks)
		}
	}
}

// "Settling" is the engine's word for a failure that waiting will fix. It
// must never cover a failure the learner has to act on.
func TestSettlingOnlyWhileTheClusterCatchesUp(t *testing.T) {
	ctx := context.Background()
	rolling := deployment("web", 3, func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 })
	paused := deployment("web", 3, func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1; d.Spec.Paused = true })
	if out := rolloutComplete(ctx, snapshotOf(t, rolling), testNS, labfile.WorkloadRef{Deployment: "web"}); out.Status != Fail || !out.Settling {
		t.Errorf("rollout under way: %+v; want a settling failure", out)
	}
	if out := rolloutComplete(ctx, snapshotOf(t, paused), testNS, labfile.WorkloadRef{Deployment: "web"}); out.Status != Fail || out.Settling {
		t.Errorf("paused rollout: %+v; want a failure the learner must act on", out)
	}

	lab := labWithChecks(t, `      - name: spec
        object:
          apiVersion: apps/v1
          kind: Deployment
          name: web
          assert:
            - {expr: "object.spec.replicas == 5", message: "scale web to 5"}
            - {expr: "has(object.status.readyReplicas) && object.status.readyReplicas == 5", message: "wait for 5 ready", settling: true}
`)
	e := &Engine{now: time.Now}
	grade := func(d *appsv1.Deployment) TaskResult {
		return e.Evaluate(ctx, lab, Options{Namespace: testNS, snapshot: snapshotOf(t, d)}).Tasks[0]
	}
	if tr := grade(deployment("web", 5, func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 2 })); tr.Status != Fail || !tr.Settling {
		t.Errorf("asks for 5, none ready yet: %+v; want settling", tr)
	}
	if tr := grade(deployment("web", 3, func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 2 })); tr.Status != Fail || tr.Settling {
		t.Errorf("asks for 3: %+v; want not done (the learner must scale), not settling", tr)
	}
	if tr := grade(deployment("web", 5)); tr.Status != Pass || tr.Settling {
		t.Errorf("done: %+v", tr)
	}
}

// Text from the cluster reaches learners' terminals through check
// messages; escape sequences in it must arrive as inert text.
func TestMessagesFromTheClusterAreInert(t *testing.T) {
	lab := labWithChecks(t, `      - name: note
        object:
          apiVersion: apps/v1
          kind: Deployment
          name: web
          assert:
            - expr: "false"
              messageExpression: "object.metadata.annotations['note']"
`)
	d := deployment("web", 3, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{"note": "\x1b]0;pwned\x07\x1b[2J cleared"}
	})
	res := (&Engine{now: time.Now}).Evaluate(context.Background(), lab, Options{Namespace: testNS, snapshot: snapshotOf(t, d)})
	if got := res.Tasks[0].Checks[0].Messages[0]; got != `\x1b]0;pwned\x07\x1b[2J cleared` {
		t.Errorf("message = %q; want the escapes written out", got)
	}
}
