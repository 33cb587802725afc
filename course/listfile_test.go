package course_test

import (
	"strings"
	"testing"

	"github.com/k8slab/k8slab/course"
)

// The glossary and the timeline notes are lists whose entries each may
// name a lesson; one loader reads both. Every problem of a bad file is
// reported with its file and line and says what to do, word for word as
// an author has always read it.
func TestListFileProblems(t *testing.T) {
	long := strings.Repeat("long ", 40)
	for name, tc := range map[string]struct {
		file, data string
		want       []string
	}{
		"bad glossary": {"glossary.yaml", `apiVersion: k8slab.dev/v1alpha1
kind: Glossary
terms:
  - term: node
    definition: A machine that runs pods.
    see: secnod
  - term: Node
    definition: Again.
  - definition: No term.
  - term: pod
  - term: label
    definition: |
      two
      lines
  - term: taint
    definition: ` + long + `
`, []string{
			`glossary.yaml:6: "node" names lesson "secnod", which is not a lesson of this course (did you mean "second"?)`,
			`glossary.yaml:7: term "Node" is listed twice (also at line 4); keep one entry`,
			`glossary.yaml:9: entry 3 has no term; add 'term: NAME'`,
			`glossary.yaml:10: "pod" has no definition; add 'definition:' with one line saying what it is`,
			`glossary.yaml:12: the definition of "label" spans several lines; a glossary definition is one line`,
			`glossary.yaml:16: the definition of "taint" has 199 characters; keep it to 160`,
		}},
		"empty glossary": {"glossary.yaml", "apiVersion: k8slab.dev/v1alpha1\nkind: Glossary\nterms: []\n", []string{
			`glossary.yaml:3: the glossary lists no terms; add them under 'terms' (term, definition, see), or remove glossary.yaml`,
		}},
		"glossary of another kind": {"glossary.yaml", "apiVersion: k8slab.dev/v1alpha1\nkind: Glosary\nterms:\n  - term: a\n    definition: b\n", []string{
			`glossary.yaml:2: kind is "Glosary" but this file must be a Glossary`,
		}},
		"glossary that does not parse": {"glossary.yaml", "terms: [\n", []string{
			`glossary.yaml:1: YAML syntax: did not find expected node content`,
		}},
		"bad timeline notes": {"timeline.yaml", `apiVersion: k8slab.dev/v1alpha1
kind: TimelineNotes
notes:
  - step: schedule
    why: The scheduler picks a node.
    see: frist
  - step: schedule
    why: Again.
  - step: Serve Now
    why: x
  - why: No step.
  - step: pull
  - step: start
    why: |
      two
      lines
  - step: stop
    why: ` + long + `
`, []string{
			`timeline.yaml:6: the note on "schedule" names lesson "frist", which is not a lesson of this course (did you mean "first"?)`,
			`timeline.yaml:7: step "schedule" has two notes (also at line 4); keep one`,
			`timeline.yaml:9: step "Serve Now" is not a kind of timeline step; kinds are lowercase words joined by dashes, such as schedule`,
			`timeline.yaml:11: note 4 has no step; add 'step: KIND' (a kind of timeline step, such as schedule)`,
			`timeline.yaml:12: the note on "pull" has no why; add 'why:' with one sentence saying why that step happens`,
			`timeline.yaml:14: the note on "start" spans several lines; a why is one line`,
			`timeline.yaml:18: the note on "stop" has 199 characters; keep it to 160`,
		}},
		"empty timeline notes": {"timeline.yaml", "apiVersion: k8slab.dev/v1alpha1\nkind: TimelineNotes\nnotes: []\n", []string{
			`timeline.yaml:3: timeline.yaml lists no notes; add them under 'notes' (step, why, see), or remove the file`,
		}},
		"timeline notes of another kind": {"timeline.yaml", "apiVersion: k8slab.dev/v1alpha1\nkind: Glossary\nnotes:\n  - step: a\n    why: b\n", []string{
			`timeline.yaml:2: kind is "Glossary" but this file must be a TimelineNotes`,
		}},
		"timeline notes that do not parse": {"timeline.yaml", "notes: [\n", []string{
			`timeline.yaml:1: YAML syntax: did not find expected node content`,
		}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := course.Load(courseFS(t, map[string]string{tc.file: tc.data}))
			if err == nil {
				t.Fatalf("a bad %s loaded", tc.file)
			}
			var got []string
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), tc.file+":") {
					got = append(got, strings.TrimSpace(line))
				}
			}
			if g, w := strings.Join(got, "\n"), strings.Join(tc.want, "\n"); g != w {
				t.Errorf("problems:\n%s\nwant:\n%s\nwhole error:\n%v", g, w, err)
			}
		})
	}
}
