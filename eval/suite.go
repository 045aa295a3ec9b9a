package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/runtime"
)

var (
	suiteKeys   = []string{"description", "config", "params", "defaults", "models", "grader", "prices", "tests", "matrix", "pass_rate"}
	testKeys    = []string{"name", "prompt", "params", "assert", "threshold", "repeat", "pass_rate", "skip", "transform", "matrix", "pass_k"}
	defaultKeys = testKeys[1:] // everything but name
	assertKeys  = []string{"type", "value", "threshold", "weight", "metric", "provider", "timeout", "rubric_prompt", "env", "transform"}
	modelKeys   = []string{"provider", "base_url", "api_key_env", "model"}
	priceKeys   = []string{"input", "output"}
	envNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// LoadSuite reads and validates a suite and its aiconfig. Every error is one
// line naming the file and line; all problems found are reported together
// in an *InputError.
func LoadSuite(path string) (*Suite, error) {
	l := &loader{file: path, suitePath: path}
	s := l.suite(path)
	if len(l.problems) > 0 {
		return nil, &InputError{Problems: l.problems, Suite: path}
	}
	registerKeys(s)
	return s, nil
}

func (l *loader) suite(path string) *Suite {
	data, err := readLimited(path, maxYAMLBytes)
	if err != nil {
		l.errf(0, "read suite: %s", describeFSError(err))
		return nil
	}
	root := l.parse(data)
	if root == nil {
		return nil
	}
	f, ok := l.fields(root, "the suite", suiteKeys)
	if !ok {
		return nil
	}
	s := &Suite{Path: path, Dir: filepath.Dir(path)}
	if n := f["description"]; n != nil {
		s.Description, _ = l.str(n, "description")
	}
	if n := f["grader"]; n != nil {
		s.Grader, _ = l.str(n, "grader")
	}
	if n := f["params"]; n != nil {
		s.Params, _ = l.params(n, "params")
		l.paramsLine = l.deref(n).Line
	}
	if n := f["models"]; n != nil {
		s.Models = l.models(n)
	}
	if n := f["prices"]; n != nil {
		s.Prices = l.prices(n)
	}
	if n := f["matrix"]; n != nil {
		s.Matrix = l.matrix(n, "matrix")
		s.matrixLine = l.deref(n).Line
	}
	if n := f["pass_rate"]; n != nil {
		s.PassRate, _ = l.fraction(n, "pass_rate (the fraction of the suite's tests that must pass)", true)
	}
	if n := f["config"]; n == nil {
		l.errf(root.Line, "missing field \"config\": name the aiconfig file under test, relative to this suite")
	} else if rel, ok := l.str(n, "config"); ok {
		s.ConfigPath = filepath.Join(s.Dir, rel)
		if filepath.IsAbs(rel) {
			s.ConfigPath = rel
		}
		s.ConfigLine = l.deref(n).Line
		s.Config = l.config(s.ConfigPath, s.ConfigLine)
		if s.Config != nil {
			s.reads = map[string]map[string]bool{}
			for _, p := range s.Config.PromptNames() {
				if _, done := s.reads[p]; !done {
					s.reads[p] = s.Config.ParamsRead(p)
				}
			}
		}
	}

	var defs *rawTest
	if n := f["defaults"]; n != nil {
		defs = l.test(n, "defaults", defaultKeys, s)
	}
	var raws []*rawTest
	streamed := false
	testsLine := root.Line
	if n := f["tests"]; n != nil && l.deref(n) != nil {
		testsLine = l.deref(n).Line
	}
	if n := f["tests"]; n == nil {
		l.errf(root.Line, "missing field \"tests\": add a list of tests, or tests: file://cases.yaml")
	} else if ref := rowCasesRef(l.deref(n)); ref != nil {
		// One .jsonl/.csv file: validated row by row, kept only if small.
		s.Tests, s.lazy = l.streamCases(ref, s, defs)
		streamed = true
	} else {
		raws = l.testList(n, s)
	}
	if l.full() {
		return nil
	}
	if !streamed {
		s.Tests = l.finish(s, defs, raws)
	}
	if len(l.problems) == 0 && s.TestCount() == 0 {
		// A suite that selects nothing would pass without testing anything.
		l.errf(testsLine, "tests is empty: add at least one test (name, prompt, assert)")
	}
	l.checkSharedParams(s, defs)
	l.validateConfig(s)
	return s
}

// config loads the aiconfig; its own errors already name its file and line.
func (l *loader) config(path string, line int) *runtime.Config {
	if fi, err := os.Stat(path); err != nil {
		l.errf(line, "config %s: %s (the path is relative to the suite file)", path, describeFSError(err))
		return nil
	} else if fi.IsDir() {
		l.errf(line, "config %s is a directory; name the aiconfig file in it (e.g. %s)", path, filepath.Join(path, "prompts.aiconfig.json"))
		return nil
	}
	c, err := runtime.Load(path)
	if err != nil {
		l.raw(err.Error())
		return nil
	}
	return c
}

func describeFSError(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "file not found"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// models reads `models: {name: {base_url, api_key_env, provider, model}}`.
func (l *loader) models(n *yaml.Node) map[string]runtime.Endpoint {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind == yaml.SequenceNode {
		l.errf(d.Line, "models must be a mapping of model name to {base_url, api_key_env}, got a list; to run every test on several models list them under matrix: [a, b] (models: then maps each one to its endpoint)")
		return nil
	}
	if d.Kind != yaml.MappingNode {
		l.errf(d.Line, "models must be a mapping of model name to {base_url, api_key_env}, got %s", kindName(d))
		return nil
	}
	out := map[string]runtime.Endpoint{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := l.deref(d.Content[i]), d.Content[i+1]
		if k == nil {
			return out
		}
		name := k.Value
		if vv := l.deref(v); vv != nil && vv.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(vv.Content); j += 2 {
				if kk := vv.Content[j]; kk.Value == "api_key" {
					// Never echo the value: it is probably a real key.
					l.errf(kk.Line, "models.%s: api_key is not allowed in a suite; put the key in an environment variable and name it with api_key_env", name)
					vv = nil
					break
				}
			}
			if vv == nil {
				continue
			}
		}
		f, ok := l.fields(v, "models."+name, modelKeys)
		if !ok {
			continue
		}
		var ep runtime.Endpoint
		if x := f["provider"]; x != nil {
			ep.Provider, _ = l.str(x, "provider")
		}
		if x := f["model"]; x != nil {
			ep.Model, _ = l.str(x, "model")
		}
		if x := f["base_url"]; x != nil {
			if s, ok := l.str(x, "base_url"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					l.errf(x.Line, "models.%s.base_url must be an http(s) URL such as http://127.0.0.1:11434/v1", name)
				} else if u.User != nil {
					l.errf(x.Line, "models.%s.base_url must not hold credentials; use api_key_env", name)
				}
				ep.BaseURL = s
			}
		}
		if x := f["api_key_env"]; x != nil {
			if s, ok := l.str(x, "api_key_env"); ok {
				if !envNameRe.MatchString(s) {
					l.errf(x.Line, "models.%s.api_key_env must be the name of an environment variable (like OPENAI_API_KEY), not the key itself", name)
				}
				ep.APIKeyEnv = s
			}
		}
		out[name] = ep
	}
	return out
}

