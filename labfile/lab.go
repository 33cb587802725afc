// Package labfile is the lab file: its model (a lab, its tasks, their
// checks, solutions and mistakes), and loading it, which validates every
// field and compiles every expression once, reporting each problem with
// its line. It does not talk to a cluster; check kinds register their
// settings here from package checks, which grades.
package labfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/k8slab/k8slab/internal/celexpr"
	"github.com/k8slab/k8slab/internal/source"
)

// Lab is a hands-on lab as authored in a module's labs/ folder.
type Lab struct {
	source.Header `yaml:",inline"`
	ID            string `yaml:"id"`
	Title         string `yaml:"title"`
	// Summary is one or two sentences for lists.
	Summary string `yaml:"summary"`
	// Namespace the lab runs in; default "lab-<id>". A workshop can give
	// each learner their own with --namespace.
	Namespace string `yaml:"namespace"`
	// Features the cluster must have for every task to be meaningful.
	Features []Feature `yaml:"features"`
	// Setup is YAML manifests (one or more documents) applied in the lab
	// namespace when the lab starts and when it is reset. It may hold
	// cluster-scoped objects (a PersistentVolume) named after the lab
	// namespace with LabNamespacePlaceholder; see labenv.ApplySetup.
	Setup string `yaml:"setup"`
	Tasks []Task `yaml:"tasks"`
	// Submission is a correct CI submission (the README's "Grading
	// assignments in CI"), present exactly when a task is graded from
	// manifests: the test suite applies it to a freshly started lab and
	// proves every such task passes, and that each wrong variant fails.
	Submission *Submission `yaml:"submission"`

	// Module is the id of the module the lab belongs to (its folder).
	Module string `yaml:"-"`
	// File is the lab's path relative to the course root.
	File string `yaml:"-"`

	// pending compiles the expressions of a lazily parsed lab, once.
	pending     []func() error
	compileOnce sync.Once
	compileErr  error
}

// Compile finishes a lazy parse (see ParseLabLazily); it is safe to call
// from many goroutines, and does nothing for a lab parsed in full.
func (l *Lab) Compile() error {
	l.compileOnce.Do(func() {
		var errs []error
		for _, f := range l.pending {
			if err := f(); err != nil {
				errs = append(errs, err)
			}
		}
		l.pending = nil
		if len(errs) > 0 {
			l.compileErr = fmt.Errorf("lab %s (%s) has expressions that do not compile; run 'k8slab lint': %w", l.ID, l.File, errors.Join(errs...))
		}
	})
	return l.compileErr
}

// Task returns the lab's task with id, or nil.
func (l *Lab) Task(id string) *Task {
	for i := range l.Tasks {
		if l.Tasks[i].ID == id {
			return &l.Tasks[i]
		}
	}
	return nil
}

// TaskIDs lists the lab's task ids in order.
func (l *Lab) TaskIDs() []string {
	ids := make([]string, len(l.Tasks))
	for i, t := range l.Tasks {
		ids[i] = t.ID
	}
	return ids
}

// Feature is something a cluster may lack.
type Feature string

const (
	// Containers: containers really run (logs, exec, images pulled). A
	// simulated cluster lacks it.
	Containers Feature = "containers"
	// Storage: a provisioner binds PersistentVolumeClaims.
	Storage Feature = "storage"
	// NodePortFromHost: a NodePort is reachable from the learner's machine.
	NodePortFromHost Feature = "nodeport-from-host"
	// ClusterWide: the learner may change cluster-scoped objects (label a
	// node, create a PersistentVolume). A workshop learner, fenced into
	// their own namespaces, may not: the instructor shows such a task.
	ClusterWide Feature = "cluster-wide"
)

