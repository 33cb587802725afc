package kind

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/log"
)

// kindSteps turns kind's status lines into Steps. kind's library reports
// each stage with cli.Status, which, for any logger but kind's own
// terminal one, logs " • <stage>  ...\n" at V(0) when a stage starts and
// " ✓ <stage>\n" or " ✗ <stage>\n" when it ends. Those lines are the only
// progress kind reports, and their stage texts are fixed strings in
// kind's source.
type kindSteps struct {
	mu       sync.Mutex
	progress func(problem.Step)
	nodes    int
	done     bool // after finish: kind may outlive an interrupted Create

	cur       string // Step name of the open stage, "" if none
	curStart  time.Time
	curFailed bool // kind marked it ✗ but the error has not arrived yet

	// After interrupt, kind's stages are no longer shown; each one that
	// starts runs stageHook instead.
	stopping  bool
	stageHook func()
}

func newSteps(progress func(problem.Step), cfg *v1alpha4.Cluster) *kindSteps {
	return &kindSteps{progress: progress, nodes: len(cfg.Nodes)}
}

// kind warns (a deprecated setting, an engine it was told to use) and logs
// errors it recovers from (a node it could not clean up) through these;
// they reach the learner as StepWarning, not as steps of their own.
func (s *kindSteps) Warn(msg string)                { s.note(msg) }
func (s *kindSteps) Warnf(format string, a ...any)  { s.note(fmt.Sprintf(format, a...)) }
func (s *kindSteps) Error(msg string)               { s.note(msg) }
func (s *kindSteps) Errorf(format string, a ...any) { s.note(fmt.Sprintf(format, a...)) }

func (s *kindSteps) note(msg string) {
	msg = strings.TrimSpace(msg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || msg == "" {
		return
	}
	s.emit(problem.Step{Name: "kind: " + msg, State: problem.StepWarning})
}

// interrupt ends the open stage as stopped and opens one called name for
// the clean-up; finish closes it.
func (s *kindSteps) interrupt(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.curFailed = true
	s.closeOpen(problem.StepFailed, "stopped")
	s.stopping = true
	s.cur, s.curStart, s.curFailed = name, time.Now(), false
	s.emit(problem.Step{Name: name, State: problem.StepStarted,
		Detail: "kind cannot be interrupted; it stops at its next command once its nodes are gone"})
}

// onStage makes every stage kind starts from now on run f first, on kind's
// own goroutine, so kind finds its nodes gone before it goes on.
func (s *kindSteps) onStage(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stageHook = f
}
func (s *kindSteps) V(level log.Level) log.InfoLogger {
	if level > 0 {
		return log.NoopInfoLogger{}
	}
	return kindStatusLogger{s}
}

type kindStatusLogger struct{ s *kindSteps }

func (l kindStatusLogger) Info(message string) { l.s.line(message) }
func (l kindStatusLogger) Infof(format string, args ...any) {
	l.s.line(fmt.Sprintf(format, args...))
}
func (l kindStatusLogger) Enabled() bool { return true }

// line handles one V(0) line from kind.
func (s *kindSteps) line(msg string) {
	msg = strings.TrimRight(msg, "\n")
	s.mu.Lock()
	if s.stopping {
		hook := s.stageHook
		s.mu.Unlock()
		if hook != nil && strings.HasPrefix(msg, " • ") && strings.HasSuffix(msg, "  ...") {
			hook()
		}
		return
	}
	defer s.mu.Unlock()
	if s.done {
		return
	}
	switch {
	case strings.HasPrefix(msg, " • ") && strings.HasSuffix(msg, "  ..."):
		s.closeOpen(problem.StepDone, "")
		stage := strings.TrimSuffix(strings.TrimPrefix(msg, " • "), "  ...")
		name, detail := stepFor(stage, s.nodes)
		s.cur, s.curStart, s.curFailed = name, time.Now(), false
		s.emit(problem.Step{Name: name, State: problem.StepStarted, Detail: detail})
	case strings.HasPrefix(msg, " ✓ "):
		s.closeOpen(problem.StepDone, "")
	case strings.HasPrefix(msg, " ✗ "):
		// Hold it: the error that explains it is what Create returns next.
		s.curFailed = true
	case strings.Contains(msg, "Timed out waiting for Ready"):
		// kind ends its wait with ✗ but still succeeds: the cluster works,
		// it is just not Ready yet.
		s.curFailed = false
		s.closeOpen(problem.StepDone, "not Ready yet; the control plane usually is within a minute or two more")
	}
}

// finish closes the stage still open when kind returns, failed with err's
// summary if err is not nil, and ignores anything kind reports later.
func (s *kindSteps) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		detail := err.Error()
		if p, ok := errors.AsType[*problem.Problem](err); ok {
			detail = p.Summary
		}
		s.curFailed = true
		s.closeOpen(problem.StepFailed, detail)
	} else {
		s.closeOpen(problem.StepDone, "")
	}
	s.done = true
}

