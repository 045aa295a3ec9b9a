package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/jsonnode"
	"github.com/aieval/aieval/runtime/internal/handlebars"
)

// The document is kept as a yaml.Node tree for both formats: it keeps key
// order, unknown fields and line numbers, so saving rewrites only outputs and
// every error can point at a line.

// jsonTree parses JSON into a yaml.Node tree with line numbers. Syntax errors
// come back as Diagnostics naming the line.
func jsonTree(data []byte, file string) (*yaml.Node, error) {
	root, err := jsonnode.Parse(data, 1, jsonnode.Limits{MaxDepth: maxDepth, MaxValues: maxValues})
	if err == nil {
		return root, nil
	}
	li := jsonnode.NewLines(data, 1)
	var je *jsonnode.Error
	if errors.As(err, &je) {
		switch {
		case errors.Is(je.Err, jsonnode.ErrDepth):
			return nil, Diagnostic{File: file, Line: je.Line, Message: "document nested too deeply", Fix: "flatten the structure"}
		case errors.Is(je.Err, jsonnode.ErrTooLarge):
			return nil, Diagnostic{File: file, Line: je.Line, Message: errTooLarge.Error(), Fix: "simplify the document"}
		case errors.Is(je.Err, jsonnode.ErrTrailing):
			return nil, Diagnostic{File: file, Line: je.Line, Message: "unexpected data after the top-level object", Fix: "remove everything after the closing }"}
		}
		err = je.Err
	}
	return nil, jsonSyntaxDiagnostic(data, li, file, err)
}

// jsonSyntaxDiagnostic turns a decoder error into a one-line Diagnostic. A
// trailing comma (accepted by many editors, refused by JSON) gets its own
// message pointing at the comma rather than at the closing bracket.
func jsonSyntaxDiagnostic(data []byte, li jsonnode.Lines, file string, err error) error {
	var d Diagnostic
	if errors.As(err, &d) {
		return d
	}
	var se *json.SyntaxError
	off := int64(len(data))
	msg := err.Error()
	if errors.As(err, &se) {
		off = se.Offset
		msg = se.Error()
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Diagnostic{File: file, Line: li.At(off - 1), Message: "invalid JSON: unexpected end of file", Fix: "close every { and ["}
	}
	// Token errors point at the offending byte; Decode errors just past it.
	bad := off
	if bad >= int64(len(data)) || (bad > 0 && strings.IndexByte(" \t\r\n", data[bad]) >= 0) {
		bad = off - 1
	}
	if bad < 0 {
		bad = 0
	}
	if bad < int64(len(data)) && (data[bad] == '}' || data[bad] == ']') {
		i := bad - 1
		for i >= 0 && strings.IndexByte(" \t\r\n", data[i]) >= 0 {
			i--
		}
		if i >= 0 && data[i] == ',' {
			return Diagnostic{File: file, Line: li.At(i), Message: "invalid JSON: trailing comma before " + string(data[bad]), Fix: "remove the comma"}
		}
	}
	return Diagnostic{File: file, Line: li.At(bad), Message: "invalid JSON: " + msg, Fix: "fix the JSON syntax"}
}

// yamlTree parses YAML into its content node.
func yamlTree(data []byte, file string) (doc *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; never let it escape.
		if r := recover(); r != nil {
			doc, err = nil, Diagnostic{File: file, Line: 1, Message: fmt.Sprintf("invalid YAML: %v", r), Fix: "fix the YAML syntax"}
		}
	}()
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimPrefix(msg, m[0])
		}
		return nil, Diagnostic{File: file, Line: line, Message: "invalid YAML: " + strings.TrimSpace(msg), Fix: "fix the YAML syntax"}
	}
	if n.Kind == 0 {
		return nil, Diagnostic{File: file, Line: 1, Message: "empty document", Fix: "an aiconfig needs name, schema_version, metadata and prompts"}
	}
	return &n, nil
}

