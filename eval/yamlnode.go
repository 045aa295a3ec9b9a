package eval

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/internal/jsonnode"
	"github.com/aieval/aieval/internal/text"
	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/safefile"
)

// Limits that keep hostile files from exhausting memory or time.
const (
	maxYAMLBytes  = 10 << 20  // a suite or YAML/JSON cases file
	maxLinesBytes = 256 << 20 // a JSONL/CSV cases file, read one row at a time
	maxDepth      = 64        // nesting of params and values
	aliasFactor   = 16        // node visits allowed per node written, so aliases
	aliasSlack    = 100_000   // can expand a file only a little ("billion laughs")
	maxRepeat     = 10_000
	// maxWeight and maxPrice keep sums and products of weights, scores,
	// prices and token counts finite (a weight of 1e308 made the weighted
	// mean NaN): far above any real value.
	maxWeight = 1e6
	maxPrice  = 1e6 // USD per 1M tokens
)

// MaxRepeat is the largest repeat: (and --repeat) a test may ask for.
const MaxRepeat = maxRepeat

// loader reads one suite and the files it references, collecting problems
// instead of stopping at the first.
type loader struct {
	file      string // file being read, for messages
	problems  []Problem
	visits    int
	bombed    bool               // alias expansion budget spent: reported once
	interned  map[string]*Assert // see build
	suitePath string
	rowParams map[string]bool // parameter names of streamed rows, for validateConfig
	json      jsonnode.Row    // parses JSONL rows, reusing its memory
	yfast     yamlFast        // parses the usual items of large YAML cases files
	// rowAsserts holds the assertion lists of cases-file rows by the
	// appendNodeKey of their node; keyBuf is reused to build keys.
	rowAsserts map[string][]*Assert
	rawAsserts map[string][]*Assert // the same by a JSONL row's assert text (jsonlFast)
	keyBuf     []byte
	// What the tests read, for checkSharedParams.
	execAny    bool // a test has an exec assertion: it reads every parameter
	paramsLine int  // of the suite's params:
	// rowsReread: the cases file just read can be read again row by row
	// while the suite runs (see lazyCases).
	rowsReread bool
	seed       maphash.Seed // of the names' hashes (see nameSeed)
	seeded     bool
}

func (l *loader) errf(line int, format string, args ...any) {
	l.errAt(l.file, line, format, args...)
}

func (l *loader) errAt(file string, line int, format string, args ...any) {
	if len(l.problems) >= maxProblems {
		return
	}
	msg := text.OneLine(fmt.Sprintf(format, args...), 0)
	l.problems = append(l.problems, Problem{File: file, Line: line, Msg: msg})
}

// raw adds a message that already names its own file and line.
func (l *loader) raw(msg string) {
	if len(l.problems) < maxProblems {
		l.problems = append(l.problems, Problem{Msg: text.OneLine(msg, 0)})
	}
}

func (l *loader) full() bool { return len(l.problems) >= maxProblems }

// readLimited reads a whole file, refusing one larger than limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := safefile.Open(path) // regular files only: a FIFO must not hang the load
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than %d MB (split it, or use a .jsonl or .csv cases file)", limit>>20)
	}
	return data, nil
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse decodes data into a node tree and returns the document's root, or
// nil after recording why not.
func (l *loader) parse(data []byte) *yaml.Node {
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		l.errf(0, "not a text file (expected UTF-8 YAML)")
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		l.errf(line, "invalid YAML: %s (fix the syntax)", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.errf(0, "empty file")
		return nil
	}
	l.visits = aliasFactor*countNodes(&doc) + aliasSlack
	return doc.Content[0]
}

// countNodes counts the nodes as written, not following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// visit charges one node against the file's budget; false once spent, which
// is how alias bombs ("billion laughs") are stopped.
func (l *loader) visit(n *yaml.Node) bool {
	l.visits--
	if l.visits >= 0 {
		return true
	}
	if !l.bombed {
		l.bombed = true
		l.errf(n.Line, "too many nodes after expanding aliases: anchors may expand a file only a little; write the values out")
	}
	return false
}

// deref follows aliases to the node they name.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxDepth || !l.visit(n) {
			return nil
		}
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	}
	return "an unsupported node"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
}

