package eval

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var jsonlFastSeeds = []string{
	`{"name":"case-000001","prompt":"ask","params":{"q":"case-000001"},"assert":[{"type":"contains","value":"42"},{"type":"not-contains","value":"As an AI"},{"type":"length","value":{"max":500,"min":10}}]}`,
	`{"name": "t1", "prompt": "get_activities", "params": {"city": "x", "n": 1, "f": 1.5, "e": 1e3, "b": true, "c": false, "z": null}, "assert": [{"type": "regex", "value": "\\d+"}]}`,
	`{"name": "t1", "prompt": "get_activities", "params": {"city": {"a": 1}}}`, `{"name": "t1", "params": {"city": "x", "city": "y"}}`,
	`{"name": "t1", "prompt": "get_activities", "params": {"city": 99999999999999999999}}`, `{"name": "t1", "prompt": "get_activities", "params": {"city": 1e999}}`,
	`{"name": "t1", "name": "t2", "prompt": "get_activities"}`, `{"name": " ", "prompt": "get_activities"}`, `{"name": 5, "prompt": "get_activities"}`,
	`{"prompt": "get_activities"}`, `{}`, `{"name": "t\u00e9\n\"", "prompt": "get_activities"}`, `{"name": "\ud83d\ude00", "prompt": "get_activities"}`,
	`{"name": "t1", "prompt": "get_activities", "assert": []}`, `{"name": "t1", "prompt": "get_activities", "assert": [1, "x", null, true, [], {}]}`,
	`{"name": "t1", "prompt": "get_activities", "assert": {"type": "contains"}}`, `{"name": "t1", "prompt": "get_activities", "skip": true}`,
	`{"name": "t1", "prompt": "get_activities"} x`, `{"name": "t1", "prompt": "get_activities",}`, `{"name": "t1" "prompt": "get_activities"}`,
	`{"name": "t1", "prompt": "get_activities", "params": {}}`, `{"name": "t1", "prompt": "get_activities", "params": null}`,
	`{"name": "t1", "prompt": "get_activities", "params": {"city": -0, "d": 0.0, "e": 01}}`, `{ "name" : "t1" , "prompt" : "p" }`,
	`{"name": "t1", "prompt": "get_activities", "assert": [{"type": "contains", "value": "x", "weight": 2}]}`, `{"name": "t1", "prompt": "get_activities", "assert": [{"type": "nope"}]}`,
}

// FuzzJSONLFast holds the direct row reader to the tree path: whenever it
// answers, the tree path gives the same test and no problem.
func FuzzJSONLFast(f *testing.F) {
	for _, s := range jsonlFastSeeds {
		f.Add(s)
	}
	dir := writeFiles(f, map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: x}\ntests: [{name: x, prompt: get_activities}]\n"})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, row string) {
		b := bytes.TrimSpace([]byte(row))
		if len(b) == 0 || b[0] != '{' || bytes.IndexByte(b, 0) >= 0 || bytes.IndexByte(b, '\n') >= 0 || !utf8.Valid(b) {
			return // jsonlRow refuses these, or the scanner splits them
		}
		l := &loader{file: filepath.Join(dir, "cases.jsonl"), suitePath: s.Path}
		tree := l.jsonlTree(b, 7, s)
		problems := len(l.problems)
		if _, raw, _ := l.jsonlFast(b, 7); raw != nil && tree != nil && problems == 0 {
			l.noteRowAsserts(raw, tree.asserts)
		}
		fast, _, ok := l.jsonlFast(b, 7)
		if !ok {
			return
		}
		if tree == nil || problems > 0 {
			t.Fatalf("%s: fast reader answered where the tree path has problems: %v", row, l.problems)
		}
		if len(fast.asserts) != len(tree.asserts) {
			t.Fatalf("%s: %d assertions, tree %d", row, len(fast.asserts), len(tree.asserts))
		}
		for i := range fast.asserts {
			if fast.asserts[i] != tree.asserts[i] {
				t.Fatalf("%s: assertion %d differs", row, i)
			}
		}
		f, w := *fast, *tree
		f.asserts, w.asserts = nil, nil
		if !reflect.DeepEqual(f, w) {
			t.Fatalf("%s:\nfast %+v\ntree %+v", row, f, w)
		}
	})
}

// The fast reader answers the bench's rows itself (else it saves nothing).
func TestJSONLFastAnswersCommonRows(t *testing.T) {
	dir := writeFiles(t, map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: x}\ntests: [{name: x, prompt: get_activities}]\n"})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{file: filepath.Join(dir, "cases.jsonl"), suitePath: s.Path}
	for _, row := range jsonlFastSeeds[:2] {
		for i := range 2 { // the first row of an assert list builds it
			if r := l.jsonlRow([]byte(row), 1, s); r == nil || len(l.problems) > 0 {
				t.Fatalf("%s: %v", row, l.problems)
			}
			if _, _, ok := l.jsonlFast([]byte(row), 1); !ok && i == 1 {
				t.Errorf("%s: fast reader declined", strings.TrimSpace(row))
			}
		}
	}
}
