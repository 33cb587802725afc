package labverify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/runner"
	"github.com/k8slab/k8slab/labfile"
)

// submission proves the lab's CI submission as the README's recipe grades
// it: applied with 'kubectl apply -f DIR' to a freshly started lab, the
// correct one gets full marks on the tasks graded from manifests (chosen
// by runner.Select, as 'k8slab check --tasks manifests' chooses them), and
// each wrong one, made by WrongSubmission.Files as the recipe test makes
// it, fails the task it names. A course author's submission is then
// proved before a teacher hands it out.
func (v *verifier) submission(ctx context.Context) {
	s := v.lab.Submission
	if s == nil {
		return
	}
	if v.cfg.Prepare != nil {
		// CI grades a submission on a cluster of its own; a workshop's
		// fence (its nodePort range, its quota) is not where it runs.
		v.rep.Skipped = append(v.rep.Skipped, "submission: CI grades it on a cluster of its own, not inside a workshop")
		return
	}
	var lacks []labfile.Feature
	for f, lacking := range v.cfg.Lacks {
		if lacking {
			lacks = append(lacks, f)
		}
	}
	slices.Sort(lacks)
	ids, left, err := runner.Select(v.lab, runner.OnlyManifests, lacks, false)
	if err != nil {
		v.fail("", "", "submission", err.Error())
		return
	}
	var lacking []string
	for _, sk := range left {
		if t := v.lab.Task(sk.ID); t != nil && t.Grading == labfile.GradedFromManifests {
			lacking = append(lacking, sk.ID)
			v.rep.Skipped = append(v.rep.Skipped, fmt.Sprintf("submission, task %s: %s", sk.ID, sk.Reason))
		}
	}
	if len(ids) == 0 {
		v.rep.Skipped = append(v.rep.Skipped, "submission: every task it completes needs what this cluster lacks; prove it on a kind cluster")
		return
	}

	v.progress("the CI submission gets full marks")
	if res, err := v.applySubmission(ctx, s.Files, ids, v.cfg.SolveTimeout, false, func(r checks.LabResult) bool {
		return r.Passed() && r.Score == r.MaxScore
	}); err != nil {
		v.fail("", "", "submission", err.Error())
	} else if !res.Passed() || res.Score != res.MaxScore {
		v.fail("", "", "submission", fmt.Sprintf("the correct submission gets %d of %d points from manifests after %s: %s",
			res.Score, res.MaxScore, v.cfg.SolveTimeout, describeLab(res)))
	}

	v.progress("every wrong submission loses marks")
	for _, w := range s.Wrong {
		if slices.Contains(lacking, w.Fails) {
			continue
		}
		// A wrong submission has lost its marks once the task it breaks
		// fails with the cluster caught up (no check settling); one that
		// still settles at the deadline has lost them too, as CI's
		// --until-done stops there.
		res, err := v.applySubmission(ctx, w.Files(s), ids, v.cfg.SubmissionTimeout, true, func(r checks.LabResult) bool {
			t := taskOf(r, w.Fails)
			return t != nil && t.Status != checks.Pass && !t.Settling
		})
		switch t := taskOf(res, w.Fails); {
		case err != nil:
			v.fail(w.Fails, w.Name, "submission", err.Error())
		case t == nil:
			v.fail(w.Fails, w.Name, "submission", "the task it fails was not graded")
		case t.Status == checks.Pass:
			v.fail(w.Fails, w.Name, "submission", fmt.Sprintf("wrong submission %q gets task %s's marks: the checks accept it", w.Name, w.Fails))
		}
	}
}

// applySubmission starts the lab in a fresh namespace, applies files there
// as the CI recipe does, and grades tasks ids until done says so or
// timeout passes; it returns the last grading. With refusable, an object
// the API server refuses (kubectl apply exits 1 having applied the rest,
// as with a number where a ConfigMap wants a string) is the submission's
// own mistake, not the proof's: the CI job's apply step fails, and what
// was applied is graded still, as the recipe test grades it.
func (v *verifier) applySubmission(ctx context.Context, files []labfile.SubmissionFile, ids []string, timeout time.Duration, refusable bool, done func(checks.LabResult) bool) (checks.LabResult, error) {
	r, err := v.fresh(ctx)
	if err != nil {
		return checks.LabResult{}, err
	}
	defer v.drop(ctx, r.ns)
	dir := filepath.Join(v.dir, r.ns+"-manifests")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return checks.LabResult{}, err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.File), []byte(f.Apply), 0o600); err != nil {
			return checks.LabResult{}, err
		}
	}
	// The recipe's 'kubectl apply -n lab-LAB -f manifests/': client-side
	// apply, which is what checks of how an object was written see.
	if err := r.steps(ctx, []labfile.Step{{Run: "kubectl apply -f " + shellQuote(dir)}}); err != nil &&
		!(refusable && strings.Contains(err.Error(), "Error from server")) {
		return checks.LabResult{}, fmt.Errorf("applying the submission: %w", err)
	}
	var last checks.LabResult
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = v.engine.Evaluate(ctx, v.lab, checks.Options{Namespace: r.ns, NodePort: r.port, Tasks: ids}) // ctx: see solve
		return done(last), nil
	})
	return last, nil
}

func taskOf(r checks.LabResult, id string) *checks.TaskResult {
	for i := range r.Tasks {
		if r.Tasks[i].ID == id {
			return &r.Tasks[i]
		}
	}
	return nil
}

// describeLab names each task that did not pass, with what it says.
func describeLab(r checks.LabResult) string {
	var out []string
	for _, t := range r.Tasks {
		if t.Status != checks.Pass {
			out = append(out, t.ID+": "+describe(t))
		}
	}
	return strings.Join(out, " || ")
}

// shellQuote quotes a path for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
