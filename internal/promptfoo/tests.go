package promptfoo

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aieval/aieval/internal/text"
	"gopkg.in/yaml.v3"
)

// suiteWriter converts defaultTest and tests.
type suiteWriter struct {
	im     *importer
	models *modelSet
	grader string
	reads  map[string]bool // variables some prompt reads
	names  map[string]bool // test names given
	noted  map[string]bool // variable and prompt pairs already noted
	// defaultVars are defaultTest's vars, for assertion values.
	defaultVars map[string]any
}

func (sw *suiteWriter) defaultTest(n *yaml.Node) *testOut {
	im := sw.im
	if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, "file://") {
		path := im.ref(n.Value)
		doc, err := im.parseFile(path)
		if err != nil {
			im.noteAt(n, "defaultTest: %v: not mapped", err)
			return nil
		}
		defer im.within(path)()
		n = doc
	}
	t := &testOut{}
	keys, f, at := fields(n)
	for _, k := range keys {
		switch k {
		case "vars":
			t.Params = sw.vars(f[k])
			sw.defaultVars = t.Params
		case "assert":
			t.Assert = sw.asserts(f[k])
			for _, a := range t.Assert {
				if s, ok := a.Value.(string); ok && strings.Contains(s, "{{") {
					im.noteAt(at[k], "defaultTest assertion %s: the value %q is not rendered with each test's vars (aieval does not template assertion values): put the assertion on the tests", a.Type, text.OneLine(s, 80))
				}
			}
		case "threshold":
			t.Threshold = number(f[k])
		case "options": // after the loop: it reads the assertions
		case "description", "metadata":
		default:
			im.noteAt(at[k], "defaultTest.%s: not mapped", k)
		}
	}
	if f["options"] != nil {
		sw.options(f["options"], t, true)
	}
	sw.dropUnread(t, t.Assert, n)
	if t.Params == nil && t.Assert == nil && t.Threshold == nil && t.Transform == nil {
		return nil
	}
	return t
}

// within makes notes name path until the returned function is called.
func (im *importer) within(path string) func() {
	prev := im.file
	im.file = path
	return func() { im.file = prev }
}

// tests converts `tests:`: a list of tests and file:// references, or one
// reference. CSV files are kept as cases files (aieval reads promptfoo's
// __expected columns); YAML/JSON/JSONL files of promptfoo tests are
// converted inline. nil when no test remains.
func (sw *suiteWriter) tests(n *yaml.Node) any {
	im := sw.im
	sw.names = map[string]bool{}
	var out []any
	var ref func(s string, at *yaml.Node)
	ref = func(s string, at *yaml.Node) {
		if !strings.HasPrefix(s, "file://") {
			im.noteAt(at, "tests: %s is not a file:// reference (datasets such as huggingface:// are not mapped)", s)
			return
		}
		path := im.ref(s)
		if strings.ContainsAny(path, "*?[") {
			m, _ := filepath.Glob(path)
			if len(m) == 0 {
				im.noteAt(at, "tests: no file matches %s", s)
			}
			for _, p := range m {
				ref("file://"+p, at)
			}
			return
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			out = append(out, "file://"+im.bring(path))
		case ".yaml", ".yml", ".json":
			doc, err := im.parseFile(path)
			if err != nil {
				im.noteAt(at, "tests: %v", err)
				return
			}
			done := im.within(path)
			out = append(out, sw.testList(doc)...)
			done()
		case ".jsonl":
			data, err := readLimited(path)
			if err != nil {
				im.noteAt(at, "tests: %v", err)
				return
			}
			done := im.within(path)
			for i, line := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				var node yaml.Node
				if err := yaml.Unmarshal([]byte(line), &node); err != nil || len(node.Content) == 0 {
					im.note(path, i+1, "test: not valid JSON: skipped")
					continue
				}
				setLine(node.Content[0], i+1)
				out = append(out, sw.test(node.Content[0])...)
			}
			done()
		default:
			im.noteAt(at, "tests: %s: only CSV, YAML, JSON and JSONL test files are mapped (a script generating tests is not run)", s)
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		ref(n.Value, n)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c = resolveAlias(c); c.Kind == yaml.ScalarNode {
				ref(c.Value, c)
				continue
			}
			out = append(out, sw.test(c)...)
		}
	default:
		im.noteAt(n, "tests: expected a list or a file:// reference")
	}
	switch {
	case len(out) == 0:
		return nil
	case len(out) == 1:
		if s, ok := out[0].(string); ok {
			return s
		}
	}
	return out
}

// setLine gives every node of a JSONL row its line in the file.
func setLine(n *yaml.Node, line int) {
	n.Line = line
	for _, c := range n.Content {
		setLine(c, line)
	}
}

func (sw *suiteWriter) testList(doc *yaml.Node) []any {
	if doc.Kind != yaml.SequenceNode {
		sw.im.noteAt(doc, "tests file: expected a list of tests")
		return nil
	}
	var out []any
	for _, c := range doc.Content {
		out = append(out, sw.test(resolveAlias(c))...)
	}
	return out
}

