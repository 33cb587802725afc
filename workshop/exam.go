package workshop

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// A practice exam in a workshop: the instructor sets one for the whole
// class (the same tasks, the same clock), each learner takes it in exam
// namespaces of their own inside their fence, and the class table shows
// how far each has got (tasks passed of tasks asked, time left) but never
// which tasks nor what is wrong with them: the table may be on the wall
// while the class sits the exam.
//
// Which tasks and which clock are written by the instructor on the exam
// namespaces, which a learner may read but not change (their Role lets
// them get their namespace, nothing more), so a learner cannot shorten
// their own exam; whether a task passed is graded from the cluster, as
// every cell is.

// ExamLabel marks an exam namespace; its value is the exam's seed.
const ExamLabel = "k8slab.dev/exam"

// Annotations of an exam namespace: the lab's tasks in the exam (ids,
// separated by commas) and when the exam began and ends (RFC 3339).
const (
	ExamTasksAnnotation    = "k8slab.dev/exam-tasks"
	ExamStartAnnotation    = "k8slab.dev/exam-start"
	ExamDeadlineAnnotation = "k8slab.dev/exam-deadline"
)

// ExamNamespace is where a learner takes lab's part of a workshop exam:
// apart from the namespace they practise the lab in, which the exam
// leaves as it was, and, like it, inside their fence.
func ExamNamespace(workshop, learner, lab string) string {
	return LabNamespace(workshop, learner, "exam-"+lab)
}

// Exam is an exam the instructor sets for a class.
type Exam struct {
	Seed int64
	// Tasks are the task ids asked, by lab id.
	Tasks map[string][]string
	Start time.Time
	Limit time.Duration
}

// ExamProgress is how far a learner has got in the class's exam: counts
// and the clock only, no task.
type ExamProgress struct {
	Passed   int       `json:"passed"`
	Tasks    int       `json:"tasks"`
	Start    time.Time `json:"start"`
	Deadline time.Time `json:"deadline"`
	// Finished: every task passed, or time ran out.
	Finished bool `json:"finished"`
}

// Left is the exam's time left at now (zero once finished).
func (e ExamProgress) Left(now time.Time) time.Duration {
	if e.Finished {
		return 0
	}
	return max(0, e.Deadline.Sub(now))
}

// StartExam sets ex for every learner of p: each lab of the exam gets an
// exam namespace per learner, fenced as init fences a lab namespace, with
// the learner's Role in it, the lab's setup applied and the exam's tasks
// and clock on it. A class with an exam already set is refused: the
// clock of an exam under way is not restarted by accident.
func StartExam(ctx context.Context, c Clients, p Plan, ex Exam) error {
	existing, err := c.Dynamic.Resource(kube.NamespacesGVR).List(ctx, metav1.ListOptions{LabelSelector: WorkshopLabel + "=" + p.Name + "," + ExamLabel})
	if err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		seed := existing.Items[0].GetLabels()[ExamLabel]
		return fmt.Errorf("workshop %s already has an exam (seed %s); remove it first: kubectl delete namespace -l %s=%s,%s", p.Name, seed, WorkshopLabel, p.Name, ExamLabel)
	}
	var labs []*labfile.Lab
	for _, lab := range p.Labs {
		if len(ex.Tasks[lab.ID]) == 0 {
			continue
		}
		labs = append(labs, lab)
	}
	if len(labs) == 0 {
		return fmt.Errorf("the exam asks no task of the workshop's labs")
	}
	for _, learner := range p.Learners {
		for _, lab := range labs {
			if ns := ExamNamespace(p.Name, learner, lab.ID); len(ns) > 63 {
				return fmt.Errorf("exam namespace %s is longer than Kubernetes allows (63); use a shorter workshop name", ns)
			}
		}
	}
	ports, err := examNodePorts(ctx, c, p, labs)
	if err != nil {
		return err
	}
	for _, learner := range p.Learners {
		for _, lab := range labs {
			if err := startExamLab(ctx, c, p.Name, learner, lab, ex, ports[ExamNamespace(p.Name, learner, lab.ID)]); err != nil {
				return fmt.Errorf("exam of %s, lab %s: %w", learner, lab.ID, err)
			}
		}
	}
	return nil
}

// examNodePorts gives each exam namespace whose lab asks for a nodePort
// one of its own, as init gives each lab namespace: the learners of a
// class share the cluster's nodes, so two Services cannot both hold one
// port. The ports the class's practice namespaces hold stay theirs (the
// exam leaves those namespaces as they are), and so do any others'.
func examNodePorts(ctx context.Context, c Clients, p Plan, labs []*labfile.Lab) (map[string]int, error) {
	var order []string
	for _, learner := range p.Learners {
		for _, lab := range labs {
			if lab.UsesNodePort() {
				order = append(order, ExamNamespace(p.Name, learner, lab.ID))
			}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	kept, taken, err := nodePortsHeld(ctx, c, p.Name)
	if err != nil {
		return nil, err
	}
	for ns, port := range kept {
		if !slices.Contains(order, ns) {
			taken[port] = "namespace " + ns
		}
	}
	return p.allocateNodePorts(order, kept, taken)
}

func startExamLab(ctx context.Context, c Clients, workshop, learner string, lab *labfile.Lab, ex Exam, nodePort int) error {
	ns := ExamNamespace(workshop, learner, lab.ID)
	labels := map[string]string{WorkshopLabel: workshop, LearnerLabel: learner, LabLabel: lab.ID, labenv.ManagedByLabel: labenv.ManagedByValue}
	extra := map[string]string{ExamLabel: strconv.FormatInt(ex.Seed, 10)}
	notes := map[string]string{
		ExamTasksAnnotation:    strings.Join(ex.Tasks[lab.ID], ","),
		ExamStartAnnotation:    ex.Start.UTC().Format(time.RFC3339),
		ExamDeadlineAnnotation: ex.Start.Add(ex.Limit).UTC().Format(time.RFC3339),
	}
	if err := fence(ctx, c.Dynamic, workshop, learner, lab, ns, nodePort, nil, extra, notes); err != nil {
		return err
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: LearnerAccount, Namespace: HomeNamespace(workshop, learner)}}
	meta := metav1.ObjectMeta{Name: "k8slab-learner", Namespace: ns, Labels: labels}
	for _, o := range []item{
		{kube.RolesGVR, ns, &rbacv1.Role{ObjectMeta: meta, Rules: learnerRules}},
		{kube.RoleBindingsGVR, ns, &rbacv1.RoleBinding{ObjectMeta: meta, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "k8slab-learner"}}},
	} {
		if err := apply(ctx, c.Dynamic, o.gvr, o.ns, o.obj); err != nil {
			return err
		}
	}
	if lab.Setup == "" {
		return nil
	}
	if err := labenv.WaitDefaultServiceAccount(ctx, c.Dynamic, ns); err != nil {
		return err
	}
	return labenv.ApplySetup(ctx, c.Dynamic, lab, ns)
}

