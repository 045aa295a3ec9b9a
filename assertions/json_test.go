package assertions

import "testing"

var answerSchema = map[string]any{
	"type":     "object",
	"required": []any{"answer"},
	"properties": map[string]any{
		"answer": map[string]any{"type": "integer"},
	},
}

func TestJSONAssertions(t *testing.T) {
	fenced := "Here you go:\n```json\n{\"answer\": 42}\n```\nAnything else?"
	runCases(t, []checkCase{
		{name: "is-json pass", spec: Spec{Type: "is-json"}, in: Input{Output: " {\"a\": [1, 2]}\n"}, pass: true, score: 1, reason: "output is valid JSON"},
		{name: "is-json fail", spec: Spec{Type: "is-json"}, in: Input{Output: "{\"a\": 1"}, reason: "output is not valid JSON"},
		{name: "is-json trailing text", spec: Spec{Type: "is-json"}, in: Input{Output: `{"a": 1} thanks`}, reason: "extra text after the JSON value"},
		{name: "is-json fenced hint", spec: Spec{Type: "is-json"}, in: Input{Output: fenced[13:]}, reason: "use contains-json"},
		{name: "is-json schema pass", spec: Spec{Type: "is-json", Value: answerSchema}, in: Input{Output: `{"answer": 42}`}, pass: true, score: 1, reason: "matching the schema"},
		{name: "is-json schema fail", spec: Spec{Type: "is-json", Value: answerSchema}, in: Input{Output: `{"answer": "42"}`}, reason: "answer: Invalid type. Expected: integer, given: string"},
		{name: "not-is-json pass", spec: Spec{Type: "not-is-json"}, in: Input{Output: "plain text"}, pass: true, score: 1},
		{name: "not-is-json fail", spec: Spec{Type: "not-is-json"}, in: Input{Output: "[]"}, reason: "output is valid JSON but must not"},

		{name: "contains-json fenced", spec: Spec{Type: "contains-json"}, in: Input{Output: fenced}, pass: true, score: 1, reason: `output contains JSON {"answer":42}`},
		{name: "contains-json none", spec: Spec{Type: "contains-json"}, in: Input{Output: "no json {here} at all ["}, reason: "contains no JSON object or array"},
		{name: "contains-json schema picks matching", spec: Spec{Type: "contains-json", Value: answerSchema}, in: Input{Output: "see [1] and {\"answer\": 7}"}, pass: true, score: 1, reason: "matching the schema"},
		{name: "contains-json schema fail", spec: Spec{Type: "contains-json", Value: answerSchema}, in: Input{Output: `got {"result": 7}`}, reason: "none matches the schema (1 found; first: (root): answer is required)"},
		{name: "not-contains-json fail", spec: Spec{Type: "not-contains-json"}, in: Input{Output: fenced}, reason: "but must not"},

		{name: "json-schema inline pass", spec: Spec{Type: "json-schema", Value: answerSchema}, in: Input{Output: `{"answer": 1}`}, pass: true, score: 1},
		{name: "json-schema inline fail", spec: Spec{Type: "json-schema", Value: answerSchema}, in: Input{Output: `{}`}, reason: "does not match the JSON schema: (root): answer is required"},
		{name: "json-schema not json", spec: Spec{Type: "json-schema", Value: answerSchema}, in: Input{Output: `nope`}, reason: "output is not JSON"},
		{name: "json-schema file pass", spec: Spec{Type: "json-schema", Value: "file://answer.schema.json", Dir: "testdata/suite"}, in: Input{Output: `{"answer": 1, "note": "x"}`}, pass: true, score: 1},
		{name: "json-schema file fail", spec: Spec{Type: "json-schema", Value: "file://answer.schema.json", Dir: "testdata/suite"}, in: Input{Output: `{"answer": 1, "note": 3}`}, reason: "note: Invalid type"},
		{name: "json-schema yaml file", spec: Spec{Type: "json-schema", Value: "file://answer.schema.yaml", Dir: "testdata/suite"}, in: Input{Output: `{"answer": 1.5}`}, reason: "answer: Invalid type"},
		{name: "not-json-schema pass", spec: Spec{Type: "not-json-schema", Value: answerSchema}, in: Input{Output: `{}`}, pass: true, score: 1},
	})
}

