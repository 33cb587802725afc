// Package labverify proves a lab against a live cluster, the way the test
// suite proves the built-in ones: nothing passes at the start, the
// reference solution passes task by task, every mistake fails with the
// message it promises, a reset brings the starting state back, and the
// lab's CI submission gets full marks where each wrong one loses them.
// Each run happens in a throwaway namespace that is deleted afterwards.
package labverify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// Config says which cluster to prove labs on.
type Config struct {
	// Kubeconfig and Context reach the cluster; solution and mistake steps
	// run kubectl with a copy whose default namespace is the throwaway one.
	Kubeconfig, Context string
	Client              dynamic.Interface
	// Progress, when set, gets one line per phase.
	Progress io.Writer
	// SolveTimeout bounds how long a task's checks may take to agree with
	// its solution (controllers need a moment); default 3 min.
	SolveTimeout time.Duration
	// MistakeTimeout bounds how long a mistake may take to produce its
	// message; default 4 min (a crash loop after a deleted pod: a new pod
	// started, crashed, backed off and restarted, beside other proofs on
	// a loaded machine, took over 2 min on kind).
	MistakeTimeout time.Duration
	// SubmissionTimeout bounds how long a wrong CI submission may take to
	// lose its marks; one still settling then has lost them, as CI's
	// --until-done stops there, so it is waited out: default 2 min.
	SubmissionTimeout time.Duration
	// Lacks names features the cluster does not have (a simulated cluster
	// runs no containers); labs and tasks that need one are skipped and
	// listed in LabReport.Skipped, never reported as failures.
	Lacks map[labfile.Feature]bool
	// Prepare, when set, runs on each throwaway namespace before the lab
	// starts in it: a workshop puts its fence (Pod Security, quota,
	// LimitRange, NetworkPolicy) around it, to prove the lab as a learner
	// meets it. It makes the namespace, labelled as k8slab's for the lab.
	Prepare func(ctx context.Context, lab *labfile.Lab, ns string) error
	// Reset, when set, replaces labenv.ResetLab (a workshop learner's
	// reset keeps the namespace and its fence).
	Reset func(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error
	// SkipSubmission leaves the lab's CI submission unproved (see
	// verifier.submission): the test suite proves the built-in ones
	// through the README's recipe instead.
	SkipSubmission bool
	// Jobs is how many of a lab's mistakes are made at once, each in its
	// namespace (0 or 1: one after the other). On a real cluster a
	// mistake is mostly waiting for the kubelet and controllers, so a lab
	// with many takes a fraction of the time. A lab that changes nodes, or
	// whose setup makes a cluster-scoped object that is not named after
	// its namespace (labenv.ClusterScopedSetupShared), makes its mistakes
	// one at a time, and so do mistakes that may hold a nodePort (unique
	// in the cluster).
	Jobs int
}

// Failure is one broken promise of a lab.
type Failure struct {
	Lab  string `json:"lab"`
	Task string `json:"task,omitempty"`
	// Mistake names the mistake, for mistake failures.
	Mistake string `json:"mistake,omitempty"`
	// Phase is start, solution, lab, mistake, question, reset or cleanup.
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

func (f Failure) String() string {
	where := "lab " + f.Lab
	if f.Task != "" {
		where += ", task " + f.Task
	}
	if f.Mistake != "" {
		where += fmt.Sprintf(", mistake %q", f.Mistake)
	}
	return where + ": " + f.Message
}

// LabReport is the outcome of proving one lab.
type LabReport struct {
	Lab      string    `json:"lab"`
	Failures []Failure `json:"failures"`
	// Skipped says what was not proved on this cluster, and why.
	Skipped  []string      `json:"skipped,omitempty"`
	Duration time.Duration `json:"durationNanos"`
}

// Passed reports whether the lab kept every promise.
func (r LabReport) Passed() bool { return len(r.Failures) == 0 }

// Verify proves each lab in turn.
func Verify(ctx context.Context, cfg Config, labs []*labfile.Lab) []LabReport {
	out := make([]LabReport, 0, len(labs))
	for _, lab := range labs {
		out = append(out, VerifyLab(ctx, cfg, lab))
	}
	return out
}

// verifier is the state of proving one lab.
type verifier struct {
	cfg    Config
	lab    *labfile.Lab
	engine *checks.Engine
	dir    string
	runID  string
	phases int
	made   []string
	nodes  map[string]map[string]string
	rep    *LabReport
	// unsolved marks tasks whose solution failed: mistakes that build on
	// them are skipped rather than reported again after another timeout.
	unsolved map[string]bool
	// tasks are the lab's tasks this cluster can show.
	tasks []*labfile.Task
	// mu guards phases, made, unsolved and rep while mistakes are made
	// at once (Config.Jobs).
	mu sync.Mutex
}

// VerifyLab proves one lab and deletes every namespace it made.
func VerifyLab(ctx context.Context, cfg Config, lab *labfile.Lab) LabReport {
	// Deadlines on waits for controllers: a real kubelet on a loaded
	// machine starts and stops containers in minutes, not seconds. They
	// cost nothing while the cluster keeps up (a wait ends when the checks
	// agree) and only delay the report of a lab that is broken.
	if cfg.SolveTimeout == 0 {
		cfg.SolveTimeout = 3 * time.Minute
	}
	if cfg.MistakeTimeout == 0 {
		cfg.MistakeTimeout = 4 * time.Minute
	}
	if cfg.SubmissionTimeout == 0 {
		cfg.SubmissionTimeout = 2 * time.Minute
	}
	start := time.Now()
	rep := LabReport{Lab: lab.ID}
	for _, f := range lab.Features {
		if cfg.Lacks[f] {
			what := "it"
			if lab.Submission != nil {
				what = "it and its CI submission"
			}
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("lab %s: needs %s (%q), which this cluster lacks: prove %s on a kind cluster", lab.ID, f.Describe(), f, what))
			return rep
		}
	}
	v := &verifier{cfg: cfg, lab: lab, engine: checks.NewEngine(cfg.Client), runID: randomID(), rep: &rep, unsolved: map[string]bool{}}
	dir, err := os.MkdirTemp("", "k8slab-verify-")
	if err != nil {
		v.fail("", "", "start", err.Error())
		return rep
	}
	v.dir = dir
	if err := v.saveNodes(ctx, lab); err != nil {
		v.fail("", "", "start", err.Error())
	} else {
		v.prove(ctx)
	}
	v.cleanup()
	_ = os.RemoveAll(dir)
	rep.Duration = time.Since(start)
	return rep
}

func (v *verifier) fail(task, mistake, phase, msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep.Failures = append(v.rep.Failures, Failure{Lab: v.lab.ID, Task: task, Mistake: mistake, Phase: phase, Message: msg})
}

func (v *verifier) isUnsolved(id string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.unsolved[id]
}

func (v *verifier) markUnsolved(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.unsolved[id] = true
}

func (v *verifier) progress(format string, args ...any) {
	if v.cfg.Progress != nil {
		fmt.Fprintf(v.cfg.Progress, "  %s: %s\n", v.lab.ID, fmt.Sprintf(format, args...))
	}
}

// run is one fresh start of the lab in a namespace of its own.
type run struct {
	v    *verifier
	ns   string
	kube string
	// port is the nodePort the lab asks for in ns (a workshop's Prepare
	// gives each namespace its own).
	port int
}

func (v *verifier) fresh(ctx context.Context) (*run, error) {
	if err := v.restoreNodes(ctx); err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.phases++
	ns := namespaceName(v.lab.Namespace, v.runID, v.phases)
	v.made = append(v.made, ns)
	v.mu.Unlock()
	if v.cfg.Prepare != nil {
		if err := v.cfg.Prepare(ctx, v.lab, ns); err != nil {
			return nil, fmt.Errorf("preparing namespace %s: %w", ns, err)
		}
	}
	if err := labenv.StartLab(ctx, v.cfg.Client, v.lab, ns); err != nil {
		return nil, fmt.Errorf("starting the lab in namespace %s: %w", ns, err)
	}
	kube := filepath.Join(v.dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(v.cfg.Kubeconfig, v.cfg.Context, ns, kube); err != nil {
		return nil, err
	}
	port, err := labenv.NodePort(ctx, v.cfg.Client, v.lab, ns)
	if err != nil {
		return nil, err
	}
	return &run{v: v, ns: ns, kube: kube, port: port}, nil
}

// namespaceName keeps within the 63 characters a namespace name allows.
func namespaceName(base, id string, n int) string {
	suffix := fmt.Sprintf("-v%s-%d", id, n)
	if len(base)+len(suffix) > 63 {
		base = strings.TrimRight(base[:63-len(suffix)], "-")
	}
	return base + suffix
}

func (r *run) steps(ctx context.Context, steps []labfile.Step) error {
	for _, st := range steps {
		if err := labenv.RunStep(ctx, r.v.cfg.Client, r.kube, r.ns, labfile.ExpandStep(st, r.port)); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) evaluate(ctx context.Context, task *labfile.Task, answer string) checks.TaskResult {
	opts := checks.Options{Namespace: r.ns, NodePort: r.port, Tasks: []string{task.ID}, Answers: map[string]string{task.ID: answer}}
	res := r.v.engine.Evaluate(ctx, r.v.lab, opts)
	return res.Tasks[0]
}

// solve brings a task to passing with its solution (or, for a question,
// the answer the cluster gives), polling until the checks agree.
func (r *run) solve(ctx context.Context, task *labfile.Task) (answer string, err error) {
	if task.Question != nil {
		answer, err = r.v.engine.Expected(ctx, r.v.lab, r.ns, task)
		if err != nil {
			return "", fmt.Errorf("computing the answer: %w", err)
		}
	}
	if err := r.steps(ctx, task.Solution); err != nil {
		return "", fmt.Errorf("reference solution step failed: %w", err)
	}
	var last checks.TaskResult
	// Evaluations use ctx, not the poll's: one under way at the deadline
	// finishes and its result counts.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, r.v.cfg.SolveTimeout, true, func(context.Context) (bool, error) {
		last = r.evaluate(ctx, task, answer)
		return last.Status == checks.Pass, nil
	})
	if err != nil {
		return "", fmt.Errorf("reference solution does not pass after %s: %s", r.v.cfg.SolveTimeout, describe(last))
	}
	return answer, nil
}

func (v *verifier) prove(ctx context.Context) {
	lab := v.lab
	var ids []string
	for i := range lab.Tasks {
		task := &lab.Tasks[i]
		if f := v.lacking(task); f != "" {
			v.rep.Skipped = append(v.rep.Skipped, fmt.Sprintf("task %s: needs %q, which this cluster lacks", task.ID, f))
			continue
		}
		v.tasks = append(v.tasks, task)
		ids = append(ids, task.ID)
	}

	v.progress("nothing passes at the start")
	r, err := v.fresh(ctx)
	if err != nil {
		v.fail("", "", "start", err.Error())
		return
	}
	for _, task := range v.tasks {
		if res := r.evaluate(ctx, task, ""); res.Status == checks.Pass {
			v.fail(task.ID, "", "start", "passes on the starting state, before the learner did anything")
		}
	}

	v.progress("the reference solutions pass")
	answers := map[string]string{}
	solved := true
	for _, task := range v.tasks {
		answer, err := r.solve(ctx, task)
		if err != nil {
			v.fail(task.ID, "", "solution", err.Error())
			v.unsolved[task.ID] = true
			solved = false
			break // later tasks build on this one
		}
		if task.Question != nil {
			answers[task.ID] = answer
			if res := r.evaluate(ctx, task, "definitely-not-the-answer"); res.Status == checks.Pass {
				v.fail(task.ID, "", "question", "accepts a wrong answer")
			}
		}
	}
	if solved {
		// Polled, as each task's solution is: a later task's change (a
		// scale) leaves an earlier task's check waiting on a controller
		// for a moment (a Service's endpoints; seen under load).
		var res checks.LabResult
		_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, v.cfg.SolveTimeout, true, func(context.Context) (bool, error) {
			res = v.engine.Evaluate(ctx, lab, checks.Options{Namespace: r.ns, NodePort: r.port, Tasks: ids, Answers: answers})
			return res.Passed() && res.Score == res.MaxScore, nil
		})
		if !res.Passed() || res.Score != res.MaxScore {
			// Which task and why: a bare score left a failure seen once in
			// CI (deployments, 3 of 4) with nothing to go on.
			var failed []string
			for _, tr := range res.Tasks {
				if tr.Status != checks.Pass {
					failed = append(failed, tr.ID+" "+describe(tr))
				}
			}
			v.fail("", "", "lab", fmt.Sprintf("the whole lab does not pass after all solutions (score %d of %d): %s", res.Score, res.MaxScore, strings.Join(failed, "; ")))
		}
	}

	// The reset comes before the mistakes, and the solved namespace goes:
	// some objects are unique in the whole cluster (a Service's nodePort),
	// so only one namespace may hold them at a time.
	v.progress("a reset restores the start")
	reset := labenv.ResetLab
	if v.cfg.Reset != nil {
		reset = v.cfg.Reset
	}
	if err := reset(ctx, v.cfg.Client, lab, r.ns); err != nil {
		v.fail("", "", "reset", err.Error())
		return
	}
	if err := v.restoreNodes(ctx); err != nil {
		v.fail("", "", "reset", err.Error())
		return
	}
	for _, task := range v.tasks {
		if task.Question != nil {
			continue // a reset does not change what the cluster answers
		}
		if res := r.evaluate(ctx, task, ""); res.Status == checks.Pass {
			v.fail(task.ID, "", "reset", "still passes after a reset")
		}
	}
	v.drop(ctx, r.ns)

	v.mistakes(ctx)
	if !v.cfg.SkipSubmission {
		v.submission(ctx)
	}
}