// matrix reads `matrix: [model, ...]`: the models every test runs on,
// each named as in the aiconfig or the suite's models: mapping.
func (l *loader) matrix(n *yaml.Node, what string) []string {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.SequenceNode || len(d.Content) == 0 {
		l.errf(d.Line, "%s must be a non-empty list of model names, e.g. [gpt-4o, claude-3-5-sonnet, llama3]", what)
		return nil
	}
	out := make([]string, 0, len(d.Content))
	for _, c := range d.Content {
		m, ok := l.str(c, what+" entry")
		if !ok {
			continue
		}
		switch m = strings.TrimSpace(m); {
		case m == "":
			l.errf(l.deref(c).Line, "%s: empty model name", what)
		case slices.Contains(out, m):
			l.errf(l.deref(c).Line, "%s: model %q is listed twice", what, m)
		case strings.ContainsAny(m, "[]"):
			l.errf(l.deref(c).Line, "%s: model %q: a model name cannot hold [ or ]", what, m)
		default:
			out = append(out, m)
		}
	}
	return out
}

// prices reads `prices: {model: {input: USD per 1M tokens, output: ...}}`.
func (l *loader) prices(n *yaml.Node) map[string]Price {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.MappingNode {
		l.errf(d.Line, "prices must be a mapping of model name to {input, output} (USD per 1M tokens), got %s", kindName(d))
		return nil
	}
	out := map[string]Price{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		name := d.Content[i].Value
		f, ok := l.fields(d.Content[i+1], "prices."+name, priceKeys)
		if !ok {
			continue
		}
		var p Price
		for key, dst := range map[string]*float64{"input": &p.Input, "output": &p.Output} {
			if x := f[key]; x != nil {
				v, ok := l.number(x, "prices."+name+"."+key, "a number of USD per 1M tokens")
				if ok && (v < 0 || v > maxPrice) {
					l.errf(x.Line, "prices.%s.%s must be from 0 to %g USD per 1M tokens, got %v", name, key, float64(maxPrice), v)
				}
				*dst = v
			}
		}
		out[name] = p
	}
	return out
}

