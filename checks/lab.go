// Package checks decides, from the live Kubernetes API, whether a learner
// has done a lab's tasks, and explains what is still wrong.
package checks

import (
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
	// namespace when the lab starts and when it is reset.
	Setup string `yaml:"setup"`
	Tasks []Task `yaml:"tasks"`

	// Module is the id of the module the lab belongs to (its folder).
	Module string `yaml:"-"`
	// File is the lab's path relative to the course root.
	File string `yaml:"-"`
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
	// Question, when set, makes this a question about the live cluster:
	// the learner types an answer and Answer computes the right one.
	Question *Question `yaml:"question"`
	// Features this task needs beyond the lab's, such as reaching a
	// NodePort from the host: a cluster without them cannot show or
	// grade the task, and the test suite skips it there.
	Features []Feature `yaml:"features"`

	Line int `yaml:"-"`
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

	answer *compiled
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

// Check is one thing that must hold. Exactly one of its kinds is set.
type Check struct {
	// Name says what is checked, for reports ("deployment web has 5
	// replicas").
	Name string `yaml:"name"`

	// Object asserts CEL expressions on the selected object(s).
	Object *ObjectCheck `yaml:"object"`
	// RolloutComplete decides as 'kubectl rollout status' does.
	RolloutComplete *WorkloadRef `yaml:"rolloutComplete"`
	// RolledBack holds when the deployment's current template is an
	// earlier revision's, brought back with a new revision number.
	RolledBack *WorkloadRef `yaml:"rolledBack"`
	// ServiceEndpoints holds when the service's EndpointSlices list exactly
	// the ready pods of the workload.
	ServiceEndpoints *ServiceEndpoints `yaml:"serviceEndpoints"`
	// AppliedBy holds when the object was last written by kubectl apply
	// (client-side) or server-side apply.
	AppliedBy *Resource `yaml:"appliedBy"`
	// PodReplaced holds when a pod of the workload was created after the
	// last change to the workload, i.e. the controller replaced a pod.
	PodReplaced *WorkloadRef `yaml:"podReplaced"`
	// NodeLabelled holds when a node with the role has the label, and (with
	// Only) no node of another role has it.
	NodeLabelled *NodeLabelled `yaml:"nodeLabelled"`

	Line int `yaml:"-"`
}

// ObjectCheck selects objects and asserts on them.
type ObjectCheck struct {
	Resource `yaml:",inline"`
	// Assert lists CEL expressions; with Name they see `object`, without it
	// `objects` (a list). All must be true.
	Assert []Assertion `yaml:"assert"`
}

// Assertion is one CEL rule with what to tell the learner when it fails,
// shaped like Kubernetes' x-kubernetes-validations.
type Assertion struct {
	Expr string `yaml:"expr"`
	// Message is shown when Expr is false.
	Message string `yaml:"message"`
	// MessageExpression is a CEL expression yielding the message; it wins
	// over Message when it evaluates.
	MessageExpression string `yaml:"messageExpression"`

	expr, message *compiled
}

// WorkloadRef names a Deployment in the lab namespace.
type WorkloadRef struct {
	Deployment string `yaml:"deployment"`
}

// ServiceEndpoints names a service and the deployment it must front.
type ServiceEndpoints struct {
	Service    string `yaml:"service"`
	Deployment string `yaml:"deployment"`
}

// NodeLabelled asks for a label on nodes of a role.
type NodeLabelled struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
	// Role is "worker" (default), "control-plane" or "any".
	Role string `yaml:"role"`
	// Only requires that no node outside the role has the label.
	Only bool `yaml:"only"`
}
