// Package source decodes authored YAML strictly and reports problems with the
// line they come from, so that course authors can fix every mistake in one
// pass instead of one per run.
package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/internal/textsafe"
)

// Problem is one thing wrong with an authored file. Parsers fill Line and
// Message; the loader that knows the file name fills File.
type Problem struct {
	File    string
	Line    int
	Message string
}

func (p Problem) String() string {
	switch {
	case p.File == "":
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	case p.Line <= 0:
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	default:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
}

// Problems is a list of problems that is also an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// InFile returns the problems with File set to name where it is empty, and
// Line shifted by offset (for YAML embedded in a larger file, such as front
// matter).
func (ps Problems) InFile(name string, offset int) Problems {
	if len(ps) == 0 {
		return nil
	}
	out := make(Problems, len(ps))
	for i, p := range ps {
		if p.File == "" {
			p.File = name
		}
		if p.Line > 0 {
			p.Line += offset
		}
		out[i] = p
	}
	return out
}

// Merge appends the problems of more whose line has no problem yet, so that
// a field that failed to decode is not also reported as missing.
func (ps Problems) Merge(more Problems) Problems {
	seen := map[int]bool{}
	for _, p := range ps {
		seen[p.Line] = true
	}
	for _, p := range more {
		if p.Line > 0 && seen[p.Line] {
			continue
		}
		ps = append(ps, p)
	}
	return ps
}

// Sort orders problems by file and line so that output is stable.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}

// Add appends a problem at the line of node (0 when node is nil).
func (ps *Problems) Add(node *yaml.Node, format string, args ...any) {
	line := 0
	if node != nil {
		line = node.Line
	}
	*ps = append(*ps, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// Parse reads a single YAML document. An empty document is a problem, as is
// more than one document.
func Parse(data []byte) (*yaml.Node, Problems) {
	if ps := CheckText(string(data), 1); ps != nil {
		return nil, ps
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Line: 1, Message: "file is empty"}}
		}
		return nil, Problems{syntaxProblem(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Problems{{Line: extra.Line, Message: "only one YAML document is allowed here; remove the extra '---'"}}
	}
	if ps := checkShape(&doc, 0); len(ps) > 0 {
		return nil, ps
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// MaxDepth is how deeply authored YAML may nest; real course files need a
// dozen levels, and a decoder walking thousands is a way to stall k8slab.
const MaxDepth = 64

// MaxFileSize bounds every file of a course folder; the largest built-in
// one is a few KiB.
const MaxFileSize = 1 << 20

// checkShape refuses aliases, which course files have no need for and
// which can expand a small file into a huge value (and would each need a
// line of their own in every problem), and nesting past MaxDepth.
func checkShape(n *yaml.Node, depth int) Problems {
	if depth > MaxDepth {
		return Problems{{Line: n.Line, Message: fmt.Sprintf("YAML nested more than %d levels deep; course files are never this deep", MaxDepth)}}
	}
	if n.Kind == yaml.AliasNode {
		return Problems{{Line: n.Line, Message: fmt.Sprintf("YAML alias *%s: aliases are not allowed in course files; write the value out", n.Value)}}
	}
	var ps Problems
	if n.Kind == yaml.ScalarNode {
		// A quoted string's escapes ("\e") make control characters the
		// raw file does not show.
		line := n.Line
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			line++ // a block's text starts under its '|' or '>'
		}
		ps = CheckText(n.Value, line)
	}
	for _, c := range n.Content {
		more := checkShape(c, depth+1)
		ps = append(ps, more...)
		if len(ps) >= 10 || (len(more) > 0 && strings.HasPrefix(more[0].Message, "YAML nested")) {
			break // one report of the depth is enough
		}
	}
	return ps
}

// CheckText refuses text with a control character other than newline and
// tab (escape, bell, a bare carriage return, the C1 range): course text is
// drawn in a terminal, where such a character is a command to the
// terminal, not text. line is the line text starts on; the problem names
// the line of the character.
func CheckText(text string, line int) Problems {
	i, r := textsafe.Find(text)
	if i < 0 {
		return nil
	}
	line += strings.Count(text[:i], "\n")
	return Problems{{Line: line, Message: fmt.Sprintf("control character %U in the text; a terminal would obey it instead of showing it, so remove it", r)}}
}

// ReadFile reads an authored file, refusing one over MaxFileSize before
// reading it whole.
func ReadFile(fsys fs.FS, name string) ([]byte, error) {
	if st, err := fs.Stat(fsys, name); err == nil && st.Size() > MaxFileSize {
		return nil, fmt.Errorf("it is %d bytes; a course file must be under %d KiB", st.Size(), MaxFileSize>>10)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("it is over %d KiB; a course file must be smaller", MaxFileSize>>10)
	}
	return data, nil
}

// Compiled on first use: only a file with an error needs it.
var lineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`) })

func syntaxProblem(err error) Problem {
	msg := err.Error()
	if m := lineRE().FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{Line: n, Message: "YAML syntax: " + m[2]}
	}
	return Problem{Line: 0, Message: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// Decode decodes node into out (a pointer to a struct) and reports every
// unknown field, with a suggestion when the name is close to a known one, and
// every type mismatch, each with its line.
func Decode(node *yaml.Node, out any) Problems {
	var ps Problems
	checkKnownFields(node, reflect.TypeOf(out), &ps)
	if err := node.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				ps = append(ps, typeProblem(e, node.Line))
			}
		} else {
			ps = append(ps, Problem{Line: node.Line, Message: err.Error()})
		}
	}
	return ps
}

func typeProblem(msg string, fallbackLine int) Problem {
	line := fallbackLine
	if m := lineRE().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return Problem{Line: line, Message: authorTypeMessage(msg)}
}

// checkKnownFields walks mappings alongside the Go type they decode into.
func checkKnownFields(node *yaml.Node, t reflect.Type, ps *Problems) {
	if node == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return // type mismatch is reported by Decode
		}
		if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, val := node.Content[i], node.Content[i+1]
			f, ok := fields[key.Value]
			if !ok {
				*ps = append(*ps, Problem{Line: key.Line, Message: unknownFieldMessage(key.Value, fields)})
				continue
			}
			checkKnownFields(val, f, ps)
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for _, item := range node.Content {
			checkKnownFields(item, t.Elem(), ps)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		for i := 1; i < len(node.Content); i += 2 {
			checkKnownFields(node.Content[i], t.Elem(), ps)
		}
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// fieldsOf caches yamlFields by type: a course has hundreds of mappings of
// a dozen types, and the maps are only read once made.
var fieldsOf sync.Map // reflect.Type -> map[string]reflect.Type

func yamlFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldsOf.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f, _ := fieldsOf.LoadOrStore(t, fieldsByTag(t))
	return f.(map[string]reflect.Type)
}

func fieldsByTag(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func unknownFieldMessage(name string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	best, bestDist := "", 3
	for _, k := range known {
		if d := EditDistance(strings.ToLower(name), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, best)
	}
	return fmt.Sprintf("unknown field %q; allowed here: %s", name, strings.Join(known, ", "))
}

// EditDistance is the Levenshtein distance, for "did you mean" suggestions.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Header is the versioned envelope every authored YAML file starts with.
type Header struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

// APIVersion is the only version of the authoring format so far.
const APIVersion = "k8slab.dev/v1alpha1"

// CheckHeader reports a missing or wrong apiVersion or kind.
func CheckHeader(node *yaml.Node, h Header, kind string) Problems {
	var ps Problems
	line := 1
	if node != nil {
		line = node.Line
	}
	switch h.APIVersion {
	case APIVersion:
	case "":
		ps = append(ps, Problem{Line: line, Message: fmt.Sprintf("missing apiVersion; add 'apiVersion: %s'", APIVersion)})
	default:
		ps = append(ps, Problem{Line: Line(node, "apiVersion"), Message: fmt.Sprintf("apiVersion %q is not supported; use %q", h.APIVersion, APIVersion)})
	}
	switch h.Kind {
	case kind:
	case "":
		ps = append(ps, Problem{Line: line, Message: fmt.Sprintf("missing kind; add 'kind: %s'", kind)})
	default:
		ps = append(ps, Problem{Line: Line(node, "kind"), Message: fmt.Sprintf("kind is %q but this file must be a %s", h.Kind, kind)})
	}
	return ps
}

// Line returns the line of the value of key in mapping node, or the line of
// the mapping itself when the key is absent.
func Line(node *yaml.Node, key string) int {
	if v := Field(node, key); v != nil {
		return v.Line
	}
	if node == nil {
		return 0
	}
	return node.Line
}

// Field returns the value node of key in mapping node, or nil.
func Field(node *yaml.Node, key string) *yaml.Node {
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

// Items returns the item nodes of the sequence at key, or nil.
func Items(node *yaml.Node, key string) []*yaml.Node {
	if v := Field(node, key); v != nil && v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return nil
}

var unmarshalRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.+)$") })

// authorTypeMessage rewrites yaml's type errors, which name Go types ("into
// int"), into what an author writes.
func authorTypeMessage(msg string) string {
	m := unmarshalRE().FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	found := map[string]string{"str": "the text", "int": "the number", "float": "the number", "bool": "the value", "seq": "a list", "map": "a mapping", "null": "nothing"}[m[1]]
	if found == "" {
		found = "the value"
	}
	var want string
	switch target := m[3]; {
	case target == "int" || strings.HasPrefix(target, "int") || strings.HasPrefix(target, "uint"):
		want = "a whole number"
	case target == "bool" || target == "*bool":
		want = "true or false"
	case target == "string" || strings.HasSuffix(target, "Type"):
		want = "text"
	case strings.HasPrefix(target, "[]"):
		want = "a list"
	case strings.HasPrefix(target, "map["):
		want = "a mapping of keys to values"
	default:
		want = "a mapping of fields"
	}
	if m[1] == "seq" || m[1] == "map" {
		return fmt.Sprintf("expected %s here, not %s", want, found)
	}
	return fmt.Sprintf("expected %s here, not %s %q", want, found, m[2])
}

// Item returns the i-th item of the sequence at key in node. When the
// decoded data and the nodes do not line up (null items, aliases), it
// returns the nearest node that exists, so a problem always has a line and
// never an index out of range.
func Item(node *yaml.Node, key string, i int) *yaml.Node {
	if items := Items(node, key); i >= 0 && i < len(items) {
		return items[i]
	}
	if v := Field(node, key); v != nil {
		return v
	}
	return node
}
