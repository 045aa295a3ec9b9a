package eval

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
)

// jsonConfig's echo output is JSON: {"answer": "Answer: NYC", "n": 3}.
const jsonConfig = `{
  "name": "j",
  "schema_version": "latest",
  "metadata": {"models": {"echo": {"model": "echo"}}, "default_model": "echo"},
  "prompts": [{"name": "ask", "input": "{\"answer\": \"Answer: {{city}}\", \"n\": 3}"}]
}
`

func transformSuite(t *testing.T, body string) (*Suite, error) {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"j.aiconfig.json": jsonConfig,
		"s.eval.yaml":     "config: j.aiconfig.json\nparams: {city: NYC}\n" + body,
	})
	return LoadSuite(filepath.Join(dir, "s.eval.yaml"))
}

func TestTransforms(t *testing.T) {
	t.Setenv("AIEVAL_TRANSFORM_SECRET", "sekrit")
	s, err := transformSuite(t, `defaults:
  prompt: ask
  transform: {regex: "Answer: (\\w+)"}
tests:
  - name: path
    transform: $.answer
    assert: [{type: equals, value: "Answer: NYC"}]
  - name: number
    transform: {json_path: $.n}
    assert: [{type: equals, value: "3"}]
  - name: default regex
    assert: [{type: equals, value: NYC}]
  - name: per assertion
    transform: $.answer
    assert:
      - {type: equals, value: "Answer: NYC"}
      - {type: equals, value: NYC, transform: {regex: ": (.*)"}}
      - {type: not-contains, value: Paris, transform: {regex: "(Answer)"}}
  - name: exec
    transform: {exec: "sh -c 'cat >/dev/null; echo \"x${AIEVAL_TRANSFORM_SECRET}y\"'"}
    assert: [{type: equals, value: xy}]
  - name: exec reads the output
    transform: {exec: "sh -c 'cut -c1-29'"}
    assert: [{type: equals, value: "{\"output\":\"{\\\"answer\\\": \\\"Ans"}]
  - name: exec fails
    transform: {exec: "sh -c 'echo broken >&2; exit 3'"}
    assert: [{type: equals, value: NYC}]
  - name: no match
    transform: {regex: "Paris (\\d+)"}
    assert: [{type: equals, value: NYC}]
  - name: assertion no match
    assert:
      - {type: not-equals, value: x, transform: $.missing}
`)
	if err != nil {
		t.Fatal(err)
	}
	_, got := runAll(t, context.Background(), testOpts(t), s)
	byName := map[string]results.TestResult{}
	for _, tr := range got {
		byName[tr.Name] = tr
	}
	raw := `{"answer": "Answer: NYC", "n": 3}`
	for _, c := range []struct {
		name, transformed string
		status            results.Status
		reason            string
	}{
		{"path", "Answer: NYC", results.StatusPass, ""},
		{"number", "3", results.StatusPass, ""},
		{"default regex", "NYC", results.StatusPass, ""},
		{"per assertion", "Answer: NYC", results.StatusPass, ""},
		{"exec", "xy", results.StatusPass, ""},
		{"exec reads the output", `{"output":"{\"answer\": \"Ans`, results.StatusPass, ""},
		{"exec fails", "", results.StatusError, "exited 3: broken"},
		{"no match", "", results.StatusFail, `transform: regex "Paris (\\d+)": no match in the output`},
		{"assertion no match", "NYC", results.StatusFail, "transform $.missing: output is not JSON"},
	} {
		tr, ok := byName[c.name]
		if !ok {
			t.Fatalf("%s: not run", c.name)
		}
		if tr.Status != c.status || !strings.Contains(tr.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, tr.Status, tr.Reason, c.status, c.reason)
		}
		if tr.Output != raw {
			t.Errorf("%s: output %q, want the raw %q", c.name, tr.Output, raw)
		}
		gotT := ""
		if tr.Transformed != nil {
			gotT = *tr.Transformed
		}
		if gotT != c.transformed {
			t.Errorf("%s: transformed %q, want %q", c.name, gotT, c.transformed)
		}
	}
	pa := byName["per assertion"].Assertions
	if len(pa) != 3 || pa[0].Transformed != nil || pa[1].Transformed == nil || *pa[1].Transformed != "NYC" || *pa[2].Transformed != "Answer" {
		t.Errorf("per-assertion transforms: %+v", pa)
	}
	if nm := byName["no match"].Assertions; len(nm) != 1 || nm[0].Type != "transform" || nm[0].Pass {
		t.Errorf("no match: assertions %+v, want one failed transform", nm)
	}
	// A not- assertion does not invert a transform that found nothing.
	if a := byName["assertion no match"].Assertions; len(a) != 1 || a[0].Pass {
		t.Errorf("not- with a mismatching transform: %+v, want a failure", a)
	}
	if strings.Contains(byName["exec"].Reason+*byName["exec"].Transformed, "sekrit") {
		t.Error("a transform command saw a variable outside its allow-list")
	}
}

func TestTransformLoadErrors(t *testing.T) {
	for _, c := range []struct{ transform, want string }{
		{`"output.trim()"`, "runs no JavaScript"},
		{`"JSON.parse(output).answer"`, "write a JSON path ($.answer)"},
		{`file://t.js`, "transform: {exec: node t.js}"},
		{`file://t.py:get_answer`, "transform: {exec: python3 t.py}"},
		{`{regex: "("}`, "missing closing )"},
		{`{regex: "(a)", group: 2}`, "group must be a whole number from 0 to 1"},
		{`{json_path: answer}`, "must start with $"},
		{`{jsonpath: $.a}`, "jsonpath"},
		{`{regex: a, exec: b}`, "exactly one of json_path, regex, exec"},
		{`{exec: "a | b"}`, "sh -c"},
		{`[1]`, "must be a JSON path"},
	} {
		_, err := transformSuite(t, "tests:\n  - name: t\n    prompt: ask\n    transform: "+c.transform+"\n    assert: [{type: is-json}]\n")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "s.eval.yaml:6") {
			t.Errorf("transform %s: error %v, want s.eval.yaml:6 and %q", c.transform, err, c.want)
		}
	}
	// On an assertion too, with its line.
	_, err := transformSuite(t, "tests:\n  - name: t\n    prompt: ask\n    assert:\n      - type: is-json\n        transform: output.answer\n")
	if err == nil || !strings.Contains(err.Error(), "s.eval.yaml:8") || !strings.Contains(err.Error(), "JavaScript") {
		t.Errorf("assertion transform: %v", err)
	}
}

// An exec transform gets every parameter, so none is "not read".
func TestExecTransformReadsParams(t *testing.T) {
	_, err := transformSuite(t, "tests:\n  - name: t\n    prompt: ask\n    params: {extra: 1}\n    transform: {exec: cat}\n    assert: [{type: is-json}]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = transformSuite(t, "tests:\n  - name: t\n    prompt: ask\n    params: {extra: 1}\n    transform: $.a\n    assert: [{type: is-json}]\n")
	if err == nil || !strings.Contains(err.Error(), "extra") {
		t.Fatalf("unread param with a path transform: %v", err)
	}
}
