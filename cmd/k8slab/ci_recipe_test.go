package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

// readmeCIRecipe returns the commands of the README's CI recipe, as the
// README prints them, after the step that installs k8slab (the test puts
// the k8slab it built on PATH instead).
func readmeCIRecipe(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Grading assignments in CI")
	if !ok {
		t.Fatal("README.md has no section \"Grading assignments in CI\"")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the CI section of README.md has no yaml block")
	}
	var workflow struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(block), &workflow); err != nil {
		t.Fatalf("the README's CI recipe is not YAML: %v", err)
	}
	var runs []string
	installed := false
	for _, job := range workflow.Jobs {
		for _, s := range job.Steps {
			switch {
			case strings.Contains(s.Run, "go install github.com/k8slab/k8slab/cmd/k8slab"):
				installed = true
			case s.Run != "" && installed:
				runs = append(runs, s.Run)
			}
		}
	}
	if !installed || len(runs) == 0 || !strings.Contains(strings.Join(runs, "\n"), "deployments") {
		t.Fatalf("the README's CI recipe does not install k8slab and then grade the deployments lab:\n%s", block)
	}
	return runs
}

// ciRun is what the recipe left: each step's exit status, and grade.xml.
type ciRun struct {
	exits  []int
	output string
	suite  gradeSuite
}

// gradeSuite is the lab's test suite in grade.xml.
type gradeSuite struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Props    []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []struct {
		Name    string    `xml:"name,attr"`
		Failure *struct{} `xml:"failure"`
	} `xml:"testcase"`
}

// failed reports whether task's test case in the suite is a failure.
func (s gradeSuite) failed(task string) bool {
	for _, c := range s.Cases {
		if strings.HasPrefix(c.Name, task+": ") {
			return c.Failure != nil
		}
	}
	return false
}

func (r ciRun) score() string {
	for _, p := range r.suite.Props {
		if p.Name == "score" {
			return p.Value
		}
	}
	return ""
}

// runRecipe runs the recipe's commands for lab (the README's lab id
// replaced) in a fresh folder holding manifests/, as GitHub Actions runs
// them: bash -e -o pipefail, each step on its own, every step whatever
// the previous one did (to read grade.xml); edit adjusts a command.
func runRecipe(t *testing.T, bin, kubeconfig, lab string, recipe []string, files []labfile.SubmissionFile, edit func(string) string) ciRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, "manifests", f.File), []byte(f.Apply), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig, // as helm/kind-action sets it
		"XDG_STATE_HOME="+t.TempDir())
	var r ciRun
	for _, step := range recipe {
		step = strings.ReplaceAll(step, "deployments", lab)
		if edit != nil {
			step = edit(step)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		r.output += fmt.Sprintf("$ %s\n%s", step, out)
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		r.exits = append(r.exits, code)
	}
	data, err := os.ReadFile(filepath.Join(dir, "grade.xml"))
	if err != nil {
		t.Fatalf("the recipe wrote no grade.xml: %v\n%s", err, r.output)
	}
	var full struct {
		Suite gradeSuite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &full); err != nil {
		t.Fatalf("grade.xml: %v\n%s", err, data)
	}
	r.suite = full.Suite
	r.output += "grade.xml:\n" + string(data)
	return r
}

// The README's CI recipe, run as it prints it against a simulated
// cluster (reached as an existing cluster through $KUBECONFIG, as in CI),
// for every lab with tasks graded from manifests, each in its own
// namespace of one cluster: the lab's submission gets full marks, every
// step exiting 0, and the tasks manifests cannot complete are listed as
// skipped; each wrong submission gets less, its task failed, and fails
// the job. Before tasks said how they are graded, the deployments lab
// gave a perfect submission 3/4 after the whole timeout, and the capstone
// 6/12; before every lab had a submission, only those two were proven.
func TestREADMECIRecipeGivesACorrectSubmissionFullMarks(t *testing.T) {
	_, kubeconfig := simCluster(t)
	bin := buildK8slab(t)
	recipe := readmeCIRecipe(t)
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, lab := range c.AllLabs() {
		if lab.Submission == nil {
			continue
		}
		lacking := manifestsLacking(lab, labfile.SimulatedClusterLacks)
		t.Run(lab.ID, func(t *testing.T) {
			if len(lacking) > 0 {
				// Its tasks need what the simulator lacks: the recipe
				// run against it says so at once, reached as CI reaches
				// a cluster (through $KUBECONFIG), and grades nothing;
				// it used to fail the submission after the whole
				// timeout (#22). TestREADMECIRecipeOnKind proves it on kind.
				t.Parallel()
				r := runRecipe(t, bin, kubeconfig, lab.ID, recipe, lab.Submission.Files, func(step string) string {
					return strings.Replace(step, "--timeout 5m", "--timeout 30s", 1) // it must not wait at all
				})
				last := r.exits[len(r.exits)-1]
				if s := r.suite; last != 2 || s.Failures != 0 || s.Skipped != len(lab.Tasks) ||
					!strings.Contains(r.output, "k8slab: could not grade lab "+lab.ID) || !strings.Contains(r.output, "graded on a kind cluster only") {
					t.Errorf("a kind-only lab on the simulator: last step exit %d, %+v; want exit 2, every task skipped, and why on stderr\n%s", last, s, r.output)
				}
				return
			}
			// Labs have their own namespaces; the one cluster grades
			// them side by side.
			t.Parallel()
			proveSubmission(t, bin, kubeconfig, recipe, lab)
		})
	}
}

