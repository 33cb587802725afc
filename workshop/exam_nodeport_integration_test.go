package workshop_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// A lab that asks for a nodePort can be in a workshop exam: each
// learner's exam namespace gets a nodePort of its own, none of the
// class's practice ports, and the learner passes on it, graded by their
// own 'k8slab exam' and by the class table. Before, StartExam refused
// such labs ("cannot give each learner yet"): every exam namespace would
// have asked for 30080, and the second learner's Service been refused.
func TestWorkshopExamGivesEachLearnerANodePort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := newExamClass(t, "wxp", "services")
	admin, plan, services, out, dir, name := c.admin, c.plan, c.lab, c.out, c.dir, c.plan.Name
	if !services.UsesNodePort() {
		t.Fatal("the services lab asks for no nodePort of the learner's")
	}
	ctx := context.Background()
	tasks := []string{"expose-web", "nodeport"}
	ex := workshop.Exam{Seed: 11, Tasks: map[string][]string{"services": tasks}, Start: time.Now(), Limit: 30 * time.Minute}
	if err := workshop.StartExam(ctx, admin, plan, ex); err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, learner := range plan.Learners {
		practice, err := labenv.NodePort(ctx, admin.Dynamic, services, workshop.LabNamespace(name, learner, services.ID))
		if err != nil {
			t.Fatal(err)
		}
		seen[practice] = learner + "'s practice"
	}
	for _, learner := range plan.Learners {
		path := filepath.Join(out, learner+".kubeconfig")
		c := clientsFor(t, path)
		ns := workshop.ExamNamespace(name, learner, services.ID)
		// As the learner's k8slab reads it: off their exam namespace.
		port, err := labenv.NodePort(ctx, c.Dynamic, services, ns)
		if err != nil {
			t.Fatalf("%s reading their exam's nodePort: %v", learner, err)
		}
		if port == labfile.DefaultNodePort || seen[port] != "" {
			t.Fatalf("%s's exam has nodePort %d, which is 30080 or %s's too", learner, port, seen[port])
		}
		seen[port] = learner + "'s exam"
		kube := filepath.Join(dir, learner+"-exam.kubeconfig")
		if err := clusterctl.WriteNamespacedKubeconfig(path, "", ns, kube); err != nil {
			t.Fatal(err)
		}
		for _, id := range tasks {
			for _, st := range services.Task(id).Solution {
				if err := labenv.RunStep(ctx, c.Dynamic, kube, ns, labfile.ExpandStep(st, port)); err != nil {
					t.Fatalf("%s, exam task %s: %v", learner, id, err)
				}
			}
		}
		// The learner's own headless exam, resumed on the instructor's
		// clock, grades on their port.
		cfg, err := clusterctl.RESTConfig(path, "")
		if err != nil {
			t.Fatal(err)
		}
		taken := exam.Plan{Seed: ex.Seed, Workshop: name, Labs: []*labfile.Lab{services}}
		for _, id := range tasks {
			taken.Items = append(taken.Items, exam.Item{Lab: services, Task: services.Task(id)})
		}
		var report strings.Builder
		h := &exam.Headless{Plan: taken, Limit: ex.Limit, UntilDone: true, Format: "text", Out: &report, Prepared: true, Start: ex.Start,
			Namespace: func(l *labfile.Lab) string { return workshop.ExamNamespace(name, learner, l.ID) }}
		hctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // turns a hang into a failure
		status, err := h.Run(hctx, cfg)
		cancel()
		if err != nil || status != exam.ExitPassed {
			t.Errorf("%s's exam on nodePort %d ended %d, %v:\n%s", learner, port, status, err, report.String())
		}
	}
	// The class table grades each exam on its own port too.
	tables := make(chan workshop.Table, 1)
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("grader: %v", err)
		}
	}()
	go func() {
		done <- workshop.NewGrader(admin, name, c.builtIn.AllLabs()).Run(gctx, 0, func(tb workshop.Table) {
			select {
			case <-tables:
			default:
			}
			tables <- tb
		})
	}()
	bound := time.After(3 * time.Minute) // turns a hang into a failure
	var last workshop.Table
	for {
		select {
		case tb := <-tables:
			last = tb
			passed := 0
			for _, r := range tb.Rows {
				if r.Exam != nil && r.Exam.Passed == len(tasks) {
					passed++
				}
			}
			if passed == len(plan.Learners) {
				return
			}
		case <-bound:
			t.Fatalf("the class table never showed both exams passed: %+v", last.Rows)
		}
	}
}
