// Package quiz parses authored quizzes, presents them in a per-learner
// shuffled order and scores answers.
package quiz

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/internal/answer"
	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/source"
)

// Type is the kind of answer a question expects.
type Type string

const (
	SingleChoice   Type = "single"
	MultipleChoice Type = "multiple"
	TrueFalse      Type = "truefalse"
	FreeText       Type = "text"
)

// Quiz is a module's quiz as authored.
type Quiz struct {
	source.Header `yaml:",inline"`
	// ID defaults to the id of the module the quiz belongs to.
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	// PassPercent is the share of correct answers needed to pass, 1-100.
	PassPercent int        `yaml:"passPercent"`
	Questions   []Question `yaml:"questions"`
}

// Question is one question. Which answer fields apply depends on Type.
type Question struct {
	ID     string `yaml:"id"`
	Type   Type   `yaml:"type"`
	Prompt string `yaml:"prompt"`
	// Options for single and multiple choice.
	Options []Option `yaml:"options"`
	// Answer for true/false questions.
	Answer *bool `yaml:"answer"`
	// Accept lists every accepted free-text answer.
	Accept      []string `yaml:"accept"`
	Explanation string   `yaml:"explanation"`
	// Lesson optionally names the lesson of the same module that teaches
	// the answer; a failed attempt points the learner to it.
	Lesson string `yaml:"lesson"`

	// Line is where the question starts in its file.
	Line int `yaml:"-"`
}

// Option is one choice of a choice question.
type Option struct {
	Text    string `yaml:"text"`
	Correct bool   `yaml:"correct"`
}

// DefaultPassPercent applies when a quiz does not set passPercent.
const DefaultPassPercent = 70

// Parse decodes and validates a quiz file, reporting every problem found.
func Parse(data []byte) (*Quiz, source.Problems) {
	root, ps := source.Parse(data)
	if ps != nil {
		return nil, ps
	}
	var q Quiz
	decodeProblems := source.Decode(root, &q)
	ps = append(ps, source.CheckHeader(root, q.Header, "Quiz")...)
	if q.ID != "" && !ident.Valid(q.ID) {
		ps.Add(source.Field(root, "id"), "quiz id %q must be lowercase letters, digits and dashes", q.ID)
	}
	if strings.TrimSpace(q.Title) == "" {
		ps.Add(root, "missing title")
	}
	switch {
	case q.PassPercent == 0:
		q.PassPercent = DefaultPassPercent
	case q.PassPercent < 1 || q.PassPercent > 100:
		ps.Add(source.Field(root, "passPercent"), "passPercent must be between 1 and 100, not %d", q.PassPercent)
	}
	items := source.Items(root, "questions")
	if len(q.Questions) == 0 {
		ps.Add(root, "a quiz needs at least one question under 'questions'")
	}
	seen := map[string]int{}
	for i := range min(len(q.Questions), len(items)) {
		node := items[i]
		q.Questions[i].Line = node.Line
		ps = append(ps, validateQuestion(&q.Questions[i], node)...)
		id := q.Questions[i].ID
		if first, dup := seen[id]; dup && id != "" {
			ps.Add(source.Field(node, "id"), "question id %q is already used on line %d", id, first)
		} else {
			seen[id] = node.Line
		}
	}
	if ps = decodeProblems.Merge(ps); len(ps) > 0 {
		return nil, ps
	}
	return &q, nil
}

func validateQuestion(q *Question, node *yaml.Node) source.Problems {
	var ps source.Problems
	name := "question"
	if q.ID == "" {
		ps.Add(node, "question has no id; add a short kebab-case 'id'")
	} else {
		name = fmt.Sprintf("question %q", q.ID)
		if !ident.Valid(q.ID) {
			ps.Add(source.Field(node, "id"), "%s: id must be lowercase letters, digits and dashes", name)
		}
	}
	if strings.TrimSpace(q.Prompt) == "" {
		ps.Add(node, "%s has no prompt", name)
	}
	if strings.TrimSpace(q.Explanation) == "" {
		ps.Add(node, "%s has no explanation; learners see it after answering", name)
	}
	misplaced := func(field string) {
		if v := source.Field(node, field); v != nil {
			ps.Add(v, "%s is of type %s, which does not use %q", name, q.Type, field)
		}
	}
	switch q.Type {
	case SingleChoice, MultipleChoice:
		misplaced("answer")
		misplaced("accept")
		if len(q.Options) < 2 {
			ps.Add(node, "%s needs at least two options", name)
		}
		correct := 0
		texts := map[string]bool{}
		for i, o := range q.Options {
			if strings.TrimSpace(o.Text) == "" {
				ps.Add(source.Item(node, "options", i), "%s: option %d has no text", name, i+1)
			}
			if texts[o.Text] {
				ps.Add(source.Item(node, "options", i), "%s: option %q appears twice", name, o.Text)
			}
			texts[o.Text] = true
			if o.Correct {
				correct++
			}
		}
		if q.Type == SingleChoice && correct != 1 && len(q.Options) >= 2 {
			ps.Add(node, "%s is single choice, so exactly one option must have 'correct: true' (found %d); use type: multiple for select-all-that-apply", name, correct)
		}
		if q.Type == MultipleChoice && correct == 0 && len(q.Options) >= 2 {
			ps.Add(node, "%s is multiple choice but no option has 'correct: true'", name)
		}
	case TrueFalse:
		misplaced("options")
		misplaced("accept")
		if q.Answer == nil {
			ps.Add(node, "%s is true/false and needs 'answer: true' or 'answer: false'", name)
		}
	case FreeText:
		misplaced("options")
		misplaced("answer")
		if len(q.Accept) == 0 {
			ps.Add(node, "%s is free text and needs 'accept' with at least one accepted answer", name)
		}
		for i, a := range q.Accept {
			if answer.Normalize(a) == "" {
				ps.Add(source.Item(node, "accept", i), "%s: accepted answer %d is empty", name, i+1)
			}
		}
	case "":
		ps.Add(node, "%s has no type; use one of single, multiple, truefalse, text", name)
	default:
		ps.Add(source.Field(node, "type"), "%s has unknown type %q; use one of single, multiple, truefalse, text", name, q.Type)
	}
	return ps
}