const (
	maxDepth  = 200
	maxValues = 1_000_000 // bounds alias expansion ("billion laughs")
	// A document may expand through aliases to aliasFactor values per node
	// written plus aliasSlack: real files reuse a block a few times, a
	// bomb of a few lines asks for millions (and took seconds to refuse).
	aliasFactor = 16
	aliasSlack  = 10_000
)

// decodeBudget limits how many values nodeValue may produce.
type decodeBudget struct{ left int }

// budgetFor is the decode budget of the document rooted at n.
func budgetFor(n *yaml.Node) *decodeBudget {
	return &decodeBudget{left: min(maxValues, aliasFactor*countNodes(n, maxValues)+aliasSlack)}
}

// countNodes counts the nodes written in n's tree (aliases count once, not
// what they point to), stopping past limit.
func countNodes(n *yaml.Node, limit int) int {
	c := 1
	for _, k := range n.Content {
		if c > limit {
			break
		}
		c += countNodes(k, limit-c)
	}
	return c
}

var (
	errTooLarge = errors.New("document has too many values (or aliases expanding to them)")
	errTooDeep  = errors.New("document nested too deeply")
)

// nodeValue converts a node to plain Go values (map[string]any, []any,
// string, float64, bool, nil), resolving YAML aliases and merge keys.
func nodeValue(n *yaml.Node, b *decodeBudget, depth int) (any, error) {
	return decodeNode(n, b, depth, false)
}

// orderedValue is nodeValue with every mapping as a *handlebars.Object in
// the file's key order: the values templates see, so {{#each}} over an
// object renders the same prompt on every run.
func orderedValue(n *yaml.Node, b *decodeBudget, depth int) (any, error) {
	return decodeNode(n, b, depth, true)
}

func decodeNode(n *yaml.Node, b *decodeBudget, depth int, ordered bool) (any, error) {
	if n == nil {
		return nil, nil
	}
	b.left--
	if b.left < 0 {
		return nil, errTooLarge
	}
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0], b, depth+1, ordered)
	case yaml.AliasNode:
		return decodeNode(n.Alias, b, depth+1, ordered)
	case yaml.MappingNode:
		if ordered {
			return decodeObject(n, b, depth, handlebars.NewObject(len(n.Content)/2))
		}
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				mv, err := nodeValue(v, b, depth+1)
				if err != nil {
					return nil, err
				}
				mergeInto(m, mv)
				continue
			}
			val, err := nodeValue(v, b, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decodeNode(c, b, depth+1, ordered)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		return scalarValue(n), nil
	}
	return nil, nil
}

// decodeObject fills o from mapping n in key order. Merged keys (<<) come
// where the merge key is written, and never override a key set explicitly,
// as in nodeValue.
func decodeObject(n *yaml.Node, b *decodeBudget, depth int, o *handlebars.Object) (*handlebars.Object, error) {
	explicit := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !(k.Kind == yaml.ScalarNode && k.Tag == "!!merge") {
			explicit[k.Value] = true
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			mv, err := decodeNode(v, b, depth+1, true)
			if err != nil {
				return nil, err
			}
			mergeObject(o, mv, explicit)
			continue
		}
		val, err := decodeNode(v, b, depth+1, true)
		if err != nil {
			return nil, err
		}
		o.Set(k.Value, val)
	}
	return o, nil
}

func mergeObject(o *handlebars.Object, v any, explicit map[string]bool) {
	switch t := v.(type) {
	case *handlebars.Object:
		for _, k := range t.Keys() {
			if _, ok := o.Get(k); !ok && !explicit[k] {
				x, _ := t.Get(k)
				o.Set(k, x)
			}
		}
	case []any:
		for _, x := range t {
			mergeObject(o, x, explicit)
		}
	}
}

func mergeInto(m map[string]any, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if _, ok := m[k]; !ok {
				m[k] = x
			}
		}
	case []any:
		for _, x := range t {
			mergeInto(m, x)
		}
	}
}

func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int", "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	}
	return n.Value
}