// testList reads tests: a list of tests and file:// references, or one
// file:// reference.
func (l *loader) testList(n *yaml.Node, s *Suite) []*rawTest {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind == yaml.ScalarNode && d.Tag == "!!str" {
		return l.casesRef(d, s)
	}
	if d.Kind != yaml.SequenceNode {
		l.errf(d.Line, "tests must be a list of tests or file://cases.yaml, got %s", kindName(d))
		return nil
	}
	var out []*rawTest
	for _, c := range d.Content {
		if l.full() {
			break
		}
		if cd := l.deref(c); cd != nil && cd.Kind == yaml.ScalarNode && cd.Tag == "!!str" {
			out = append(out, l.casesRef(cd, s)...)
			continue
		}
		if t := l.test(c, "test", testKeys, s); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// rawTest is a test as written, before defaults are merged.
type rawTest struct {
	file       string
	line       int // line in file
	suiteLine  int // line in the suite (of the file:// reference for cases files)
	name       string
	hasName    bool
	nameLine   int
	prompt     string
	promptLine int
	params     map[string]any
	paramsLine int
	csv        bool // a CSV row: its parameters are columns
	asserts    []*Assert
	threshold  *float64
	repeat     int
	passRate   float64
	skip       *string
	transform  *assertions.Transform
	matrix     []string
	passK      int
}

// test reads one test mapping (or the defaults, with what == "defaults").
func (l *loader) test(n *yaml.Node, what string, allowed []string, s *Suite) *rawTest {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	t := &rawTest{file: l.file, line: d.Line, suiteLine: d.Line}
	if name := peekName(d); name != "" {
		what = "test " + strconv.Quote(name) // so a typo elsewhere names its test
	}
	f, ok := l.fields(d, what, allowed)
	if !ok {
		return nil
	}
	if x := f["name"]; x != nil {
		t.name, t.hasName = l.str(x, "name")
		t.nameLine = l.deref(x).Line
		if t.hasName && strings.TrimSpace(t.name) == "" {
			l.errf(t.nameLine, "test name is empty; give every test a unique name")
		}
	}
	if x := f["prompt"]; x != nil {
		t.prompt, _ = l.str(x, what+": prompt")
		t.promptLine = l.deref(x).Line
	}
	if x := f["params"]; x != nil {
		t.params, _ = l.params(x, what+": params")
		t.paramsLine = l.deref(x).Line
	}
	if x := f["threshold"]; x != nil {
		if v, ok := l.fraction(x, what+": threshold", false); ok {
			t.threshold = &v
		}
	}
	if x := f["pass_rate"]; x != nil {
		t.passRate, _ = l.fraction(x, what+": pass_rate", true)
	}
	if x := f["repeat"]; x != nil {
		v, ok := l.number(x, what+": repeat", "a whole number of runs")
		if ok && (v != float64(int(v)) || v < 1 || v > maxRepeat) {
			l.errf(l.deref(x).Line, "%s: repeat must be a whole number from 1 to %d, got %v", what, maxRepeat, v)
		} else if ok {
			t.repeat = int(v)
		}
	}
	if x := f["skip"]; x != nil {
		t.skip = l.skip(x, what)
	}
	if x := f["matrix"]; x != nil {
		if l.file != l.suitePath {
			l.errf(l.deref(x).Line, "%s: matrix is set on the suite, its defaults or a test in the suite file, not in a cases file", what)
		} else {
			t.matrix = l.matrix(x, what+": matrix")
		}
	}
	if x := f["pass_k"]; x != nil {
		v, ok := l.number(x, what+": pass_k", "a whole number of runs")
		if ok && (v != float64(int(v)) || v < 1 || v > maxRepeat) {
			l.errf(l.deref(x).Line, "%s: pass_k must be a whole number from 1 to the test's repeat, got %v", what, v)
		} else if ok {
			t.passK = int(v)
		}
	}
	if x := f["assert"]; x != nil {
		t.asserts = l.asserts(x, what, s)
	}
	if x := f["transform"]; x != nil {
		t.transform = l.transform(x, what, s)
	}
	return t
}

// skip reads `skip: true` or `skip: "reason"`; nil means not skipped.
func (l *loader) skip(n *yaml.Node, what string) *string {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind == yaml.ScalarNode && d.Tag == "!!bool" {
		var b bool
		_ = d.Decode(&b)
		if !b {
			return nil
		}
		r := "skipped"
		return &r
	}
	if d.Kind == yaml.ScalarNode && d.Tag != "!!null" {
		// "no", "off", "FALSE" are strings to YAML 1.2 but a spreadsheet's
		// or a person's false: never a reason to skip.
		if b, isBool := parseBool(d.Value); isBool {
			if !b {
				return nil
			}
			r := "skipped"
			return &r
		}
		r := strings.TrimSpace(d.Value)
		if r == "" {
			r = "skipped"
		}
		return &r
	}
	l.errf(d.Line, "%s: skip must be true or a reason, got %s", what, kindName(d))
	return nil
}

// asserts reads an assert list, building (and so validating) each one.
func (l *loader) asserts(n *yaml.Node, what string, s *Suite) []*Assert {
	d := l.deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.SequenceNode {
		l.errf(d.Line, "%s: assert must be a list of {type, value}, got %s", what, kindName(d))
		return nil
	}
	// Rows of a cases file mostly repeat one assertion list: build each
	// distinct list once (rows share their *Assert anyway, see build).
	if l.file != l.suitePath {
		var ok bool
		if l.keyBuf, ok = appendNodeKey(append(l.keyBuf[:0], l.file...), d); ok {
			if out, ok := l.rowAsserts[string(l.keyBuf)]; ok {
				return out
			}
			mark := len(l.problems)
			out := l.assertList(d, what, s)
			if len(l.problems) == mark && len(l.rowAsserts) < maxInterned {
				if l.rowAsserts == nil {
					l.rowAsserts = map[string][]*Assert{}
				}
				l.rowAsserts[string(l.keyBuf)] = slices.Clip(out)
			}
			return out
		}
	}
	return l.assertList(d, what, s)
}

// appendNodeKey appends a serialisation of n that tells apart any two trees
// the loader could read differently (kinds, tags, values, in order). It
// gives up (false) on aliases: what they point to depends on the document.
func appendNodeKey(b []byte, n *yaml.Node) ([]byte, bool) {
	if n.Kind == yaml.AliasNode {
		return b, false
	}
	b = append(b, 0, byte(n.Kind))
	b = append(b, n.Tag...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(len(n.Value)), 10)
	b = append(b, ':')
	b = append(b, n.Value...)
	b = strconv.AppendInt(b, int64(len(n.Content)), 10)
	for _, c := range n.Content {
		var ok bool
		if b, ok = appendNodeKey(b, c); !ok {
			return b, false
		}
	}
	return b, true
}

func (l *loader) assertList(d *yaml.Node, what string, s *Suite) []*Assert {
	out := make([]*Assert, 0, len(d.Content))
	for _, c := range d.Content {
		f, ok := l.fields(c, what+": assert", assertKeys)
		if !ok {
			continue
		}
		line := l.deref(c).Line
		spec := assertions.Spec{Weight: 1, Dir: s.Dir, File: l.file, Line: line}
		if x := f["type"]; x == nil {
			l.errf(line, "%s: assertion without type (known: %s)", what, strings.Join(assertions.Names(), ", "))
			continue
		} else if spec.Type, ok = l.str(x, "type"); !ok {
			continue
		}
		if x := f["value"]; x != nil {
			spec.Value, _ = l.value(x, 0, spec.Type+": value")
		}
		if x := f["threshold"]; x != nil {
			if v, ok := l.number(x, spec.Type+": threshold", "a number"); ok {
				spec.Threshold = &v
			}
		}
		if x := f["weight"]; x != nil {
			if v, ok := l.number(x, spec.Type+": weight", "a number >= 0"); ok {
				if v < 0 || v > maxWeight {
					l.errf(x.Line, "%s: weight must be from 0 to %g, got %v", spec.Type, float64(maxWeight), v)
				}
				spec.Weight = v
			}
		}
		if x := f["metric"]; x != nil {
			spec.Metric, _ = l.str(x, "metric")
		}
		if x := f["provider"]; x != nil {
			spec.Provider, _ = l.str(x, "provider")
		}
		if x := f["timeout"]; x != nil {
			spec.Timeout, _ = l.duration(x, spec.Type+": timeout")
		}
		if x := f["rubric_prompt"]; x != nil {
			spec.RubricPrompt, _ = l.str(x, "rubric_prompt")
		}
		if x := f["env"]; x != nil {
			spec.Env = l.names(x, spec.Type+": env")
		}
		if a := l.build(spec, what); a != nil {
			out = append(out, l.withTransform(a, f["transform"], what, s))
		}
	}
	return out
}

// maxInterned bounds the table of shared assertion implementations.
const maxInterned = 4096

// build validates spec and makes its assertion. Specs that differ only in
// where they are written share one implementation (a regex compiled once
// for 100k rows), which assertions allow: they are safe for concurrent use.
//
// Rows of a cases file share the whole *Assert: their results carry no
// line (it would point into another file than the suite's).
func (l *loader) build(spec assertions.Spec, what string) *Assert {
	key := internKey(spec)
	row := spec.File != l.suitePath
	if row && key != "" {
		key = fmt.Sprintf("%s\x00%g\x00%s", key, spec.Weight, spec.Metric)
	}
	if a := l.interned[key]; a != nil && key != "" {
		if row {
			return a
		}
		return &Assert{Spec: spec, Impl: a.Impl}
	}
	impl, err := assertions.New(spec)
	if err != nil {
		l.errAt(spec.File, spec.Line, "%s: %v", what, err)
		return nil
	}
	if row {
		spec.Line = 0
	}
	a := &Assert{Spec: spec, Impl: impl}
	if key != "" && len(l.interned) < maxInterned {
		if l.interned == nil {
			l.interned = map[string]*Assert{}
		}
		l.interned[key] = a
	}
	return a
}

// internKey identifies what an assertion does, leaving out where it is
// written and how it is weighed; "" when the value cannot be encoded.
func internKey(s assertions.Spec) string {
	v, err := json.Marshal(s.Value)
	if err != nil || len(v) > 4096 {
		return ""
	}
	th := "-"
	if s.Threshold != nil {
		th = strconv.FormatFloat(*s.Threshold, 'g', -1, 64)
	}
	return strings.Join([]string{s.Type, string(v), th, s.Provider, s.Dir, s.Timeout.String(), s.RubricPrompt, strings.Join(s.Env, ",")}, "\x00")
}

// names reads a list of variable names (`env: [NAME, ...]`).
func (l *loader) names(n *yaml.Node, what string) []string {
	n = l.deref(n)
	if n.Kind != yaml.SequenceNode {
		l.errf(n.Line, "%s: want a list of variable names, e.g. [MY_JUDGE_TOKEN]", what)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if name, ok := l.str(c, what); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// peekName returns a mapping's plain `name:` value, "" if none.
func peekName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}
