package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// heredocApply is a solution step that applies a file written inline.
var heredocApply = regexp.MustCompile(`(?s)^kubectl apply -f - <<'EOF'\n(.*)\nEOF\s*$`)

// referenceManifests is a correct submission for lab: the manifests the
// reference solutions of its 'grading: manifests' tasks apply, in order.
func referenceManifests(t *testing.T, lab *labfile.Lab) []string {
	t.Helper()
	var files []string
	for _, task := range lab.Tasks {
		if task.Grading != labfile.GradedFromManifests {
			continue
		}
		for _, st := range task.Solution {
			switch m := heredocApply.FindStringSubmatch(st.Run); {
			case st.Apply != "":
				files = append(files, st.Apply)
			case m != nil:
				files = append(files, m[1])
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("lab %s: no manifests in the solutions of its manifests tasks", lab.ID)
	}
	return files
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
func runRecipe(t *testing.T, bin, kubeconfig, lab string, manifests []string, edit func(string) string) ciRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, m := range manifests {
		if err := os.WriteFile(filepath.Join(dir, "manifests", fmt.Sprintf("%02d.yaml", i+1)), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig, // as helm/kind-action sets it
		"XDG_STATE_HOME="+t.TempDir())
	var r ciRun
	for _, step := range readmeCIRecipe(t) {
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
// cluster (reached as an existing cluster through $KUBECONFIG, as in CI):
// a correct submission gets full marks, every step exiting 0, and the
// tasks manifests cannot complete are listed as skipped; a wrong one gets
// less and fails the job. Before tasks said how they are graded, the
// deployments lab gave a perfect submission 3/4 after the whole timeout,
// and the capstone 6/12.
func TestREADMECIRecipeGivesACorrectSubmissionFullMarks(t *testing.T) {
	_, kubeconfig := simCluster(t)
	bin := buildK8slab(t)
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"deployments", "three-tier"} {
		lab, ok := c.Lab(id)
		if !ok {
			t.Fatalf("no lab %s", id)
		}
		points, live := 0, 0
		for _, task := range lab.Tasks {
			if task.Grading == labfile.GradedFromManifests {
				points += task.Points
			} else {
				live++
			}
		}
		t.Run(id, func(t *testing.T) {
			right := referenceManifests(t, lab)
			r := runRecipe(t, bin, kubeconfig, id, right, nil)
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

			// A wrong submission: the first manifest left out. Reset the
			// lab (CI starts from a fresh cluster) and wait less: it
			// never passes.
			out, stderr, code := runCode(t, "lab", "reset", id, "--kubeconfig", kubeconfig)
			if code != 0 {
				t.Fatalf("lab reset: %s", stderr)
			}
			// Deleting the namespace takes seconds: reset says what it does.
			for _, want := range []string{"• Deleting namespace lab-" + id + " and what the lab made for it ...\n  ✓ Deleting namespace lab-" + id,
				"• Creating namespace lab-" + id + " and applying the lab's setup ...\n  ✓ Creating"} {
				if !strings.Contains(out, want) {
					t.Errorf("lab reset does not say %q:\n%s", want, out)
				}
			}
			wrong := right[1:]
			if id == "deployments" {
				wrong = []string{strings.Replace(right[0], "replicas: 5", "replicas: 3", 1)}
			}
			r = runRecipe(t, bin, kubeconfig, id, wrong, func(step string) string {
				return strings.Replace(step, "--timeout 5m", "--timeout 15s", 1)
			})
			last := r.exits[len(r.exits)-1]
			if s := r.suite; last != 1 || s.Failures == 0 || s.Errors != 0 || r.score() == fmt.Sprintf("%d/%d", points, points) {
				t.Errorf("a wrong submission: last step exit %d, %+v, score %s; want exit 1 and less than full marks\n%s", last, s, r.score(), r.output)
			}
		})
	}
}
