package eval

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