// The same recipe on a kind cluster, for the labs whose manifests tasks
// need what a simulated cluster lacks (dynamic-provisioning: a volume
// provisioner), which the test above skips: `make test-kind` runs it with
// K8SLAB_KIND_KUBECONFIG naming its cluster's kubeconfig. K8SLAB_LABS
// (space-separated) proves those labs instead, any of them.
func TestREADMECIRecipeOnKind(t *testing.T) {
	kubeconfig := os.Getenv("K8SLAB_KIND_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("K8SLAB_KIND_KUBECONFIG names no kind cluster (make test-kind sets it)")
	}
	bin := buildK8slab(t)
	recipe := readmeCIRecipe(t)
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	only := strings.Fields(os.Getenv("K8SLAB_LABS"))
	proved := 0
	for _, lab := range c.AllLabs() {
		if lab.Submission == nil {
			continue
		}
		if len(only) > 0 && !slices.Contains(only, lab.ID) ||
			len(only) == 0 && len(manifestsLacking(lab, labfile.SimulatedClusterLacks)) == 0 {
			continue
		}
		proved++
		// One at a time: a kind cluster's nodes run every pod for real.
		// The cluster is not CI's fresh one: a run before may have left
		// its last wrong submission (an immutable claim that apply cannot
		// change), so the lab starts over first.
		t.Run(lab.ID, func(t *testing.T) {
			resetLab(t, bin, kubeconfig, lab.ID, false)
			proveSubmission(t, bin, kubeconfig, recipe, lab)
		})
	}
	if proved == 0 {
		t.Fatalf("no lab with a submission to prove (K8SLAB_LABS=%q)", os.Getenv("K8SLAB_LABS"))
	}
}

// manifestsLacking is what lab's tasks graded from manifests need of
// lacks.
func manifestsLacking(lab *labfile.Lab, lacks []labfile.Feature) []labfile.Feature {
	var lacking []labfile.Feature
	for i, task := range lab.Tasks {
		if task.Grading == labfile.GradedFromManifests {
			lacking = append(lacking, lab.Lacking(&lab.Tasks[i], lacks)...)
		}
	}
	return lacking
}

// resetLab runs k8slab lab reset for lab on the cluster of kubeconfig;
// with says, a lab that was started says that it deletes and recreates
// its namespace.
func resetLab(t *testing.T, bin, kubeconfig, lab string, says bool) {
	t.Helper()
	reset := exec.Command(bin, "lab", "reset", lab, "--kubeconfig", kubeconfig)
	reset.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	out, err := reset.CombinedOutput()
	if err != nil {
		t.Fatalf("lab reset: %v\n%s", err, out)
	}
	if !says {
		return
	}
	// Deleting the namespace takes seconds: reset says what it does.
	ns := "lab-" + lab
	for _, want := range []string{"• Deleting namespace " + ns + " and what the lab made for it ...\n  ✓ Deleting namespace " + ns,
		"• Creating namespace " + ns + " and applying the lab's setup ...\n  ✓ Creating"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lab reset does not say %q:\n%s", want, out)
		}
	}
}