// fields reads a mapping whose keys must be among allowed. Unknown keys get
// a did-you-mean; duplicate keys are errors; YAML merge keys (<<) are
// expanded, explicit keys winning.
func (l *loader) fields(n *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, bool) {
	n = l.deref(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n.Line, "%s must be a mapping, got %s", what, kindName(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !l.visit(k) {
			return nil, false
		}
		if k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || k.Value == "<<") {
			merged = append(merged, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errf(k.Line, "%s: keys must be plain names, got %s", what, kindName(k))
			continue
		}
		if _, dup := out[k.Value]; dup {
			l.errf(k.Line, "%s: duplicate key %q (first at line %d); keep one", what, k.Value, firstKeyLine(n, k.Value))
			continue
		}
		if !contains(allowed, k.Value) {
			l.errf(k.Line, "unknown field %q in %s%s (allowed: %s)", k.Value, what, assertions.Suggest(k.Value, allowed), strings.Join(allowed, ", "))
			continue
		}
		out[k.Value] = v
	}
	for _, m := range merged {
		m = l.deref(m)
		if m == nil {
			return out, false
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			sub, ok := l.fields(s, what, allowed)
			if !ok {
				continue
			}
			for k, v := range sub {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		}
	}
	return out, true
}

// firstKeyLine is the line of key's first plain occurrence in mapping n.
func firstKeyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key && k.Tag != "!!merge" {
			return k.Line
		}
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// value converts a node to plain Go values (string, int, float64, bool,
// nil, []any, map[string]any), charging every node against the budget.
func (l *loader) value(n *yaml.Node, depth int, what string) (any, bool) {
	n = l.deref(n)
	if n == nil || !l.visit(n) {
		return nil, false
	}
	if depth > maxDepth {
		l.errf(n.Line, "nested deeper than %d levels", maxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!binary", "!!timestamp":
			return n.Value, true
		case "!!null":
			return nil, true
		case "!!int": // fast paths: yaml's Decode builds a decoder per call
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return int(i), true
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, true
			}
		}
		var v any
		if err := n.Decode(&v); err != nil {
			l.errf(n.Line, "bad value %q: %v", truncate(n.Value, 40), err)
			return nil, false
		}
		if f, isFloat := v.(float64); isFloat && (math.IsNaN(f) || math.IsInf(f, 0)) {
			// NaN and infinities compare false with everything and cannot
			// be written to a JSON report.
			l.errf(n.Line, "%s: %s is not a finite number; write a number, or quote it to pass it as text", what, truncate(n.Value, 40))
			return nil, false
		}
		return v, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, ok := l.value(c, depth+1, what)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := l.deref(n.Content[i])
			if k == nil {
				return nil, false
			}
			if k.Kind != yaml.ScalarNode {
				l.errf(k.Line, "mapping keys must be plain values, got %s", kindName(k))
				return nil, false
			}
			if k.Tag == "!!merge" {
				sub, ok := l.value(n.Content[i+1], depth+1, what)
				if !ok {
					return nil, false
				}
				if m, isMap := sub.(map[string]any); isMap {
					for mk, mv := range m {
						if _, set := out[mk]; !set {
							out[mk] = mv
						}
					}
				}
				continue
			}
			if _, dup := out[k.Value]; dup {
				l.errf(k.Line, "duplicate key %q; keep one", k.Value)
				return nil, false
			}
			v, ok := l.value(n.Content[i+1], depth+1, what)
			if !ok {
				return nil, false
			}
			out[k.Value] = v
		}
		return out, true
	}
	l.errf(n.Line, "unsupported YAML node")
	return nil, false
}

// str reads a scalar as text.
func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	n = l.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n.Line, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// number reads a finite number.
func (l *loader) number(n *yaml.Node, what, want string) (float64, bool) {
	n = l.deref(n)
	if n == nil {
		return 0, false
	}
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil ||
		math.IsNaN(f) || math.IsInf(f, 0) {
		l.errf(n.Line, "%s must be %s, got %s", what, want, kindName(n))
		return 0, false
	}
	return f, true
}

// fraction reads a number in [lo, 1].
func (l *loader) fraction(n *yaml.Node, what string, open bool) (float64, bool) {
	want := "a number from 0 to 1"
	if open {
		want = "a number above 0 and at most 1"
	}
	f, ok := l.number(n, what, want)
	if !ok {
		return 0, false
	}
	if f < 0 || f > 1 || (open && f == 0) {
		l.errf(l.deref(n).Line, "%s must be %s, got %v", what, want, f)
		return 0, false
	}
	return f, true
}

// duration reads "30s" style text or a number of seconds.
func (l *loader) duration(n *yaml.Node, what string) (time.Duration, bool) {
	n = l.deref(n)
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		if f, ok := l.number(n, what, "a duration"); ok && f > 0 && f < 1e6 {
			return time.Duration(f * float64(time.Second)), true
		}
	} else if n.Kind == yaml.ScalarNode {
		if d, err := time.ParseDuration(n.Value); err == nil && d > 0 {
			return d, true
		}
	}
	l.errf(n.Line, "%s must be a positive duration such as 30s or 2m, got %s", what, kindName(n))
	return 0, false
}

// params reads a mapping of parameter values.
func (l *loader) params(n *yaml.Node, what string) (map[string]any, bool) {
	d := l.deref(n)
	if d == nil {
		return nil, false
	}
	if d.Kind == yaml.ScalarNode && d.Tag == "!!null" {
		return nil, true
	}
	if d.Kind != yaml.MappingNode {
		l.errf(d.Line, "%s must be a mapping of name: value, got %s", what, kindName(d))
		return nil, false
	}
	v, ok := l.value(d, 0, what)
	if !ok {
		return nil, false
	}
	return v.(map[string]any), true
}

// parseBool reads the spellings of a boolean that YAML 1.1, spreadsheets
// and people write: true/false, yes/no, on/off, 1/0, in any case.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

const boolSpellings = "true/false, yes/no, on/off or 1/0"

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
