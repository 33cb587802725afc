package exam

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/checks/report"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// Exit statuses, as 'k8slab check' has them.
const (
	ExitPassed    = 0 // every task passed
	ExitNotDone   = 1 // some task did not
	ExitNotGraded = 2 // some task could not be graded at all
)

// Points says n points.
func Points(n int) string {
	if n == 1 {
		return "1 point"
	}
	return fmt.Sprintf("%d points", n)
}

// ExitStatus is what r means for a script.
func ExitStatus(r Result) int {
	status := ExitPassed
	for _, m := range r.Tasks {
		switch {
		case m.Status.Broken():
			return ExitNotGraded
		case !m.Passed():
			status = ExitNotDone
		}
	}
	return status
}

// Headless runs an exam without a screen, for CI: it starts the labs,
// grades until every task passed (UntilDone) or time runs out, and writes
// the result.
type Headless struct {
	Plan      Plan
	Limit     time.Duration
	UntilDone bool
	Format    report.Format
	Out       io.Writer
	// Review gives the lessons to review for a lab; Save keeps the
	// result (in progress); both may be nil.
	Review func(*labfile.Lab) []Lesson
	Save   func(Result) error
	// Now defaults to time.Now.
	Now func() time.Time
	// Namespace picks a lab's namespace (nil: Namespace). Prepared says
	// the labs are set up already and Start when the exam began: a
	// workshop's exam, which the instructor set up and whose clock runs
	// whether or not the learner's k8slab does (running it again
	// resumes it, work and clock).
	Namespace func(*labfile.Lab) string
	Prepared  bool
	Start     time.Time
}

type graded struct {
	res checks.LabResult
	err error
}

// Run runs the exam on the cluster cfg and returns its exit status; an
// error only when the labs could not be started or the result written.
func (h *Headless) Run(ctx context.Context, cfg *rest.Config) (int, error) {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return ExitNotGraded, err
	}
	text := h.Format == report.Text
	nsOf := h.Namespace
	if nsOf == nil {
		nsOf = Namespace
	}
	if text {
		fmt.Fprintf(h.Out, "Practice exam, seed %d: %d tasks, %s.\n", h.Plan.Seed, len(h.Plan.Items), h.timeLeft(now()))
		for i, it := range h.Plan.Items {
			fmt.Fprintf(h.Out, "%2d. %s/%s: %s (%s, namespace %s)\n", i+1, it.Lab.ID, it.Task.ID, it.Task.Title, Points(it.Task.Points), nsOf(it.Lab))
		}
	}
	for _, lab := range h.Plan.Labs {
		if h.Prepared {
			break
		}
		if text {
			fmt.Fprintf(h.Out, "Starting lab %s afresh in namespace %s\n", lab.ID, nsOf(lab))
		}
		if err := labenv.ResetLab(ctx, client, lab, nsOf(lab)); err != nil {
			return ExitNotGraded, fmt.Errorf("starting lab %s in namespace %s: %w", lab.ID, nsOf(lab), err)
		}
	}
	start := h.Start
	if start.IsZero() {
		start = now()
	}
	s := NewSession(h.Plan, start, h.Limit)
	s.Namespaces = nsOf
	if text {
		fmt.Fprintf(h.Out, "The clock runs: %s, until %s.\n", h.timeLeft(now()), s.Deadline().Local().Format("15:04:05"))
	}
	ctx, cancel := context.WithDeadline(ctx, s.Deadline())
	defer cancel()
	results := make(chan graded)
	var wg sync.WaitGroup
	for _, lab := range h.Plan.Labs {
		cache, err := clustercache.NewForConfig(cfg, nil)
		if err != nil {
			return ExitNotGraded, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cache.Close()
			// A workshop gives each learner's namespace a nodePort of
			// its own; graded against 30080, a right answer failed.
			port, err := labenv.NodePort(ctx, client, lab, nsOf(lab))
			if err != nil {
				select {
				case results <- graded{err: fmt.Errorf("grading lab %s: %w", lab.ID, err)}:
				case <-ctx.Done():
				}
				return
			}
			opts := checks.Options{Namespace: nsOf(lab), NodePort: port, Tasks: h.Plan.TaskIDs(lab.ID), Cache: cache}
			err = checks.NewEngine(client).Watch(ctx, lab, opts, func(r checks.LabResult) {
				select {
				case results <- graded{res: r}:
				case <-ctx.Done():
				}
			})
			if err != nil && ctx.Err() == nil {
				select {
				case results <- graded{err: fmt.Errorf("grading lab %s: %w", lab.ID, err)}:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	why := EndedTime
	said := map[string]bool{}
	for g := range results {
		if g.err != nil {
			fmt.Fprintln(h.Out, "k8slab:", g.err)
			continue
		}
		if s.Record(g.res, now()) && text {
			for _, it := range h.Plan.Items {
				if it.Lab.ID == g.res.Lab && s.Passed(it) && !said[it.Key()] {
					said[it.Key()] = true
					fmt.Fprintf(h.Out, "--- %s ✓ %s/%s\n", Clock(now().Sub(s.Start)), it.Lab.ID, it.Task.ID)
				}
			}
		}
		if h.UntilDone && s.Done() && ctx.Err() == nil {
			why = EndedFinished
			cancel()
		}
	}
	r := s.Result(now(), why, h.Review)
	if h.Save != nil {
		if err := h.Save(r); err != nil {
			fmt.Fprintln(h.Out, "k8slab: the result could not be saved in progress:", err)
		}
	}
	if err := Write(h.Out, h.Format, r); err != nil {
		return ExitNotGraded, err
	}
	return ExitStatus(r), nil
}

// timeLeft says how long the exam has at now: its whole time, or, when
// its clock began before this run (a workshop's exam resumed), what is
// left of it; printing the whole time then promised a learner minutes
// they did not have.
func (h *Headless) timeLeft(now time.Time) string {
	if h.Start.IsZero() {
		return h.Limit.String()
	}
	left := max(0, h.Start.Add(h.Limit).Sub(now)).Round(time.Second)
	return fmt.Sprintf("%s left of %s", left, h.Limit)
}