// duplicateKey finds a key written twice in one mapping. JSON readers
// disagree on which copy wins (Python's json keeps the last, others the
// first) and YAML forbids duplicates, so aieval refuses to guess: running
// and saving must act on the copy the user meant. Aliases are not
// followed, so the walk is linear in the file's size.
func duplicateKey(n *yaml.Node, file string, depth int) error {
	if n == nil || depth > maxDepth {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if first, dup := seen[k.Value]; dup {
				return Diagnostic{File: file, Line: k.Line, Code: CodeSyntax,
					Message: fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, first),
					Fix:     "keep one copy: readers disagree on which one wins"}
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if err := duplicateKey(c, file, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// resolveAlias follows alias nodes.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// mapGet returns the value node of key in a mapping node.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// nodeAt walks path (mapping keys and sequence indexes) and returns the
// deepest node reached, for error lines.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	cur := n
	for _, p := range path {
		c := resolveAlias(cur)
		if c == nil {
			break
		}
		var next *yaml.Node
		switch c.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(c.Content); i += 2 {
				if c.Content[i].Value == p {
					next = c.Content[i+1]
					// A key's own line is the better pointer for scalars.
					if next.Kind == yaml.ScalarNode {
						next = &yaml.Node{Kind: yaml.ScalarNode, Line: c.Content[i].Line}
					}
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(c.Content) {
				next = c.Content[i]
			}
		}
		if next == nil {
			break
		}
		cur = next
	}
	return cur
}

// encodeJSON writes a node tree as indented JSON, keeping key order.
func encodeJSON(w *bytes.Buffer, n *yaml.Node, indent int) error {
	n = resolveAlias(n)
	if n == nil {
		w.WriteString("null")
		return nil
	}
	pad := func(k int) {
		w.WriteByte('\n')
		w.WriteString(strings.Repeat("  ", k))
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			w.WriteString("null")
			return nil
		}
		return encodeJSON(w, n.Content[0], indent)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			w.WriteString("{}")
			return nil
		}
		w.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				w.WriteByte(',')
			}
			pad(indent + 1)
			writeJSONString(w, n.Content[i].Value)
			w.WriteString(": ")
			if err := encodeJSON(w, n.Content[i+1], indent+1); err != nil {
				return err
			}
		}
		pad(indent)
		w.WriteByte('}')
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			w.WriteString("[]")
			return nil
		}
		w.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				w.WriteByte(',')
			}
			pad(indent + 1)
			if err := encodeJSON(w, c, indent+1); err != nil {
				return err
			}
		}
		pad(indent)
		w.WriteByte(']')
	case yaml.ScalarNode:
		switch v := scalarValue(n).(type) {
		case nil:
			w.WriteString("null")
		case bool:
			w.WriteString(strconv.FormatBool(v))
		case float64:
			// Keep the literal when it already is valid JSON (1e5, 3000).
			if json.Valid([]byte(n.Value)) {
				w.WriteString(n.Value)
			} else {
				w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		default:
			writeJSONString(w, n.Value)
		}
	default:
		return fmt.Errorf("unsupported node kind %d", n.Kind)
	}
	return nil
}

func writeJSONString(w *bytes.Buffer, s string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // cannot fail for a string
	w.Truncate(w.Len() - 1) // Encode adds a newline
}

// valueNode builds a node tree from a plain Go value (for outputs we write).
// Map keys are sorted unless the caller passes an ordered slice of pairs.
func valueNode(v any) *yaml.Node {
	switch t := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(t)}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(t), 10)}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(t, 'g', -1, 64)}
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range t {
			n.Content = append(n.Content, valueNode(x))
		}
		return n
	case orderedMap:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, kv := range t {
			n.Content = append(n.Content, valueNode(kv.k), valueNode(kv.v))
		}
		return n
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			n.Content = append(n.Content, valueNode(k), valueNode(t[k]))
		}
		return n
	}
	// Anything else goes through JSON to plain values.
	b, err := json.Marshal(v)
	if err != nil {
		return valueNode(fmt.Sprint(v))
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return valueNode(string(b))
	}
	return valueNode(x)
}

// orderedMap is a mapping whose key order is kept when written.
type orderedMap []kv

type kv struct {
	k string
	v any
}
