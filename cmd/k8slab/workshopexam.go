package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/exam"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

func newWorkshopExamCmd(g *globals) *cobra.Command {
	var (
		t     target
		labs  string
		tasks int
		limit time.Duration
		seed  int64
	)
	cmd := &cobra.Command{
		Use:   "exam NAME",
		Short: "Set the class a practice exam, shown as progress in 'status'",
		Long: `Set workshop NAME's learners a timed practice exam: the same tasks (picked as
'k8slab exam' picks them, from --labs) and the same clock for everyone, from
now. Each learner takes it in namespaces of their own inside their fence
(NAME-LEARNER-exam-LAB), set up afresh; their practice namespaces are left as
they are. 'workshop status' shows each learner's exam as tasks passed of
tasks asked and the time left, never which tasks: the table can be on the
wall. The tasks and the clock are written on the exam namespaces, which
learners can read but not change.

It is a practice exam, not proctoring. A class has one exam at a time;
remove the last with: kubectl delete namespace -l k8slab.dev/workshop=NAME,k8slab.dev/exam`,
		Example: `  k8slab workshop exam kubecon --labs pods,deployments --tasks 4 --time 30m`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietKlog()
			loaded, err := g.loadCourse()
			if err != nil {
				return err
			}
			chosen, err := pickLabs(loaded, labs)
			if err != nil {
				return err
			}
			if limit <= 0 {
				return fmt.Errorf("--time %s: give the exam some time, e.g. --time 60m", limit)
			}
			if !cmd.Flags().Changed("seed") {
				var b [4]byte
				_, _ = rand.Read(b[:])
				seed = int64(binary.BigEndian.Uint32(b[:]) % 1000000)
			}
			// What a workshop learner cannot do is not asked.
			lacks := append(g.simLacks(&t), labfile.WorkshopLearnerLacks...)
			plan, err := exam.Pick(chosen, tasks, seed, lacks)
			if err != nil {
				return err
			}
			c, err := g.workshopClients(&t)
			if err != nil {
				return err
			}
			learners, err := workshop.Learners(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if len(learners) == 0 {
				return fmt.Errorf("workshop %s has no learners in this cluster; create it with 'k8slab workshop init %s --learners N'", args[0], args[0])
			}
			ex := workshop.Exam{Seed: seed, Tasks: map[string][]string{}, Start: time.Now(), Limit: limit}
			for _, l := range plan.Labs {
				ex.Tasks[l.ID] = plan.TaskIDs(l.ID)
			}
			fmt.Fprintf(g.out, "Setting exam seed %d for %d learners: %d tasks from %s, %s...\n", seed, len(learners), len(plan.Items), labIDList(plan.Labs), limit)
			if err := workshop.StartExam(cmd.Context(), c, workshop.Plan{Name: args[0], Learners: learners, Labs: plan.Labs}, ex); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "The clock runs until %s. 'k8slab workshop status %s' shows the class's progress.\n", ex.Start.Add(limit).Local().Format("15:04"), args[0])
			return nil
		},
	}
	t.flags(cmd)
	namespaceUsage(cmd, "not used: a workshop names its learners' namespaces itself")
	cmd.Flags().StringVar(&labs, "labs", "", "labs to pick tasks from, separated by commas (default: every lab)")
	cmd.Flags().IntVar(&tasks, "tasks", 5, "how many tasks the exam asks")
	cmd.Flags().DurationVar(&limit, "time", 60*time.Minute, "how long the exam lasts")
	cmd.Flags().Int64Var(&seed, "seed", 0, "pick the same tasks as an earlier exam (default: a new seed, printed)")
	return cmd
}

func labIDList(labs []*labfile.Lab) string {
	ids := make([]string, len(labs))
	for i, l := range labs {
		ids[i] = l.ID
	}
	return strings.Join(ids, ", ")
}

// learnerExam is the exam the instructor set a workshop learner: read
// off the learner's exam namespaces (one per lab of the course, where it
// has one), in the order of the course's labs. An error when there is
// none.
func (g *globals) learnerExam(ctx context.Context, t *target, m *workshop.Marker, c *course.Course) (plan exam.Plan, start time.Time, limit time.Duration, err error) {
	client, err := g.client(t)
	if err != nil {
		return exam.Plan{}, time.Time{}, 0, err
	}
	for _, lab := range c.AllLabs() {
		ns, err := client.Resource(kube.NamespacesGVR).Get(ctx, workshop.ExamNamespace(m.Workshop, m.Learner, lab.ID), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			// No exam namespace (a learner may read only their own,
			// so one that does not exist is forbidden).
			continue
		case err != nil:
			return exam.Plan{}, time.Time{}, 0, err
		}
		set, ok := workshop.ReadExam(ns)
		if !ok {
			continue
		}
		plan.Seed, plan.Workshop, start, limit = set.Seed, m.Workshop, set.Start, set.Deadline.Sub(set.Start)
		for _, id := range set.Tasks {
			if task := lab.Task(id); task != nil {
				plan.Items = append(plan.Items, exam.Item{Lab: lab, Task: task})
			}
		}
		plan.Labs = append(plan.Labs, lab)
	}
	if len(plan.Items) == 0 {
		return exam.Plan{}, time.Time{}, 0, fmt.Errorf("workshop %s has set you no exam yet; your instructor sets one with 'k8slab workshop exam %s'", m.Workshop, m.Workshop)
	}
	return plan, start, limit, nil
}