// proveSubmission runs the recipe for lab on the cluster of kubeconfig:
// its submission gets full marks with every live task skipped, and each
// wrong one, after a lab reset, less, with its task failed.
func proveSubmission(t *testing.T, bin, kubeconfig string, recipe []string, lab *labfile.Lab) {
	t.Helper()
	points, live := 0, 0
	for _, task := range lab.Tasks {
		if task.Grading == labfile.GradedFromManifests {
			points += task.Points
		} else {
			live++
		}
	}
	r := runRecipe(t, bin, kubeconfig, lab.ID, recipe, lab.Submission.Files, nil)
	for i, code := range r.exits {
		if code != 0 {
			t.Errorf("step %d exited %d", i+1, code)
		}
	}
	if s := r.suite; s.Tests != len(lab.Tasks) || s.Failures != 0 || s.Errors != 0 || s.Skipped != live || r.score() != fmt.Sprintf("%d/%d", points, points) {
		t.Errorf("a correct submission: %+v, score %s; want full marks %d/%d with %d live tasks skipped", s, r.score(), points, points, live)
	}
	if t.Failed() {
		t.Log(r.output)
		return
	}
	for _, w := range lab.Submission.Wrong {
		// CI starts from a fresh cluster: reset the lab. A
		// wrong submission never passes, so wait less.
		resetLab(t, bin, kubeconfig, lab.ID, true)
		r := runRecipe(t, bin, kubeconfig, lab.ID, recipe, w.Files(lab.Submission), func(step string) string {
			if strings.Contains(step, "k8slab check") && !strings.Contains(step, "--timeout 5m") {
				t.Fatalf("the recipe's check no longer waits --timeout 5m, which a wrong submission would wait out in full: %s", step)
			}
			return strings.Replace(step, "--timeout 5m", "--timeout 10s", 1)
		})
		last := r.exits[len(r.exits)-1]
		if s := r.suite; last != 1 || !s.failed(w.Fails) || s.Errors != 0 || r.score() == fmt.Sprintf("%d/%d", points, points) {
			t.Errorf("wrong submission %q: last step exit %d, %+v, score %s; want exit 1, task %s failed and less than full marks\n%s", w.Name, last, s, r.score(), w.Fails, r.output)
		}
	}
}

// The README's table of CI submissions is what a teacher reads to grade a
// lab other than deployments: it lists exactly the labs with tasks graded
// from manifests, each with those tasks, their points, and the files and
// objects of the submission the recipe test proves.
func TestREADMENamesEachLabsCISubmission(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "| lab | tasks graded from manifests | a correct `manifests/` folder |\n| --- | --- | --- |\n")
	if !ok {
		t.Fatal("README.md has no table of CI submissions")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	rows := map[string]string{}
	for _, row := range strings.Split(table, "\n") {
		cells := strings.Split(row, " | ")
		// "`lab`", or "`lab` (kind only)"
		rows[strings.Trim(strings.Fields(strings.Trim(cells[0], "| "))[0], "`")] = row
	}
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, lab := range c.AllLabs() {
		row, listed := rows[lab.ID]
		delete(rows, lab.ID)
		if lab.Submission == nil {
			if listed {
				t.Errorf("the README lists lab %s, which grades nothing from manifests", lab.ID)
			}
			continue
		}
		if !listed {
			t.Errorf("the README's table of CI submissions lacks lab %s", lab.ID)
			continue
		}
		var want []string
		points, total := 0, 0
		for _, task := range lab.Tasks {
			total += task.Points
			if task.Grading == labfile.GradedFromManifests {
				points += task.Points
				want = append(want, "`"+task.ID+"`")
			}
		}
		want = []string{strings.Join(want, ", ") + fmt.Sprintf(" (%d of %d points)", points, total)}
		// A teacher reads here that the simulator cannot grade it.
		kindOnly := false
		for i := range lab.Tasks {
			if lab.Tasks[i].Grading == labfile.GradedFromManifests && len(lab.Lacking(&lab.Tasks[i], labfile.SimulatedClusterLacks)) > 0 {
				kindOnly = true
			}
		}
		if kindOnly != strings.HasPrefix(row, "| `"+lab.ID+"` (kind only) |") {
			t.Errorf("the README's row for lab %s must say \"(kind only)\" after the lab exactly when its manifests tasks need what the simulator lacks (%v):\n%s", lab.ID, kindOnly, row)
		}
		for _, f := range lab.Submission.Files {
			objs, err := labfile.DecodeManifests(f.Apply)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.GetKind()+" "+o.GetName())
			}
			want = append(want, "`"+f.File+"` ("+strings.Join(names, ", ")+")")
		}
		for _, w := range want {
			if !strings.Contains(row, w) {
				t.Errorf("the README's row for lab %s does not say %q:\n%s", lab.ID, w, row)
			}
		}
	}
	for id := range rows {
		t.Errorf("the README's table of CI submissions lists %q, which is no lab", id)
	}
}