// Task is one thing the learner must do.
type Task struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	// Points for grading; default 1.
	Points int `yaml:"points"`
	// Goal is Markdown telling the learner what to achieve.
	Goal string `yaml:"goal"`
	// Hints are revealed one by one, each more specific.
	Hints []string `yaml:"hints"`
	// Solution is the reference solution: applied by the test suite to
	// prove the checks pass, and by 'k8slab lab solve' for instructors.
	Solution []Step `yaml:"solution"`
	// Mistakes are realistic wrong attempts; the test suite applies each
	// (after the previous tasks' solutions) and requires a failing check
	// whose message contains Expect.
	Mistakes []Mistake `yaml:"mistakes"`
	Checks   []Check   `yaml:"checks"`
	// Requires lists what the goal asks for, each tied to the checks that
	// verify it; lint wants a mistake that breaks each one alone, and lab
	// verify proves that it does.
	Requires []Requirement `yaml:"requires"`
	// Question, when set, makes this a question about the live cluster:
	// the learner types an answer and Answer computes the right one.
	Question *Question `yaml:"question"`
	// Features this task needs beyond the lab's, such as reaching a
	// NodePort from the host: a cluster without them cannot show or
	// grade the task, and the test suite skips it there.
	Features []Feature `yaml:"features"`
	// Grading says whether applying a set of manifests can complete the
	// task (GradedFromManifests), so a CI assignment that applies a
	// student's files can grade it, or whether it needs actions on the
	// live cluster (GradedLive: deleting a pod, a rollout's history, a
	// rollback, an answer). Empty only in a lab that marks no task.
	Grading Grading `yaml:"grading"`

	Line int `yaml:"-"`
}

// Grading is how a task can be completed; see Task.Grading.
type Grading string

const (
	// GradedFromManifests: the final objects decide the task, so
	// applying the right manifests to a freshly started lab completes it.
	GradedFromManifests Grading = "manifests"
	// GradedLive: the task needs something manifests cannot hold: an
	// action on the live cluster (delete a pod, roll back), the history
	// of changes, a change outside the lab namespace, or an answer.
	GradedLive Grading = "live"
)

// LiveCheck is implemented by a check kind that grades what happened
// (a pod replaced, a rollback, a rollout's history) rather than the
// objects as they are, so a task using it can never be completed by
// applying manifests. Reason says why, for lint.
type LiveCheck interface {
	LiveOnly() (reason string)
}

// SimulatedClusterLacks are the features k8slab's simulated cluster does
// not have: it runs no containers, has no volume provisioner and exposes
// no node ports on the host.
var SimulatedClusterLacks = []Feature{Containers, Storage, NodePortFromHost}

// WorkshopLearnerLacks are what a workshop learner cannot do, whatever the
// cluster: their rights end at their own namespaces, and they are not on
// the machine that runs the cluster, so a NodePort "from your machine" is
// not theirs to reach.
var WorkshopLearnerLacks = []Feature{ClusterWide, NodePortFromHost}

// Describe says what the feature gives, for a learner.
func (f Feature) Describe() string {
	switch f {
	case Containers:
		return "running containers (logs, exec, DNS from a pod)"
	case Storage:
		return "a volume provisioner"
	case NodePortFromHost:
		return "a NodePort reachable from your machine"
	case ClusterWide:
		return "changes to the whole cluster"
	}
	return string(f)
}