// test converts one promptfoo test; a var holding a list makes one test
// per value (promptfoo runs every combination).
func (sw *suiteWriter) test(n *yaml.Node) []any {
	im := sw.im
	if n.Kind != yaml.MappingNode {
		im.noteAt(n, "test: expected a mapping (vars, assert): skipped")
		return nil
	}
	t := &testOut{}
	desc := ""
	keys, f, at := fields(n)
	for _, k := range keys {
		switch k {
		case "description":
			desc = f[k].Value
		case "vars":
			t.Params = sw.vars(f[k])
		case "assert":
			t.Assert = sw.asserts(f[k])
		case "threshold":
			t.Threshold = number(f[k])
		case "options": // after the loop: it reads the assertions
		case "metadata":
			im.noteAt(at[k], "test metadata: not kept (name the test to filter it with --filter)")
		case "providers", "prompts":
			im.noteAt(at[k], "test %s filter: not mapped: the test runs in every imported suite", k)
		case "provider":
			im.noteAt(at[k], "test provider: not mapped: the test runs on the suite's model")
		default:
			im.noteAt(at[k], "test %s: not mapped", k)
		}
	}
	if f["options"] != nil {
		sw.options(f["options"], t, false)
	}
	sw.dropUnread(t, t.Assert, n)
	var out []any
	combos := expand(t.Params)
	for _, params := range combos {
		c := *t
		c.Params = params
		name := desc
		switch {
		case desc != "" && len(combos) > 1:
			name = desc + " (" + paramsName(params) + ")"
		case desc == "":
			name = paramsName(params)
		}
		if name == "" {
			name = "test " + strconv.Itoa(len(sw.names)+1)
		}
		base := name
		for i := 2; sw.names[name]; i++ {
			name = base + " (" + strconv.Itoa(i) + ")"
		}
		sw.names[name] = true
		c.Name = name
		c.Assert = sw.fillAsserts(c.Assert, sw.withDefaults(params), n)
		out = append(out, &c)
	}
	return out
}

// paramsName is the parameter values joined by ", " (as aieval names CSV
// rows without a name column), in key order.
func paramsName(params map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(params) {
		s := fmt.Sprint(params[k])
		if b, err := json.Marshal(params[k]); err == nil && !isScalar(params[k]) {
			s = string(b)
		}
		parts = append(parts, s)
	}
	name := strings.Join(parts, ", ")
	if r := []rune(name); len(r) > 80 {
		name = string(r[:77]) + "..."
	}
	return name
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// maxCombinations bounds the tests one promptfoo test expands to.
const maxCombinations = 1000

// expand makes the combinations of list-valued vars (promptfoo's vars
// matrix); a test without lists is itself.
func expand(params map[string]any) []map[string]any {
	out := []map[string]any{{}}
	for _, k := range sortedKeys(params) {
		list, isList := params[k].([]any)
		if !isList || len(list) == 0 || len(out)*len(list) > maxCombinations {
			for _, o := range out {
				o[k] = params[k]
			}
			continue
		}
		var next []map[string]any
		for _, o := range out {
			for _, v := range list {
				c := make(map[string]any, len(o)+1)
				for ok, ov := range o {
					c[ok] = ov
				}
				c[k] = v
				next = append(next, c)
			}
		}
		out = next
	}
	if len(params) == 0 {
		return []map[string]any{nil}
	}
	return out
}

// vars reads `vars:`: a mapping (file:// text values are read in), or a
// file:// reference to one.
func (sw *suiteWriter) vars(n *yaml.Node) map[string]any {
	im := sw.im
	if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, "file://") {
		doc, err := im.parseFile(im.ref(n.Value))
		if err != nil {
			im.noteAt(n, "vars: %v", err)
			return nil
		}
		n = doc
	}
	if n.Kind != yaml.MappingNode {
		im.noteAt(n, "vars: expected a mapping of variable names to values")
		return nil
	}
	out := map[string]any{}
	keys, f, at := fields(n)
	for _, k := range keys {
		v := plain(f[k])
		if s, ok := v.(string); ok && strings.HasPrefix(s, "file://") {
			path := im.ref(s)
			switch strings.ToLower(filepath.Ext(path)) {
			case ".txt", ".md", ".text", ".html", ".xml", ".csv", ".json", ".yaml", ".yml":
				data, err := readLimited(path)
				if err != nil {
					im.noteAt(at[k], "var %s: %v: not mapped", k, err)
					continue
				}
				v = string(data)
				im.noteAt(at[k], "var %s: the content of %s is written into the suite", k, s)
			default:
				im.noteAt(at[k], "var %s: %s is not text (an image or a script): not mapped", k, s)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// dropUnread removes variables no prompt and no assertion reads: aieval
// refuses them (so a typo cannot pass silently), promptfoo ignores them.
func (sw *suiteWriter) dropUnread(t *testOut, asserts []*assertOut, at *yaml.Node) {
	if len(t.Params) == 0 {
		return
	}
	extra := assertReads(asserts)
	for _, k := range sortedKeys(t.Params) {
		if !sw.reads[k] && !extra[k] {
			sw.im.noteAt(at, "var %s is read by no prompt: dropped (aieval refuses parameters nothing reads)", k)
			delete(t.Params, k)
		}
	}
	if len(t.Params) == 0 {
		t.Params = nil
	}
}

func number(n *yaml.Node) *float64 {
	var f float64
	if n == nil || n.Decode(&f) != nil {
		return nil
	}
	return &f
}

// promptReads are the variables the converted prompts read.
func promptReads(ps []promptIn) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for k := range templateVars(s) {
			out[k] = true
		}
	}
	for _, p := range ps {
		add(p.input)
		if s, ok := p.settings["system_prompt"].(string); ok {
			add(s)
		}
		if ms, ok := p.settings["messages"].([]any); ok {
			for _, m := range ms {
				if c, ok := m.(map[string]any)["content"].(string); ok {
					add(c)
				}
			}
		}
	}
	return out
}

// withDefaults is params over defaultTest's vars.
func (sw *suiteWriter) withDefaults(params map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range sw.defaultVars {
		out[k] = v
	}
	for k, v := range params {
		out[k] = v
	}
	return out
}