// lacking names a feature task needs that the cluster lacks, or "".
func (v *verifier) lacking(task *labfile.Task) labfile.Feature {
	for _, f := range task.Features {
		if v.cfg.Lacks[f] {
			return f
		}
	}
	return ""
}

// brokenBeyond lists the checks a mistake that breaks one requirement
// fails besides that requirement's: then it does not prove the
// requirement is checked on its own. A check still settling is the
// cluster catching up, not broken.
func brokenBeyond(task *labfile.Task, m labfile.Mistake, r checks.TaskResult) []string {
	if m.Breaks == "" {
		return nil
	}
	mine := map[string]bool{}
	for _, req := range task.Requires {
		if req.ID == m.Breaks {
			for _, c := range req.Checks {
				mine[c] = true
			}
		}
	}
	var out []string
	for _, c := range r.Checks {
		if c.Status != checks.Pass && !c.Settling && !mine[c.Name] {
			out = append(out, fmt.Sprintf("%q", c.Name))
		}
	}
	return out
}

func hasMessage(r checks.TaskResult, want string) bool {
	for _, c := range r.Checks {
		for _, m := range c.Messages {
			if strings.Contains(m, want) {
				return true
			}
		}
	}
	return false
}

// describe summarises a task result for a failure message.
func describe(r checks.TaskResult) string {
	var msgs []string
	for _, c := range r.Checks {
		if c.Status == checks.Pass {
			continue
		}
		m := fmt.Sprintf("%s (%s)", c.Name, c.Status)
		if len(c.Messages) > 0 {
			m += ": " + strings.Join(c.Messages, "; ")
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return string(r.Status)
	}
	return string(r.Status) + ": " + strings.Join(msgs, " | ")
}

// saveNodes remembers node labels: nodes are the only cluster-wide objects
// a lab may change, and every run must start from the same nodes. Only a
// lab with a cluster-wide task may change them: another one leaves them
// alone, and so must its proof, or it would undo what someone else does
// to the cluster meanwhile (on kind, a scheduling lab proved beside a
// namespaced one lost its disk=ssd label, and its on-ssd task failed).
func (v *verifier) saveNodes(ctx context.Context, lab *labfile.Lab) error {
	clusterWide := slices.Contains(lab.Features, labfile.ClusterWide)
	for i := range lab.Tasks {
		clusterWide = clusterWide || slices.Contains(lab.Needs(&lab.Tasks[i]), labfile.ClusterWide)
	}
	if !clusterWide {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	list, err := v.cfg.Client.Resource(kube.NodesGVR).List(cctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		return nil // these credentials cannot touch nodes either
	}
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	v.nodes = map[string]map[string]string{}
	for _, n := range list.Items {
		v.nodes[n.GetName()] = n.GetLabels()
	}
	return nil
}

// restoreNodes puts back node labels a lab changed, touching only nodes
// whose labels differ.
func (v *verifier) restoreNodes(ctx context.Context) error {
	for name, want := range v.nodes {
		// Kubelets write node status all the time, so an update may meet
		// a newer version: read again and retry.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
			defer cancel()
			n, err := v.cfg.Client.Resource(kube.NodesGVR).Get(cctx, name, metav1.GetOptions{})
			if err == nil && !reflect.DeepEqual(n.GetLabels(), want) {
				n.SetLabels(want)
				_, err = v.cfg.Client.Resource(kube.NodesGVR).Update(cctx, n, metav1.UpdateOptions{FieldManager: labenv.FieldManager})
			}
			return err
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("restoring the labels of node %s: %w", name, err)
		}
	}
	return nil
}

// cleanup deletes the throwaway namespaces (without waiting for them to
// go) and puts node labels back.
func (v *verifier) cleanup() {
	// Several requests, each of which a loaded API server may take most
	// of kube.RequestTimeout to answer.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var errs []error
	clusterScoped := len(labenv.ClusterScopedKinds(v.lab)) > 0
	for _, ns := range v.made {
		if clusterScoped {
			// The volumes the setup made go only after their namespace.
			if err := labenv.RemoveLab(ctx, v.cfg.Client, v.lab, ns); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		err := v.cfg.Client.Resource(kube.NamespacesGVR).Delete(ctx, ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", ns, err))
		}
	}
	if err := v.restoreNodes(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		v.fail("", "", "cleanup", err.Error())
	}
}

func randomID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// drop deletes a namespace the proof is done with. It waits until the
// namespace is gone only when it holds a Service with a node port, which
// is unique in the whole cluster and so must be free for the next phase,
// or when the lab's setup made cluster-scoped objects for it, which go
// only after it; waiting for every namespace would add seconds to each of
// a course's many phases. cleanup reports a namespace that stays.
func (v *verifier) drop(ctx context.Context, ns string) {
	// The namespace controller empties a namespace before it goes: a wait
	// for a controller, minutes on a loaded real cluster.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if len(labenv.ClusterScopedKinds(v.lab)) > 0 {
		_ = labenv.RemoveLab(ctx, v.cfg.Client, v.lab, ns) // cleanup retries and reports
		return
	}
	holdsNodePort := false
	if svcs, err := v.cfg.Client.Resource(kube.ServicesGVR).Namespace(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, svc := range svcs.Items {
			if t, _, _ := unstructured.NestedString(svc.Object, "spec", "type"); t == "NodePort" || t == "LoadBalancer" {
				holdsNodePort = true
			}
		}
	}
	if err := v.cfg.Client.Resource(kube.NamespacesGVR).Delete(ctx, ns, metav1.DeleteOptions{}); err != nil || !holdsNodePort {
		return
	}
	_ = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := v.cfg.Client.Resource(kube.NamespacesGVR).Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