// Needs lists the features task t of l needs (the lab's and its own),
// each once, in order.
func (l *Lab) Needs(t *Task) []Feature {
	var out []Feature
	for _, f := range append(slices.Clone(l.Features), t.Features...) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// RunnableTasks are l's tasks that need none of the features in lacks: on
// a cluster that lacks them the others can never pass, so the course's
// progress does not wait for them.
func (l *Lab) RunnableTasks(lacks []Feature) []Task {
	var out []Task
	for i := range l.Tasks {
		if len(l.Lacking(&l.Tasks[i], lacks)) == 0 {
			out = append(out, l.Tasks[i])
		}
	}
	return out
}

// Lacking lists the features task t of l needs that are in lacks.
func (l *Lab) Lacking(t *Task, lacks []Feature) []Feature {
	var out []Feature
	for _, f := range l.Needs(t) {
		if slices.Contains(lacks, f) {
			out = append(out, f)
		}
	}
	return out
}

// MarksGrading reports whether the lab says, per task, whether manifests
// can complete it.
func (l *Lab) MarksGrading() bool {
	for _, t := range l.Tasks {
		if t.Grading != "" {
			return true
		}
	}
	return false
}

// Submission is the manifests folder of a correct CI submission, and
// wrong submissions made from it.
type Submission struct {
	// Files are the files of the folder, applied together with
	// 'kubectl apply -f DIR' in the lab namespace.
	Files []SubmissionFile `yaml:"files"`
	// Wrong are realistic mistakes, each losing marks.
	Wrong []WrongSubmission `yaml:"wrong"`
}

// SubmissionFile is one file of a submission.
type SubmissionFile struct {
	File  string `yaml:"file"`
	Apply string `yaml:"apply"`
}

// WrongSubmission is the correct submission with Replace changed to With
// in one file; task Fails must then not pass.
type WrongSubmission struct {
	Name    string `yaml:"name"`
	File    string `yaml:"file"`
	Replace string `yaml:"replace"`
	With    string `yaml:"with"`
	Fails   string `yaml:"fails"`
}

// Files returns the submission's files with this mistake made.
func (w WrongSubmission) Files(s *Submission) []SubmissionFile {
	out := slices.Clone(s.Files)
	for i := range out {
		if out[i].File == w.File {
			out[i].Apply = strings.Replace(out[i].Apply, w.Replace, w.With, 1)
		}
	}
	return out
}

// Step is one action of a solution or mistake: a shell command (run with
// KUBECONFIG pointing at the cluster and the lab namespace as the default)
// or manifests to apply in the lab namespace.
type Step struct {
	Run   string `yaml:"run"`
	Apply string `yaml:"apply"`
}

// Mistake is a wrong attempt and the message it must produce.
type Mistake struct {
	Name  string `yaml:"name"`
	Steps []Step `yaml:"steps"`
	// Expect is a substring of the failure message the checks must give.
	Expect string `yaml:"expect"`
	// Breaks is the id of the task's requirement this mistake breaks; lab
	// verify proves that no check of another requirement fails with it.
	Breaks string `yaml:"breaks"`
}

// Requirement is one thing a task's goal asks for.
type Requirement struct {
	ID string `yaml:"id"`
	// Says is the requirement in the goal's words.
	Says string `yaml:"says"`
	// Checks names the task's checks that verify it.
	Checks []string `yaml:"checks"`
}

// Question asks about the live cluster ("how many nodes?").
type Question struct {
	Prompt string `yaml:"prompt"`
	// Resource is listed and given to Answer as `objects`.
	Resource Resource `yaml:"resource"`
	// Answer is a CEL expression over `objects` that yields the right
	// answer; the learner's is compared as text, case and space
	// insensitive.
	Answer string `yaml:"answer"`

	// AnswerExpr is Answer compiled; nil until the lab is compiled.
	AnswerExpr *celexpr.Expr `yaml:"-"`
}

// Resource selects objects: by name, or all (optionally by label selector).
type Resource struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Name       string `yaml:"name"`
	// LabelSelector, e.g. "app=web"; only without Name.
	LabelSelector string `yaml:"labelSelector"`
	// Namespace defaults to the lab's; cluster-scoped kinds ignore it.
	Namespace string `yaml:"namespace"`
}

// WorkloadRef names a Deployment in the lab namespace.
type WorkloadRef struct {
	Deployment string `yaml:"deployment"`
}

// LabNamespacePlaceholder stands for the lab namespace in a lab's setup.
// It is replaced as text before the setup is decoded, so it may appear in
// any field; a cluster-scoped object must have it in its name, so that
// two learners or labs never ask for the same object.
const LabNamespacePlaceholder = "${LAB_NAMESPACE}"

// setupClusterKinds are the cluster-scoped kinds a setup may make. Only
// these are ever deleted when a lab goes: never nodes or namespaces,
// whatever labels someone put on them.
var setupClusterKinds = []string{"storage.k8s.io/v1/StorageClass", "v1/PersistentVolume"}

// SetupClusterKinds lists, as "apiVersion/Kind", the cluster-scoped kinds
// a lab's setup may make.
func SetupClusterKinds() []string {
	return slices.Clone(setupClusterKinds)
}
