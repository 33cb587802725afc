package labfile

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/k8slab/k8slab/internal/celexpr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// NodePortPlaceholder stands for the nodePort a lab asks the learner to
// give a Service. A nodePort is unique in the whole cluster, so a fixed
// one can be held by only one learner of a workshop: the lab environment
// fills in the learner's own (see labenv.NodePort), and DefaultNodePort
// when the learner has the cluster to themselves. It is replaced as text
// in setups, goals, hints, solution and mistake steps, question prompts,
// and check messages; a check's expression reads it as the CEL variable
// nodePort.
const NodePortPlaceholder = "${NODE_PORT}"

// DefaultNodePort is the nodePort of a lab run outside a workshop: the
// one k8slab's kind cluster forwards to the learner's machine, and the
// course text's.
const DefaultNodePort = celexpr.DefaultNodePort

// ExpandNodePort replaces NodePortPlaceholder in text with port
// (DefaultNodePort for 0).
func ExpandNodePort(text string, port int) string {
	if port == 0 {
		port = DefaultNodePort
	}
	return strings.ReplaceAll(text, NodePortPlaceholder, strconv.Itoa(port))
}

// ExpandStep is st with NodePortPlaceholder replaced by port.
func ExpandStep(st Step, port int) Step {
	return Step{Run: ExpandNodePort(st.Run, port), Apply: ExpandNodePort(st.Apply, port)}
}

// UsesNodePort reports whether the lab asks for a nodePort of the
// learner's (mentions NodePortPlaceholder, or the CEL variable nodePort):
// a workshop gives each learner's namespace of such a lab a port of its
// own.
func (l *Lab) UsesNodePort() bool {
	texts := []string{l.Setup}
	for i := range l.Tasks {
		t := &l.Tasks[i]
		texts = append(texts, t.Goal)
		texts = append(texts, t.Hints...)
		for _, st := range t.Solution {
			texts = append(texts, st.Run, st.Apply)
		}
		for _, m := range t.Mistakes {
			for _, st := range m.Steps {
				texts = append(texts, st.Run, st.Apply)
			}
		}
		if t.Question != nil {
			texts = append(texts, t.Question.Prompt)
		}
	}
	for _, s := range texts {
		if strings.Contains(s, NodePortPlaceholder) {
			return true
		}
	}
	return false
}

// fixedNodePortFlags find a nodePort written as a number in a shell
// command: kubectl's --node-port flag, or a JSON patch.
var fixedNodePortFlags = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`--node-port[= ]+\d|"nodePort"\s*:\s*\d`) })

// fixedNodePortExpr finds a CEL expression comparing a nodePort with a
// number.
var fixedNodePortExpr = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`nodePort\s*(==|!=|in)\s*\[?\s*\d`) })

// fixedNodePorts lists the Services in objs that give a port a nodePort as
// a number.
func fixedNodePorts(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		if o.GetKind() != "Service" {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
		for _, p := range ports {
			m, _ := p.(map[string]any)
			switch v := m["nodePort"].(type) {
			case int64, float64, int:
				out = append(out, o.GetName())
			case string:
				if v != NodePortPlaceholder {
					out = append(out, o.GetName())
				}
			}
		}
	}
	return out
}

// fixedNodePortHelp is what lint says about a fixed nodePort.
const fixedNodePortHelp = "a nodePort is unique in the whole cluster, so a fixed one can be held by only one learner of a workshop: write " + NodePortPlaceholder + " (each learner's own; 30080 outside a workshop) in manifests and commands, and compare with the variable nodePort in expressions"
