package checks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/k8slab/k8slab/internal/kube"
)

// Status is the outcome of a check. The learner's "not done yet" (Fail,
// Missing) is kept apart from what stopped k8slab from judging
// (Forbidden, Unreachable, Error).
type Status string

const (
	Pass Status = "pass"
	// Fail: the objects exist but are not as the task asks.
	Fail Status = "fail"
	// Missing: an object the task needs does not exist (yet).
	Missing Status = "missing"
	// Forbidden: the credentials may not read what the check needs.
	Forbidden Status = "forbidden"
	// Unreachable: the cluster did not answer.
	Unreachable Status = "unreachable"
	// Error: the check itself failed (a bad expression, a timeout).
	Error Status = "error"
)

// Done reports whether the learner has done what the check asks.
func (s Status) Done() bool { return s == Pass }

// Broken reports whether k8slab could not judge (as opposed to the learner
// not being done).
func (s Status) Broken() bool { return s == Forbidden || s == Unreachable || s == Error }

// severity orders statuses for aggregation: the worst one wins.
func (s Status) severity() int {
	switch s {
	case Pass:
		return 0
	case Fail:
		return 1
	case Missing:
		return 2
	case Error:
		return 3
	case Forbidden:
		return 4
	case Unreachable:
		return 5
	}
	return 3
}

// Outcome is what one check found.
type Outcome struct {
	Status Status
	// Messages tell the learner what to fix, one per failed assertion.
	Messages []string
	// Settling marks a failure that is the cluster catching up with what
	// the learner did (a rollout under way, endpoints not updated yet):
	// waiting will fix it, and the learner has nothing to change.
	Settling bool
}

// CheckResult is one check's outcome in a report.
type CheckResult struct {
	Name     string   `json:"name"`
	Status   Status   `json:"status"`
	Messages []string `json:"messages,omitempty"`
	// Settling: see Outcome.Settling.
	Settling bool `json:"settling,omitempty"`
}

// TaskResult aggregates a task's checks.
type TaskResult struct {
	ID        string        `json:"id"`
	Title     string        `json:"title"`
	Status    Status        `json:"status"`
	Points    int           `json:"points"`
	MaxPoints int           `json:"maxPoints"`
	Checks    []CheckResult `json:"checks"`
	// Settling is a failed task whose every failing check is settling.
	Settling bool `json:"settling,omitempty"`
}

// LabResult is a whole grading.
type LabResult struct {
	Lab       string        `json:"lab"`
	Title     string        `json:"title"`
	Namespace string        `json:"namespace"`
	Tasks     []TaskResult  `json:"tasks"`
	Score     int           `json:"score"`
	MaxScore  int           `json:"maxScore"`
	At        time.Time     `json:"at"`
	Duration  time.Duration `json:"durationNanos"`
	// APIRequests counts the calls made to the API server.
	APIRequests int `json:"apiRequests"`
	// NodePort is the nodePort the lab asks for in this namespace, for a
	// lab that asks for one (labfile.NodePortPlaceholder).
	NodePort int `json:"nodePort,omitempty"`
}

// Passed reports whether every task passed.
func (r LabResult) Passed() bool {
	for _, t := range r.Tasks {
		if t.Status != Pass {
			return false
		}
	}
	return len(r.Tasks) > 0
}

// Broken reports whether any check could not be judged.
func (r LabResult) Broken() bool {
	for _, t := range r.Tasks {
		if t.Status.Broken() {
			return true
		}
	}
	return false
}

// Problems are what the learner is told about a task that does not pass:
// each failing check's messages, in order, and a check's name and status
// where it gave no message. Each fact is said once, however many checks
// found it (#22 item 16): a message is left out when an earlier one has
// the same words in another order (kinds word a missing object
// "deployment db in namespace x not found" or "deployment db not found in
// namespace x"), and a bare "not found" is left out when another message
// says the same object is gone and why that is no fix.
func (t *TaskResult) Problems() []string {
	var all []string
	for _, c := range t.Checks {
		if c.Status == Pass {
			continue
		}
		if len(c.Messages) == 0 {
			all = append(all, c.Name+": "+string(c.Status))
		}
		all = append(all, c.Messages...)
	}
	gone := map[string]bool{}
	for _, m := range all {
		if subject, _, ok := strings.Cut(m, " is gone"); ok {
			gone[strings.ToLower(subject)] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range all {
		if subject, ok := notFound(m); ok && gone[subject] {
			continue
		}
		words := strings.Fields(strings.ToLower(m))
		slices.Sort(words)
		if k := strings.Join(words, " "); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

// notFound returns "kind name" from the message every kind gives for a
// missing object ("service shop in namespace x not found", "service shop
// not found").
func notFound(m string) (string, bool) {
	rest, ok := strings.CutSuffix(m, " not found")
	if !ok {
		if i := strings.Index(m, " not found in namespace "); i > 0 && !strings.Contains(m[i+len(" not found in namespace "):], " ") {
			rest, ok = m[:i], true
		}
	}
	if !ok {
		return "", false
	}
	if i := strings.Index(rest, " in namespace "); i > 0 {
		rest = rest[:i]
	}
	if f := strings.Fields(rest); len(f) == 2 {
		return strings.ToLower(rest), true
	}
	return "", false
}

// outcomeFromError turns an API error met while reading what into the
// matching status, so "cannot reach the cluster" and "forbidden" are never
// mistaken for "not done yet".
func outcomeFromError(err error, what string) Outcome {
	switch kube.Classify(err) {
	case kube.Forbidden:
		return Outcome{Status: Forbidden, Messages: []string{fmt.Sprintf("not allowed to read %s: %v", what, kube.Reason(err))}}
	case kube.Unauthorized:
		return Outcome{Status: Forbidden, Messages: []string{fmt.Sprintf("the cluster rejected the credentials while reading %s", what)}}
	case kube.NotFound:
		return Outcome{Status: Missing, Messages: []string{fmt.Sprintf("%s not found", what)}}
	case kube.Timeout:
		return Outcome{Status: Unreachable, Messages: []string{fmt.Sprintf("the cluster did not answer in time while reading %s", what)}}
	case kube.Unreachable:
		return Outcome{Status: Unreachable, Messages: []string{fmt.Sprintf("cannot reach the cluster to read %s: %v", what, kube.Reason(err))}}
	}
	return Outcome{Status: Error, Messages: []string{fmt.Sprintf("reading %s: %v", what, err)}}
}
