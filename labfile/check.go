package labfile

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/internal/source"
)

// Check is one thing that must hold. In a lab file it is a mapping with a
// name and exactly one key naming its kind:
//
//   - name: the rollout of web has finished
//     rolloutComplete: {deployment: web}
//
// Each kind lives in a file of its own and registers itself, so adding a
// kind touches nothing else.
type Check struct {
	// Name says what is checked, for reports ("deployment web has 5
	// replicas").
	Name string
	// Kind is the key that chose the check's kind ("object",
	// "rolloutComplete").
	Kind string
	// Spec is the decoded kind; nil until the lab has been validated.
	Spec CheckSpec

	Line int
	node *yaml.Node
}

// CheckSpec is one sort of check's settings: decoded from its key and
// validated once when the lab loads. Package checks registers each kind
// and evaluates it.
type CheckSpec interface {
	// Validate reports authoring mistakes (and compiles expressions);
	// node is the kind's value in the lab file, what names the check.
	Validate(v *Validator, node *yaml.Node, what string)
}

// checkKinds maps each key a check may use to its kind's constructor.
var checkKinds = map[string]func() CheckSpec{}

// RegisterCheckKind is called from each kind's file, in an init function.
func RegisterCheckKind(key string, newKind func() CheckSpec) {
	if _, dup := checkKinds[key]; dup {
		panic("labfile: check kind " + key + " registered twice")
	}
	checkKinds[key] = newKind
}

// CheckKinds lists the keys a check may use, sorted.
func CheckKinds() []string {
	keys := make([]string, 0, len(checkKinds))
	for k := range checkKinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// UnmarshalYAML keeps the node: the validator decodes it, so that every
// problem is reported with its line rather than stopping at the first.
func (c *Check) UnmarshalYAML(node *yaml.Node) error {
	c.node = node
	c.Line = node.Line
	return nil
}

// check decodes and validates one check: a name and exactly one kind.
func (v *Validator) check(c *Check, node *yaml.Node, task string) {
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if node == nil || node.Kind != yaml.MappingNode {
		v.Add(node, "%s: a check must be a mapping with a name and one kind (%s)", task, strings.Join(CheckKinds(), ", "))
		return
	}
	type found struct {
		key  string
		node *yaml.Node
	}
	var kinds []found
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		switch _, isKind := checkKinds[k.Value]; {
		case k.Value == "name":
			if val.Kind != yaml.ScalarNode {
				v.Add(val, "%s: a check's name must be text", task)
				continue
			}
			c.Name = val.Value
		case isKind:
			kinds = append(kinds, found{k.Value, val})
		default:
			v.Add(k, "%s", unknownCheckKey(k.Value))
		}
	}
	what := task + " check"
	if c.Name != "" {
		what = fmt.Sprintf("%s check %q", task, c.Name)
	} else {
		v.Add(node, "%s has no name; say what it checks, e.g. \"deployment web has 5 replicas\"", what)
	}
	if len(kinds) != 1 {
		v.Add(node, "%s must have exactly one of %s (found %d)", what, strings.Join(CheckKinds(), ", "), len(kinds))
		return
	}
	c.Kind = kinds[0].key
	spec := checkKinds[c.Kind]()
	if ps := source.Decode(kinds[0].node, spec); len(ps) > 0 {
		v.ps = append(v.ps, ps...)
		return
	}
	spec.Validate(v, kinds[0].node, what)
	c.Spec = spec
}

func unknownCheckKey(key string) string {
	best, bestDist := "", 3
	for _, k := range append(CheckKinds(), "name") {
		if d := source.EditDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", key, best)
	}
	return fmt.Sprintf("unknown field %q; a check has a name and one of %s", key, strings.Join(CheckKinds(), ", "))
}
