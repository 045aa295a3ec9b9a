package eval

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tripConfig runs on the echo parser: its output is the resolved prompt.
const tripConfig = `{
  "name": "trip",
  "schema_version": "latest",
  "metadata": {"models": {"echo": {"model": "echo"}}, "default_model": "echo"},
  "prompts": [
    {"name": "get_activities", "input": "Tell me 10 fun attractions to do in {{city}}."},
    {"name": "gen_itinerary",
     "input": "Itinerary ordered by {{order_by}} for: {{get_activities.output}}",
     "metadata": {"parameters": {"order_by": "location"}}}
  ]
}
`

// writeFiles creates files (name -> content) in a new temp dir.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadOK(t *testing.T, files map[string]string) *Suite {
	t.Helper()
	if files["trip.aiconfig.json"] == "" {
		files["trip.aiconfig.json"] = tripConfig
	}
	dir := writeFiles(t, files)
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatalf("LoadSuite: %v", err)
	}
	return s
}

func TestLoadSuite(t *testing.T) {
	s := loadOK(t, map[string]string{"s.eval.yaml": `
description: trips
config: trip.aiconfig.json
params: {city: NYC, order_by: price}
grader: gpt-4o
models:
  gpt-4o: {base_url: "http://127.0.0.1:9/v1", api_key_env: MY_KEY}
prices:
  gpt-4o: {input: 2.5, output: 10}
defaults:
  prompt: get_activities
  assert:
    - type: latency
      threshold: 10000
tests:
  - name: lists attractions
    params: {city: Paris}
    assert:
      - type: icontains-any
        value: [paris, louvre]
        weight: 2
        metric: relevance
  - name: itinerary
    prompt: gen_itinerary
    threshold: 0.5
    repeat: 3
    pass_rate: 0.6
  - name: later
    skip: not ready
  - name: off
    skip: true
`})
	if s.Description != "trips" || s.Grader != "gpt-4o" || s.Config == nil {
		t.Fatalf("suite fields: %+v", s)
	}
	if got := s.Models["gpt-4o"]; got.BaseURL != "http://127.0.0.1:9/v1" || got.APIKeyEnv != "MY_KEY" {
		t.Errorf("models = %+v", s.Models)
	}
	if s.Prices["gpt-4o"] != (Price{Input: 2.5, Output: 10}) {
		t.Errorf("prices = %+v", s.Prices)
	}
	if len(s.Tests) != 4 {
		t.Fatalf("tests = %d, want 4", len(s.Tests))
	}
	a := s.Tests[0]
	if a.Prompt != "get_activities" || a.Line != 16 || !reflect.DeepEqual(a.Params, map[string]any{"city": "Paris"}) {
		t.Errorf("test 0 = %+v", a)
	}
	if len(a.Asserts) != 2 || a.Asserts[0].Spec.Type != "latency" || a.Asserts[1].Spec.Weight != 2 || a.Asserts[1].Spec.Metric != "relevance" {
		t.Errorf("defaults' asserts must come first: %+v", a.Asserts)
	}
	if a.Asserts[1].Spec.Line != 19 {
		t.Errorf("assert line = %d, want 19", a.Asserts[1].Spec.Line)
	}
	b := s.Tests[1]
	if b.Prompt != "gen_itinerary" || *b.Threshold != 0.5 || b.Repeat != 3 || b.PassRate != 0.6 {
		t.Errorf("test 1 = %+v", b)
	}
	if s.Tests[2].Skip != "not ready" || s.Tests[3].Skip != "skipped" || s.Tests[0].Skip != "" {
		t.Errorf("skips = %q %q %q", s.Tests[2].Skip, s.Tests[3].Skip, s.Tests[0].Skip)
	}
}

