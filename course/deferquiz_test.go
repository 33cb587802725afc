package course_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

// TestDeferredQuizzesAreTheQuizzes proves what DeferQuizzes relies on: each
// built-in quiz, read header first and questions on first use, is the quiz
// a whole load reads, and every one of them is deferred (a header that did
// not decode would be parsed at once, and the saving lost unseen).
func TestDeferredQuizzesAreTheQuizzes(t *testing.T) {
	full, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := course.Load(assets.Course(), course.DeferQuizzes())
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range full.Modules {
		lm := lazy.Modules[i]
		if m.Quiz == nil {
			if lm.Quiz != nil {
				t.Errorf("module %s: a quiz deferred where there is none", m.ID)
			}
			continue
		}
		if len(lm.Quiz.Questions) != 0 {
			t.Errorf("module %s: quiz %s read whole at load; its header did not decode apart", m.ID, m.Quiz.ID)
		}
		if lm.Quiz.ID != m.Quiz.ID || lm.Quiz.Title != m.Quiz.Title || lm.Quiz.PassPercent != m.Quiz.PassPercent {
			t.Errorf("module %s: deferred header %+v, whole %+v", m.ID, lm.Quiz, m.Quiz)
		}
		q, ok := lazy.Quiz(m.Quiz.ID)
		if !ok || q != lm.Quiz {
			t.Fatalf("module %s: Quiz(%s) = %p, %v; the module holds %p", m.ID, m.Quiz.ID, q, ok, lm.Quiz)
		}
		if !reflect.DeepEqual(q, m.Quiz) {
			t.Errorf("module %s: quiz %s read on use differs from the whole load's", m.ID, m.Quiz.ID)
		}
	}
}

// A quiz whose header does not decode apart is read at once, so its
// problems are still reported by Load.
func TestDeferQuizzesReportsWhatItCannotDefer(t *testing.T) {
	fsys := courseFS(t, map[string]string{"basics/quiz.yaml": "apiVersion: k8slab.dev/v1alpha1\nkind: Quiz\ntitle: [broken\nquestions: []\n"})
	_, err := course.Load(fsys, course.DeferQuizzes())
	_, whole := course.Load(fsys)
	if err == nil || !strings.Contains(err.Error(), "basics/quiz.yaml:2") || err.Error() != whole.Error() {
		t.Fatalf("a quiz that does not parse: %v; want what a whole load says, with file and line: %v", err, whole)
	}
}