func TestJSONPathAssertions(t *testing.T) {
	doc := `{"answer": 42, "city": "New York", "tags": ["a", "b"], "items": [{"name": "x", "price": 3}, {"name": "y", "price": 5}], "odd key": true}`
	in := Input{Output: doc}
	jp := func(m map[string]any) Spec { return Spec{Type: "json-path", Value: m} }
	runCases(t, []checkCase{
		{name: "equals pass", spec: jp(map[string]any{"path": "$.answer", "equals": 42}), in: in, pass: true, score: 1, reason: "$.answer equals 42"},
		{name: "equals fail", spec: jp(map[string]any{"path": "$.answer", "equals": 41}), in: in, reason: "$.answer is 42, expected 41", diff: true},
		{name: "equals text fail diff", spec: jp(map[string]any{"path": "$.city", "equals": "New Jersey"}), in: in, reason: `$.city is "New York", expected "New Jersey"`, diff: true},
		{name: "index and key", spec: jp(map[string]any{"path": "$.items[1].name", "equals": "y"}), in: in, pass: true, score: 1},
		{name: "negative index", spec: jp(map[string]any{"path": "$.tags[-1]", "equals": "b"}), in: in, pass: true, score: 1},
		{name: "quoted key", spec: jp(map[string]any{"path": "$['odd key']", "equals": true}), in: in, pass: true, score: 1},
		{name: "wildcard list", spec: jp(map[string]any{"path": "$.items[*].price", "equals": []any{3, 5}}), in: in, pass: true, score: 1},
		{name: "wildcard contains", spec: jp(map[string]any{"path": "$.items[*].name", "contains": "y"}), in: in, pass: true, score: 1},
		{name: "contains text", spec: jp(map[string]any{"path": "$.city", "contains": "York"}), in: in, pass: true, score: 1},
		{name: "contains fail", spec: jp(map[string]any{"path": "$.tags", "contains": "c"}), in: in, reason: `no item equal to "c"`},
		{name: "exists pass", spec: jp(map[string]any{"path": "$.items[0].price", "exists": true}), in: in, pass: true, score: 1},
		{name: "missing path", spec: jp(map[string]any{"path": "$.answr", "exists": true}), in: in, reason: "$.answr not found in the output JSON (top-level keys: answer, city, items, odd key, tags)"},
		{name: "exists false pass", spec: jp(map[string]any{"path": "$.error", "exists": false}), in: in, pass: true, score: 1},
		{name: "not json", spec: jp(map[string]any{"path": "$.a", "exists": true}), in: Input{Output: "hi"}, reason: "output is not JSON"},
		{name: "not-json-path fail", spec: Spec{Type: "not-json-path", Value: map[string]any{"path": "$.answer", "equals": 42}}, in: in, reason: "$.answer equals 42 but must not"},
	})
}

func TestJSONLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"bad inline schema", Spec{Type: "json-schema", Value: map[string]any{"type": "nope"}}, "bad JSON schema"},
		{"bad file schema", Spec{Type: "json-schema", Value: "file://bad.schema.json", Dir: "testdata/suite"}, "bad JSON schema"},
		{"schema not json", Spec{Type: "json-schema", Value: "file://expected.txt", Dir: "testdata/suite"}, "parse file://expected.txt"},
		{"schema missing", Spec{Type: "json-schema"}, "missing value"},
		{"schema text", Spec{Type: "is-json", Value: "an object please"}, "must be a JSON schema"},
		{"path typo key", Spec{Type: "json-path", Value: map[string]any{"path": "$.a", "equal": 1}}, `unknown key "equal" (did you mean equals?)`},
		{"path no op", Spec{Type: "json-path", Value: map[string]any{"path": "$.a"}}, "exactly one of equals, contains, exists"},
		{"path two ops", Spec{Type: "json-path", Value: map[string]any{"path": "$.a", "equals": 1, "exists": true}}, "exactly one"},
		{"path no dollar", Spec{Type: "json-path", Value: map[string]any{"path": "answer", "exists": true}}, "must start with $"},
		{"path bad index", Spec{Type: "json-path", Value: map[string]any{"path": "$.a[x]", "exists": true}}, "[x] is not an index"},
		{"path unclosed", Spec{Type: "json-path", Value: map[string]any{"path": "$.a['b", "exists": true}}, "unterminated quoted key"},
		{"path descent", Spec{Type: "json-path", Value: map[string]any{"path": "$..a", "exists": true}}, "recursive descent"},
		{"path exists not bool", Spec{Type: "json-path", Value: map[string]any{"path": "$.a", "exists": "yes"}}, "exists must be true or false"},
		{"path value text", Spec{Type: "json-path", Value: "$.a"}, "value must be a map"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadErr(t, tc.spec, tc.want) })
	}
}