func TestLoadSuiteErrors(t *testing.T) {
	head := "config: trip.aiconfig.json\nparams: {city: NYC}\ntests:\n"
	tests := []struct {
		name, suite string
		extra       map[string]string
		want        string // substring of the one-line message, after "s.eval.yaml:"
	}{
		{"unknown prompt", head + "  - name: a\n    prompt: get_activitis\n",
			nil, `s.eval.yaml:5: test "a": unknown prompt "get_activitis" (did you mean get_activities?)`},
		{"unknown assertion type", head + "  - name: a\n    prompt: get_activities\n    assert:\n      - type: containz\n        value: x\n",
			nil, `s.eval.yaml:7: test "a": unknown assertion type "containz" (did you mean contains?)`},
		{"bad regex", head + "  - name: a\n    prompt: get_activities\n    assert:\n      - type: regex\n        value: \"a(b\"\n",
			nil, `s.eval.yaml:7: test "a": regex:`},
		{"bad threshold", head + "  - name: a\n    prompt: get_activities\n    threshold: 1.5\n",
			nil, `s.eval.yaml:6: test "a": threshold must be a number from 0 to 1, got 1.5`},
		{"threshold not a number", head + "  - name: a\n    prompt: get_activities\n    threshold: high\n",
			nil, `s.eval.yaml:6: test "a": threshold must be a number from 0 to 1, got "high"`},
		{"bad repeat", head + "  - name: a\n    prompt: get_activities\n    repeat: 0\n",
			nil, `s.eval.yaml:6: test "a": repeat must be a whole number from 1 to 10000`},
		{"bad pass_rate", head + "  - name: a\n    prompt: get_activities\n    pass_rate: 0\n",
			nil, `s.eval.yaml:6: test "a": pass_rate must be a number above 0 and at most 1`},
		{"duplicate name", head + "  - name: a\n    prompt: get_activities\n  - name: a\n    prompt: get_activities\n",
			nil, `s.eval.yaml:6: duplicate test name "a" (first at `},
		{"unknown field typo", head + "  - name: a\n    prompt: get_activities\n    asert: []\n",
			nil, `s.eval.yaml:6: unknown field "asert" in test "a" (did you mean assert?)`},
		{"unknown top-level field", "confg: trip.aiconfig.json\ntests: []\n",
			nil, `s.eval.yaml:1: unknown field "confg" in the suite (did you mean config?)`},
		{"unknown assert field", head + "  - name: a\n    prompt: get_activities\n    assert:\n      - type: contains\n        valu: x\n",
			nil, `s.eval.yaml:8: unknown field "valu" in test "a": assert (did you mean value?)`},
		{"bad yaml", head + "  - name: a\n   prompt: [\n",
			nil, `s.eval.yaml:3: invalid YAML: did not find expected '-' indicator (fix the syntax)`},
		{"tab yaml", "config: x\ntests:\n\t- name: a\n",
			nil, `s.eval.yaml:3: invalid YAML:`},
		{"file escape", "config: trip.aiconfig.json\ntests: file://../cases.yaml\n",
			nil, `s.eval.yaml:2: tests: file://../cases.yaml: path leaves the suite's directory`},
		{"file absolute", "config: trip.aiconfig.json\ntests: file:///etc/passwd\n",
			nil, `s.eval.yaml:2: tests: file:///etc/passwd: absolute paths are not allowed`},
		{"missing config file", "config: nope.aiconfig.json\ntests: []\n",
			nil, `s.eval.yaml:1: config `},
		{"missing config field", "tests: []\n",
			nil, `s.eval.yaml:1: missing field "config"`},
		{"missing name", head + "  - prompt: get_activities\n",
			nil, `s.eval.yaml:4: test without a name`},
		{"missing prompt", head + "  - name: a\n",
			nil, `s.eval.yaml:4: test "a": missing prompt`},
		{"not a mapping", "- a\n- b\n",
			nil, `s.eval.yaml:1: the suite must be a mapping, got a list`},
		{"empty", "", nil, `s.eval.yaml: empty file`},
		{"binary", "config: \x00\x01\xff", nil, `s.eval.yaml: not a text file`},
		{"duplicate key", "config: trip.aiconfig.json\nconfig: trip.aiconfig.json\ntests: []\n",
			nil, `s.eval.yaml:2: the suite: duplicate key "config" (first at line 1)`},
		{"api key in suite", "config: trip.aiconfig.json\nmodels:\n  m: {base_url: 'http://x/v1', api_key: sk-secret123}\ntests: []\n",
			nil, `s.eval.yaml:3: models.m: api_key is not allowed in a suite`},
		{"key as env name", "config: trip.aiconfig.json\nmodels:\n  m: {base_url: 'http://x/v1', api_key_env: sk-secret123}\ntests: []\n",
			nil, `s.eval.yaml:3: models.m.api_key_env must be the name of an environment variable`},
		{"negative weight", head + "  - name: a\n    prompt: get_activities\n    assert:\n      - type: contains\n        value: x\n        weight: -1\n",
			nil, `s.eval.yaml:9: contains: weight must be from 0 to 1e+06`},
		{"undefined param", "config: trip.aiconfig.json\ntests:\n  - name: a\n    prompt: get_activities\n",
			nil, `trip.aiconfig.json:`},
		{"deep nesting", head + "  - name: a\n    prompt: get_activities\n    params: {x: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n",
			nil, `nested deeper than 64 levels`},
		{"alias bomb", "config: trip.aiconfig.json\nparams:\n" + aliasBomb() + "tests: []\n",
			nil, `too many nodes after expanding aliases`},
		{"cases row error", "config: trip.aiconfig.json\nparams: {city: x}\ntests: file://cases.yaml\n",
			map[string]string{"cases.yaml": "- name: a\n  prompt: get_activities\n- name: b\n  promt: x\n"},
			`cases.yaml:4: unknown field "promt" in test "b" (did you mean prompt?)`},
		{"cases bad extension", "config: trip.aiconfig.json\ntests: file://cases.txt\n",
			map[string]string{"cases.txt": "x"}, `s.eval.yaml:2: tests: file://cases.txt: unsupported extension ".txt"`},
		{"jsonl bad line", "config: trip.aiconfig.json\nparams: {city: x}\ntests: file://cases.jsonl\n",
			map[string]string{"cases.jsonl": `{"name": "a", "prompt": "get_activities"}` + "\n\nnot json\n"},
			`cases.jsonl:3: each line must be a JSON object`},
		{"csv without name", "config: trip.aiconfig.json\ntests: file://cases.csv\n",
			map[string]string{"cases.csv": "prompt,assert_contains\nget_activities,x\n"}, `cases.csv:1: missing column "name"`},
		{"csv bad assertion", "config: trip.aiconfig.json\nparams: {city: x}\ntests: file://cases.csv\n",
			map[string]string{"cases.csv": "name,prompt,assert_regex\na,get_activities,ok\nb,get_activities,(\n"}, `cases.csv:3: test "b": regex:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": tt.suite}
			for k, v := range tt.extra {
				files[k] = v
			}
			dir := writeFiles(t, files)
			_, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *InputError", err, err)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", msg, tt.want)
			}
			for _, p := range ie.Problems {
				if strings.ContainsAny(p.String(), "\r\n") {
					t.Errorf("problem spans lines: %q", p.String())
				}
				if strings.Contains(p.String(), "sk-secret123") {
					t.Errorf("a key-like value was echoed: %q", p.String())
				}
			}
		})
	}
}

// aliasBomb is the "billion laughs" shape: 9 levels of 9 aliases.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("  a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestLoadSuiteMergeKeys(t *testing.T) {
	s := loadOK(t, map[string]string{"s.eval.yaml": `
config: trip.aiconfig.json
params: {city: NYC}
tests:
  - &base
    name: first
    prompt: get_activities
    params: {city: Rome}
  - <<: *base
    name: merged
`})
	if len(s.Tests) != 2 {
		t.Fatalf("tests = %d", len(s.Tests))
	}
	m := s.Tests[1]
	if m.Name != "merged" || m.Prompt != "get_activities" || m.Params["city"] != "Rome" {
		t.Errorf("merged test = %+v", m)
	}
}

func TestLoadSuiteCasesFiles(t *testing.T) {
	head := "config: trip.aiconfig.json\nparams: {city: NYC}\ndefaults:\n  assert:\n    - type: contains\n      value: attractions\n"
	tests := []struct {
		name  string
		ref   string
		cases map[string]string
	}{
		{"yaml", "file://cases.yaml", map[string]string{"cases.yaml": "- name: a\n  prompt: get_activities\n  params: {city: Rome}\n  assert: [{type: contains, value: Rome}]\n- name: b\n  prompt: get_activities\n"}},
		{"json", "file://cases.json", map[string]string{"cases.json": "[\n {\"name\": \"a\", \"prompt\": \"get_activities\", \"params\": {\"city\": \"Rome\"},\n  \"assert\": [{\"type\": \"contains\", \"value\": \"Rome\"}]},\n {\"name\": \"b\", \"prompt\": \"get_activities\"}\n]\n"}},
		{"jsonl", "file://sub/cases.jsonl", map[string]string{"sub/cases.jsonl": `{"name": "a", "prompt": "get_activities", "params": {"city": "Rome"}, "assert": [{"type": "contains", "value": "Rome"}]}` + "\n\n" + `{"name": "b", "prompt": "get_activities"}` + "\n"}},
		{"csv", "file://cases.csv", map[string]string{"cases.csv": "\ufeffname,prompt,city,assert_contains\na,get_activities,Rome,Rome\nb,get_activities,,\n"}},
		{"list with a reference", "\n  - name: a\n    prompt: get_activities\n    params: {city: Rome}\n    assert: [{type: contains, value: Rome}]\n  - file://cases.yaml", map[string]string{"cases.yaml": "- name: b\n  prompt: get_activities\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"s.eval.yaml": head + "tests: " + tt.ref + "\n"}
			for k, v := range tt.cases {
				files[k] = v
			}
			s := loadOK(t, files)
			if len(s.Tests) != 2 {
				t.Fatalf("tests = %d, want 2", len(s.Tests))
			}
			a, b := s.Tests[0], s.Tests[1]
			if a.Name != "a" || a.Prompt != "get_activities" || a.Params["city"] != "Rome" {
				t.Errorf("a = %+v", a)
			}
			if len(a.Asserts) != 2 || a.Asserts[0].Spec.Value != "attractions" || a.Asserts[1].Spec.Value != "Rome" {
				t.Errorf("a asserts = %+v", a.Asserts)
			}
			if b.Name != "b" || len(b.Asserts) != 1 {
				t.Errorf("b = %+v", b)
			}
			if tt.name == "csv" && len(b.Params) != 1 {
				// An empty CSV cell is still a parameter (""), like promptfoo.
				t.Errorf("b params = %v", b.Params)
			}
			if b.Line <= 0 || !strings.Contains(b.Source(), ":") {
				t.Errorf("b line %d source %q", b.Line, b.Source())
			}
		})
	}
}

// Rows share the assertions built for an identical list, and only then:
// a value that differs in text or type builds its own.
func TestLoadSuiteRowAssertsShared(t *testing.T) {
	rows := []string{
		`{"name":"a","prompt":"get_activities","assert":[{"type":"contains","value":"42"}]}`,
		`{"name":"b","prompt":"get_activities","assert":[{"type":"contains","value":"42"}]}`,
		`{"name":"c","prompt":"get_activities","assert":[{"type":"contains","value":42}]}`,
		`{"name":"d","prompt":"get_activities","assert":[{"type":"contains","value":"43"}]}`,
		`{"name":"e","prompt":"get_activities","assert":[{"type":"contains","value":"42","weight":2}]}`,
	}
	s := loadOK(t, map[string]string{
		"s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: NYC}\ntests: file://cases.jsonl\n",
		"cases.jsonl": strings.Join(rows, "\n") + "\n",
	})
	a := func(i int) *Assert { return s.Tests[i].Asserts[0] }
	if a(0) != a(1) {
		t.Error("identical lists built twice")
	}
	for i := 2; i < len(rows); i++ {
		if a(i) == a(0) {
			t.Errorf("row %d shares row 0's assertion: %+v", i, a(i).Spec)
		}
	}
	if v, _ := a(2).Spec.Value.(int); v != 42 {
		t.Errorf("row c value = %#v, want the number 42", a(2).Spec.Value)
	}
	if a(4).Spec.Weight != 2 {
		t.Errorf("row e weight = %v", a(4).Spec.Weight)
	}
}

func TestDiscover(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.eval.yaml":                   "",
		"sub/b.eval.yml":                "",
		"sub/deeper/c.eval.yaml":        "",
		"sub/not-a-suite.yaml":          "",
		".git/x.eval.yaml":              "",
		"vendor/y.eval.yaml":            "",
		"web/node_modules/z.eval.yaml":  "",
		"sub/travel.aiconfig.json":      "",
		"sub/eval.yaml":                 "",
		"sub/deeper/almost.eval.yaml.x": "",
	})
	got, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i], _ = filepath.Rel(dir, got[i])
	}
	want := []string{"a.eval.yaml", "sub/b.eval.yml", "sub/deeper/c.eval.yaml"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Discover = %v, want %v", got, want)
	}
	if _, err := Discover(filepath.Join(dir, "missing")); err == nil {
		t.Error("Discover of a missing root: want an error")
	}
}
