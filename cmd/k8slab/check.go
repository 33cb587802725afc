package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/lessons"
)

// target is how the lab commands reach a cluster and which namespace.
type target struct {
	kubeconfig, context, namespace string
}

func (t *target) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.kubeconfig, "kubeconfig", "", "kubeconfig to use (default: $KUBECONFIG, else the cluster 'k8slab cluster up' made, else ~/.kube/config)")
	cmd.Flags().StringVar(&t.context, "context", "", "kubeconfig context to use")
	cmd.Flags().StringVarP(&t.namespace, "namespace", "n", "", "namespace the lab runs in (default lab-<id>; workshops give each learner their own)")
}

// kubeconfigPath picks the cluster: explicit flags first, then $KUBECONFIG
// (through client-go's default rules, signalled by ""), then the lab
// cluster k8slab created, then the default kubeconfig.
func (g *globals) kubeconfigPath(t *target) string {
	if t.kubeconfig != "" || os.Getenv("KUBECONFIG") != "" {
		return t.kubeconfig
	}
	if state, err := g.stateDirectory(); err == nil {
		if recs, err := clusterctl.NewRecords(state).All(); err == nil && len(recs) > 0 {
			return recs[0].Kubeconfig
		}
	}
	return ""
}

// client connects to the cluster kubeconfigPath picks.
func (g *globals) client(t *target) (dynamic.Interface, error) {
	cfg, err := clusterctl.RESTConfig(g.kubeconfigPath(t), t.context)
	if err != nil {
		return nil, fmt.Errorf("%w; create a cluster with 'k8slab cluster up' or pass --kubeconfig", err)
	}
	return dynamic.NewForConfig(cfg)
}

// quietKlog keeps client-go's own logging off stderr: graders such as
// GitHub Classroom fail a test on any stderr output.
func quietKlog() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}

func (g *globals) findLab(id string) (*lessons.Course, *checks.Lab, error) {
	course, err := g.loadCourse()
	if err != nil {
		return nil, nil, err
	}
	lab, ok := course.Lab(id)
	if !ok {
		var ids []string
		for _, l := range course.AllLabs() {
			ids = append(ids, l.ID)
		}
		return nil, nil, fmt.Errorf("no lab %q; the labs are: %s", id, strings.Join(ids, ", "))
	}
	return course, lab, nil
}

func newLabsCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "labs",
		Short: "List the hands-on labs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			type labInfo struct {
				ID        string   `json:"id"`
				Title     string   `json:"title"`
				Module    string   `json:"module"`
				Namespace string   `json:"namespace"`
				Tasks     int      `json:"tasks"`
				Points    int      `json:"points"`
				Features  []string `json:"features"`
			}
			var labs []labInfo
			for _, l := range course.AllLabs() {
				info := labInfo{ID: l.ID, Title: l.Title, Module: l.Module, Namespace: l.Namespace, Tasks: len(l.Tasks), Features: []string{}}
				for _, t := range l.Tasks {
					info.Points += t.Points
				}
				for _, f := range l.Features {
					info.Features = append(info.Features, string(f))
				}
				labs = append(labs, info)
			}
			switch format {
			case "json":
				enc := json.NewEncoder(g.out)
				enc.SetIndent("", "  ")
				return enc.Encode(labs)
			case "text":
				tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTITLE\tMODULE\tTASKS\tFEATURES")
				for _, l := range labs {
					features := strings.Join(l.Features, ",")
					if features == "" {
						features = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", l.ID, l.Title, l.Module, l.Tasks, features)
				}
				return tw.Flush()
			}
			return fmt.Errorf("--format %q: use text or json", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func newCheckCmd(g *globals) *cobra.Command {
	var (
		t       target
		format  string
		watch   bool
		timeout time.Duration
		answers []string
	)
	cmd := &cobra.Command{
		Use:   "check LAB [TASK]",
		Short: "Grade a lab against the live cluster",
		Long: `Grade a lab (or one of its tasks) by reading the live Kubernetes API. It never
reads your local progress: what counts is what the cluster holds.

Exit status: 0 when every task passes, 1 when some are not done yet, 2 when
the lab could not be graded (cluster unreachable, access forbidden, bad
arguments). On a normal pass or fail nothing is written to stderr.

Formats: text, json, junit, tap, and gradescope (Gradescope's results.json).`,
		Example: `  k8slab check deployments
  k8slab check deployments scale --watch
  k8slab check explore-cluster --answer count-nodes=3
  k8slab check rolling-updates --format junit > report.xml`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			_, lab, err := g.findLab(args[0])
			if err != nil {
				return err
			}
			opts := checks.Options{Namespace: g.labNamespace(&t, lab), Answers: map[string]string{}}
			if len(args) == 2 {
				if !hasTask(lab, args[1]) {
					return fmt.Errorf("lab %s has no task %q; its tasks are: %s", lab.ID, args[1], taskIDs(lab))
				}
				opts.Tasks = []string{args[1]}
			}
			for _, a := range answers {
				id, val, ok := strings.Cut(a, "=")
				if !ok || !hasTask(lab, id) {
					return fmt.Errorf("--answer %q: use TASK=ANSWER with a task of lab %s (%s)", a, lab.ID, taskIDs(lab))
				}
				opts.Answers[id] = val
			}
			write, err := formatter(format)
			if err != nil {
				return err
			}
			client, err := g.client(&t)
			if err != nil {
				return err
			}
			engine := checks.NewEngine(client)
			ctx := cmd.Context()
			if watch {
				ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
				defer stop()
				err := engine.Watch(ctx, lab, opts, func(r checks.LabResult) {
					fmt.Fprintf(g.out, "--- %s\n", r.At.Local().Format("15:04:05"))
					_ = write(g.out, r)
				})
				return err
			}
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			res := engine.Evaluate(ctx, lab, opts)
			if err := write(g.out, res); err != nil {
				return err
			}
			switch {
			case res.Broken():
				return exitCode(2)
			case !res.Passed():
				return exitCode(1)
			}
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVarP(&format, "format", "o", "text", "text, json, junit, tap or gradescope")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "keep checking and print the result whenever it changes")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up grading after this long")
	cmd.Flags().StringArrayVar(&answers, "answer", nil, "answer to a question task, as TASK=ANSWER (repeatable)")
	return cmd
}

func hasTask(lab *checks.Lab, id string) bool {
	for _, t := range lab.Tasks {
		if t.ID == id {
			return true
		}
	}
	return false
}

func taskIDs(lab *checks.Lab) string {
	var ids []string
	for _, t := range lab.Tasks {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, ", ")
}

type writeFunc func(io.Writer, checks.LabResult) error

func formatter(name string) (writeFunc, error) {
	switch name {
	case "text":
		return writeText, nil
	case "json":
		return func(w io.Writer, r checks.LabResult) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}, nil
	case "junit":
		return writeJUnit, nil
	case "tap":
		return writeTAP, nil
	case "gradescope":
		return writeGradescope, nil
	}
	return nil, fmt.Errorf("--format %q: use text, json, junit, tap or gradescope", name)
}

var statusMark = map[checks.Status]string{
	checks.Pass: "✓", checks.Fail: "✗", checks.Missing: "✗",
	checks.Forbidden: "!", checks.Unreachable: "!", checks.Error: "!",
}

func writeText(w io.Writer, r checks.LabResult) error {
	fmt.Fprintf(w, "%s (namespace %s)\n", r.Title, r.Namespace)
	for _, t := range r.Tasks {
		fmt.Fprintf(w, "%s %s [%d/%d]\n", statusMark[t.Status], t.Title, t.Points, t.MaxPoints)
		for _, c := range t.Checks {
			if c.Status == checks.Pass {
				continue
			}
			for _, m := range c.Messages {
				fmt.Fprintf(w, "    %s\n", m)
			}
		}
	}
	verdict := "all tasks done"
	switch {
	case r.Broken():
		verdict = "could not grade every task"
	case !r.Passed():
		verdict = "not done yet"
	}
	_, err := fmt.Fprintf(w, "Score %d/%d: %s\n", r.Score, r.MaxScore, verdict)
	return err
}

func writeTAP(w io.Writer, r checks.LabResult) error {
	fmt.Fprintf(w, "TAP version 13\n1..%d\n", len(r.Tasks))
	for i, t := range r.Tasks {
		ok := "ok"
		if t.Status != checks.Pass {
			ok = "not ok"
		}
		fmt.Fprintf(w, "%s %d - %s: %s\n", ok, i+1, t.ID, t.Title)
		if t.Status != checks.Pass {
			fmt.Fprintf(w, "  ---\n  status: %s\n  messages:\n", t.Status)
			for _, c := range t.Checks {
				for _, m := range c.Messages {
					fmt.Fprintf(w, "    - %q\n", m)
				}
			}
			fmt.Fprintln(w, "  ...")
		}
	}
	return nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r checks.LabResult) error {
	s := junitSuite{Name: r.Lab, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
	for _, t := range r.Tasks {
		for _, c := range t.Checks {
			tc := junitCase{Name: t.ID + ": " + c.Name, ClassName: r.Lab + "." + t.ID}
			msg := strings.Join(c.Messages, "; ")
			switch {
			case c.Status.Broken():
				tc.Error = &junitProblem{Message: msg, Type: string(c.Status), Text: msg}
				s.Errors++
			case c.Status != checks.Pass:
				tc.Failure = &junitProblem{Message: msg, Type: string(c.Status), Text: msg}
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeGradescope writes Gradescope's autograder results.json: one test per
// task with score and max_score.
func writeGradescope(w io.Writer, r checks.LabResult) error {
	type test struct {
		Name     string  `json:"name"`
		Number   string  `json:"number"`
		Score    float64 `json:"score"`
		MaxScore float64 `json:"max_score"`
		Status   string  `json:"status"`
		Output   string  `json:"output,omitempty"`
	}
	out := struct {
		Score         float64 `json:"score"`
		ExecutionTime float64 `json:"execution_time"`
		Output        string  `json:"output"`
		Tests         []test  `json:"tests"`
	}{Score: float64(r.Score), ExecutionTime: r.Duration.Seconds(), Output: fmt.Sprintf("%s: %d/%d", r.Title, r.Score, r.MaxScore)}
	for i, t := range r.Tasks {
		status := "passed"
		if t.Status != checks.Pass {
			status = "failed"
		}
		var msgs []string
		for _, c := range t.Checks {
			msgs = append(msgs, c.Messages...)
		}
		out.Tests = append(out.Tests, test{Name: t.Title, Number: fmt.Sprint(i + 1), Score: float64(t.Points), MaxScore: float64(t.MaxPoints), Status: status, Output: strings.Join(msgs, "\n")})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