// ExamSetting is what the instructor wrote on an exam namespace: whose
// it is, the exam's seed, the lab's tasks asked and the clock.
type ExamSetting struct {
	Learner, Lab, Namespace string
	Seed                    int64
	Tasks                   []string
	Start, Deadline         time.Time
	// NodePort is the nodePort the namespace gives its lab.
	NodePort int
}

// ReadExam reads ns as an exam namespace; false when it is not one, or
// its annotations are not the instructor's.
func ReadExam(ns *unstructured.Unstructured) (ExamSetting, bool) {
	labels, notes := ns.GetLabels(), ns.GetAnnotations()
	seed, ok := labels[ExamLabel]
	if !ok {
		return ExamSetting{}, false
	}
	e := ExamSetting{Learner: labels[LearnerLabel], Lab: labels[LabLabel], Namespace: ns.GetName()}
	var err1, err2, err3, err4 error
	e.NodePort, err4 = labenv.NamespaceNodePort(ns)
	e.Seed, err1 = strconv.ParseInt(seed, 10, 64)
	e.Start, err2 = time.Parse(time.RFC3339, notes[ExamStartAnnotation])
	e.Deadline, err3 = time.Parse(time.RFC3339, notes[ExamDeadlineAnnotation])
	for _, t := range strings.Split(notes[ExamTasksAnnotation], ",") {
		if t = strings.TrimSpace(t); t != "" {
			e.Tasks = append(e.Tasks, t)
		}
	}
	return e, err1 == nil && err2 == nil && err3 == nil && err4 == nil && e.Learner != "" && e.Deadline.After(e.Start)
}

// examCell is a learner's exam in one lab as last graded: the tasks
// graded and those that passed at some point. A task counts once it has
// passed, as in 'k8slab exam': a lab's later tasks change what its
// earlier ones made.
type examCell struct {
	learner         string
	start, deadline time.Time
	tasks           int
	passed          map[string]bool
}

// gradeExam grades one learner's exam namespace; prev is its last
// grading (nil for none), whose passed tasks still count when the exam is
// the same one.
func (g *Grader) gradeExam(ctx context.Context, lab *labfile.Lab, e ExamSetting, prev *examCell, snap cacheSnapshot) *examCell {
	cell := &examCell{learner: e.Learner, start: e.Start, deadline: e.Deadline, passed: map[string]bool{}}
	if prev != nil && prev.start.Equal(e.Start) {
		for t := range prev.passed {
			cell.passed[t] = true
		}
	}
	// Questions and tasks that need cluster-wide rights are not graded
	// in a workshop: they are left out of the count.
	var tasks []string
	for _, t := range e.Tasks {
		if slices.Contains(g.graded[lab.ID], t) {
			tasks = append(tasks, t)
		}
	}
	cell.tasks = len(tasks)
	if len(tasks) == 0 || !g.now().Before(e.Deadline) {
		return cell // results after the deadline are not taken
	}
	res := g.engine.EvaluateFrom(ctx, lab, checks.Options{Namespace: e.Namespace, NodePort: e.NodePort, Tasks: tasks}, snap)
	for _, t := range res.Tasks {
		if t.Status == checks.Pass {
			cell.passed[t.ID] = true
		}
	}
	return cell
}

// examProgress sums a learner's exam cells; nil when they have none.
func examProgress(cells []*examCell) *ExamProgress {
	if len(cells) == 0 {
		return nil
	}
	p := &ExamProgress{}
	for _, c := range cells {
		p.Tasks += c.tasks
		p.Passed += len(c.passed)
		if p.Start.IsZero() || c.start.Before(p.Start) {
			p.Start = c.start
		}
		if c.deadline.After(p.Deadline) {
			p.Deadline = c.deadline
		}
	}
	return p
}

// Learners are the learners of workshop name found in the cluster, in
// order: those init made a home namespace for.
func Learners(ctx context.Context, c Clients, name string) ([]string, error) {
	list, err := c.Dynamic.Resource(kube.NamespacesGVR).List(ctx, metav1.ListOptions{LabelSelector: WorkshopLabel + "=" + name + "," + LearnerLabel + ",!" + LabLabel})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range list.Items {
		if l := ns.GetLabels()[LearnerLabel]; l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out, nil
}
