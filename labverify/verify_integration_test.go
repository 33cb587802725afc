package labverify_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/labverify"
)

func TestVerifyOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, _ := clustertest.Start(t, "k8slab-verify")
	rc, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := labverify.Config{Kubeconfig: p.KubeconfigPath(), Client: dynamic.NewForConfigOrDie(rc)}
	ctx := context.Background()

	// The whole built-in course is proved with this package by the checks
	// package's TestLabsOnSimulatedCluster; proving it twice would only
	// double CI's time. Here: a lab the cluster cannot show is skipped,
	// not failed, and a broken solution is named.
	t.Run("a kind-only lab is skipped, not failed", func(t *testing.T) {
		lab := builtInLab(t, "dynamic-provisioning")
		sim := cfg
		sim.Lacks = map[labfile.Feature]bool{labfile.Containers: true, labfile.Storage: true, labfile.NodePortFromHost: true}
		rep := labverify.VerifyLab(ctx, sim, lab)
		for _, f := range rep.Failures {
			t.Errorf("%s", f)
		}
		if len(rep.Skipped) == 0 {
			t.Error("the kind-only lab was not reported as skipped")
		}
	})

	// Someone else labels a node while a namespaced lab is proved (on
	// kind: the scheduling lab proved beside it); the proof must not undo
	// that. Before, every lab's proof put back the node labels it saw at
	// its start, at each phase and at the end.
	t.Run("a namespaced lab leaves node labels alone", func(t *testing.T) {
		lab := builtInLab(t, "kubectl-and-yaml")
		nodes, err := cfg.Client.Resource(kube.NodesGVR).List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			t.Fatalf("listing nodes: %v", err)
		}
		node := nodes.Items[0].GetName()
		label := func(value string) {
			t.Helper()
			patch := fmt.Sprintf(`{"metadata":{"labels":{"k8slab-test-other":%s}}}`, value)
			if _, err := cfg.Client.Resource(kube.NodesGVR).Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { label("null") })
		other := cfg
		phase := 0
		other.Prepare = func(context.Context, *labfile.Lab, string) error {
			phase++
			label(fmt.Sprintf("%q", fmt.Sprint(phase)))
			return nil
		}
		rep := labverify.VerifyLab(ctx, other, lab)
		for _, f := range rep.Failures {
			t.Errorf("%s", f)
		}
		n, err := cfg.Client.Resource(kube.NodesGVR).Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := n.GetLabels()["k8slab-test-other"], fmt.Sprint(phase); phase == 0 || got != want {
			t.Errorf("after proving %s, node %s has k8slab-test-other=%q; want %q, as the last phase left it", lab.ID, node, got, want)
		}
	})

	// Jobs makes a lab's mistakes at once: the namespaces of the first
	// mistakes are prepared together (each Prepare waits for the others,
	// so made one after the other the proof would stall and fail), and
	// failures still come in the lab's order, whatever order they end in.
	t.Run("mistakes are made at once and reported in order", func(t *testing.T) {
		lab := builtInLab(t, "kubectl-and-yaml")
		var want []string
		for i := range lab.Tasks {
			task := &lab.Tasks[i]
			if task.Question != nil || len(task.Mistakes) == 0 {
				continue
			}
			// The last mistake of each task promises a message no check
			// gives: it must fail, named.
			m := &task.Mistakes[len(task.Mistakes)-1]
			m.Expect = "a message no check of this lab gives"
			want = append(want, task.ID+"/"+m.Name)
		}
		if len(want) < 2 {
			t.Fatalf("kubectl-and-yaml has mistakes in %d tasks; this test needs two", len(want))
		}
		const together = 3
		var mu sync.Mutex
		prepared := 0
		all := make(chan struct{})
		at := cfg
		at.Jobs = together
		at.MistakeTimeout = 15 * time.Second
		at.Prepare = func(ctx context.Context, _ *labfile.Lab, ns string) error {
			mu.Lock()
			prepared++
			// The first is the solutions' namespace, then the reset's
			// is dropped; the mistakes' come after.
			n := prepared
			if n == together+1 {
				close(all)
			}
			mu.Unlock()
			if n > 1 && n <= together+1 {
				select {
				case <-all:
				case <-time.After(2 * time.Minute):
					return fmt.Errorf("namespace %d was prepared alone: mistakes are not made %d at a time", n, together)
				}
			}
			_, err := cfg.Client.Resource(kube.NamespacesGVR).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns, "labels": map[string]any{labenv.ManagedByLabel: labenv.ManagedByValue, labenv.LabLabel: lab.ID}}}}, metav1.CreateOptions{})
			return err
		}
		rep := labverify.VerifyLab(ctx, at, lab)
		var got []string
		for _, f := range rep.Failures {
			if f.Phase != "mistake" || !strings.Contains(f.Message, "a message no check of this lab gives") {
				t.Errorf("unexpected failure: %s", f)
				continue
			}
			got = append(got, f.Task+"/"+f.Mistake)
		}
		if !slices.Equal(got, want) {
			t.Errorf("failures %q, want %q in the lab's order", got, want)
		}
	})

	// A mistake that breaks a check outside its requirement is still
	// named, though the proof now waits for such checks to clear before
	// it judges (on a loaded machine a controller's Event came after the
	// mistake's message, and a right mistake was reported as breaking
	// more). Here "Skipped the manual scale" is said to break the other
	// requirement of its task: the check it really breaks never clears.
	t.Run("a mistake breaking another requirement is named", func(t *testing.T) {
		lab := builtInLab(t, "declarative")
		var kept []labfile.Task
		for _, task := range lab.Tasks {
			task.Mistakes = nil
			if task.ID == "undo-drift" {
				task.Mistakes = []labfile.Mistake{{Name: "Skipped the manual scale", Steps: []labfile.Step{{Run: "true"}},
					Expect: "has not been scaled from 4 to 6", Breaks: "back-by-apply"}}
				kept = append(kept, task)
				break
			}
			kept = append(kept, task)
		}
		if kept[len(kept)-1].ID != "undo-drift" {
			t.Fatal("the declarative lab has no task undo-drift; update this test")
		}
		lab.Tasks = kept
		quick := cfg
		quick.MistakeTimeout = 15 * time.Second
		quick.SkipSubmission = true // its wrong submissions name the tasks cut off
		rep := labverify.VerifyLab(ctx, quick, lab)
		if len(rep.Failures) != 1 || rep.Failures[0].Phase != "mistake" ||
			!strings.Contains(rep.Failures[0].Message, `breaks more than requirement "back-by-apply": check "web was scaled from 4 to 6 by hand" failed too`) {
			t.Errorf("failures %+v; want one saying the mistake breaks more than back-by-apply", rep.Failures)
		}
	})

	t.Run("broken solution is named", func(t *testing.T) {
		dir := copyCourse(t)
		lab := filepath.Join(dir, "pods", "labs", "pods.yaml")
		data, err := os.ReadFile(lab)
		if err != nil {
			t.Fatal(err)
		}
		good := "      - run: kubectl run web --image=nginx:1.27 --labels=app=web\n    requires:"
		if !strings.Contains(string(data), good) {
			t.Fatal("the pods lab changed; update this test's broken solution")
		}
		// The realistic slip: the right pod, the wrong label.
		broken := strings.Replace(string(data), good, "      - run: kubectl run web --image=nginx:1.27 --labels=app=webb\n    requires:", 1)
		if err := os.WriteFile(lab, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := course.Load(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		pods, ok := c.Lab("pods")
		if !ok {
			t.Fatal("no pods lab")
		}
		quick := cfg
		quick.SolveTimeout = 10 * time.Second // the broken solution never passes
		rep := labverify.VerifyLab(ctx, quick, pods)
		if rep.Passed() {
			t.Fatal("a broken solution passed verification")
		}
		found := false
		for _, f := range rep.Failures {
			if f.Task == "web-pod" && f.Phase == "solution" && strings.Contains(f.String(), "task web-pod") {
				found = true
			}
		}
		if !found {
			t.Errorf("no solution failure naming task web-pod: %+v", rep.Failures)
		}
		if len(rep.Failures) != 1 {
			t.Errorf("one broken solution should be reported once, got %+v", rep.Failures)
		}
	})
}

// copyCourse writes the built-in course to a folder, as an author's
// would be.
// builtInLab is the built-in course's lab id.
func builtInLab(t *testing.T, id string) *labfile.Lab {
	t.Helper()
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	lab, ok := builtIn.Lab(id)
	if !ok {
		t.Fatalf("the built-in course has no lab %s", id)
	}
	return lab
}

func copyCourse(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := assets.Course()
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, path)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// submissionLab is a lab small enough to prove in seconds, with a CI
// submission and wrong ones; wrong is the first wrong one's 'with'.
func submissionLab(t *testing.T, wrong string) *labfile.Lab {
	t.Helper()
	lab, problems := labfile.ParseLab([]byte(`apiVersion: k8slab.dev/v1alpha1
kind: Lab
id: tiny
title: A tiny lab
summary: One ConfigMap.
tasks:
  - id: settings
    grading: manifests
    title: Settings
    goal: Create ConfigMap settings with color blue.
    hints: [kubectl create configmap settings --from-literal=color=blue]
    solution:
      - run: kubectl create configmap settings --from-literal=color=blue
    requires:
      - id: blue
        says: color blue
        checks: [settings says blue]
    mistakes:
      - name: Red
        steps:
          - run: kubectl create configmap settings --from-literal=color=red
        expect: must say blue
        breaks: blue
    checks:
      - name: settings says blue
        object:
          apiVersion: v1
          kind: ConfigMap
          name: settings
          assert:
            - expr: has(object.data) && 'color' in object.data && object.data.color == 'blue'
              message: settings must say blue
submission:
  files:
    - file: settings.yaml
      apply: |
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          color: blue
  wrong:
    - name: Wrote it in another colour
      file: settings.yaml
      replace: "color: blue"
      with: "` + wrong + `"
      fails: settings
`))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return lab
}

// lab verify proves a course author's CI submission as the README's
// recipe grades it (#22): the correct one gets full marks, and a "wrong"
// one the checks accept is reported. Before, lab verify never applied a
// submission, and only the built-in labs' were proved, by the test suite.
func TestVerifyProvesTheSubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, _ := clustertest.Start(t, "k8slab-verify-sub")
	rc, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := labverify.Config{Kubeconfig: p.KubeconfigPath(), Client: dynamic.NewForConfigOrDie(rc), SubmissionTimeout: 20 * time.Second}
	ctx := context.Background()

	rep := labverify.VerifyLab(ctx, cfg, submissionLab(t, "color: red"))
	for _, f := range rep.Failures {
		t.Errorf("a correct submission and a wrong one that loses marks: %s", f)
	}
	// A number where a ConfigMap wants a string: the API server refuses
	// the object and kubectl apply exits 1, which loses the marks (as in
	// the kubectl-and-yaml lab's "Left 1.10 unquoted"; lab verify called
	// it a broken proof before).
	rep = labverify.VerifyLab(ctx, cfg, submissionLab(t, "color: 1.10"))
	for _, f := range rep.Failures {
		t.Errorf("a wrong submission the API server refuses: %s", f)
	}
	// "Wrong" only in its spelling: the checks rightly accept it, and
	// lab verify says the wrong submission does not lose marks.
	rep = labverify.VerifyLab(ctx, cfg, submissionLab(t, "color: 'blue'"))
	if len(rep.Failures) != 1 || rep.Failures[0].Phase != "submission" || !strings.Contains(rep.Failures[0].Message, "gets task settings's marks") {
		t.Errorf("a wrong submission the checks accept: %+v; want one submission failure saying so", rep.Failures)
	}
}