// closeOpen ends the open stage. A stage kind marked ✗ ends failed
// whatever state is asked for.
func (s *kindSteps) closeOpen(state problem.StepState, detail string) {
	if s.cur == "" {
		return
	}
	if s.curFailed {
		state = problem.StepFailed
	}
	s.emit(problem.Step{Name: s.cur, State: state, Detail: detail, Elapsed: time.Since(s.curStart)})
	s.cur, s.curFailed = "", false
}

func (s *kindSteps) emit(st problem.Step) {
	if s.progress != nil {
		s.progress(st)
	}
}

// kindStages names kind's stages that need no numbers filled in, by the
// start of kind's text, for a learner, with a line on what each does.
var kindStages = []struct{ prefix, name, detail string }{
	{"Configuring the external load balancer", "Configuring the API server load balancer", ""},
	{"Writing configuration", "Writing the node configuration", "kubeadm settings for every node"},
	{"Starting control-plane", "Starting the control plane", "kubeadm init starts etcd, the API server, the scheduler and the controller manager"},
	{"Installing CNI", "Installing the pod network (CNI)", "kindnet gives every pod its own IP address"},
	{"Installing StorageClass", "Installing the default StorageClass", "so PersistentVolumeClaims get volumes"},
	{"Joining more control-plane nodes", "Joining the other control-plane nodes", ""},
	{"Joining worker nodes", "Joining the worker nodes", "kubeadm join registers each worker with the API server"},
}

// stepFor names a kind stage for a learner, with a line on what it does.
// Stages kind adds in later versions keep kind's own words.
func stepFor(stage string, nodes int) (name, detail string) {
	switch {
	case strings.HasPrefix(stage, "Ensuring node image"):
		image := "the node image"
		if _, rest, ok := strings.Cut(stage, "("); ok {
			image, _, _ = strings.Cut(rest, ")")
		}
		return "Getting the node image", image + ": downloaded once (several hundred MB), then reused"
	case strings.HasPrefix(stage, "Preparing nodes"):
		return "Starting the node containers", fmt.Sprintf("one container per node: %d in all, 1 control plane and %d workers", nodes, nodes-1)
	case strings.HasPrefix(stage, "Waiting"):
		return "Waiting for the control plane to be Ready", fmt.Sprintf("up to %s", kindWaitForReady)
	}
	for _, k := range kindStages {
		if strings.HasPrefix(stage, k.prefix) {
			return k.name, k.detail
		}
	}
	return stripIcons(stage), ""
}

// stripIcons drops the emoji kind ends its stage texts with.
func stripIcons(s string) string {
	fields := strings.Fields(s)
	for len(fields) > 1 {
		last := fields[len(fields)-1]
		if strings.IndexFunc(last, func(r rune) bool { return r < 0x2000 }) >= 0 {
			break
		}
		fields = fields[:len(fields)-1]
	}
	return strings.Join(fields, " ")
}
