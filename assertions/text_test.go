package assertions

import "testing"

func TestTextAssertions(t *testing.T) {
	out := "Visit Central Park and the Statue of Liberty."
	in := Input{Output: out}
	runCases(t, []checkCase{
		{name: "equals pass", spec: Spec{Type: "equals", Value: "hello"}, in: Input{Output: "hello"}, pass: true, score: 1, reason: `output equals "hello"`},
		{name: "equals fail", spec: Spec{Type: "equals", Value: "hello world"}, in: Input{Output: "hello there"}, score: 0, reason: `does not equal "hello world"; found "hello there"`, diff: true},
		{name: "equals whitespace hint", spec: Spec{Type: "equals", Value: "hi"}, in: Input{Output: "hi\n"}, reason: "only in leading/trailing whitespace", diff: true},
		{name: "equals number value", spec: Spec{Type: "equals", Value: 42}, in: Input{Output: "42"}, pass: true, score: 1},
		{name: "equals json map pass", spec: Spec{Type: "equals", Value: map[string]any{"a": 1, "b": []any{"x"}}}, in: Input{Output: ` {"b": ["x"], "a": 1.0} `}, pass: true, score: 1, reason: "output JSON equals"},
		{name: "equals json map fail", spec: Spec{Type: "equals", Value: map[string]any{"a": 1}}, in: Input{Output: `{"a": 2}`}, reason: `expected {"a":1}, found {"a":2}`, diff: true},
		{name: "equals json not json", spec: Spec{Type: "equals", Value: []any{1, 2}}, in: Input{Output: "one, two"}, reason: "output is not JSON"},
		{name: "not-equals pass", spec: Spec{Type: "not-equals", Value: "a"}, in: Input{Output: "b"}, pass: true, score: 1},
		{name: "not-equals fail", spec: Spec{Type: "not-equals", Value: "a"}, in: Input{Output: "a"}, score: 0, reason: `output equals "a" but must not`},

		{name: "contains pass", spec: Spec{Type: "contains", Value: "Central Park"}, in: in, pass: true, score: 1},
		{name: "contains fail short has diff", spec: Spec{Type: "contains", Value: "Brooklyn"}, in: in, reason: `output does not contain "Brooklyn"; found "Visit`, diff: true},
		{name: "contains fail long no diff", spec: Spec{Type: "contains", Value: "zzz"}, in: Input{Output: string(make([]byte, 400))}},
		{name: "contains case matters", spec: Spec{Type: "contains", Value: "central park"}, in: in, diff: true, reason: "does not contain"},
		{name: "not-contains pass", spec: Spec{Type: "not-contains", Value: "As an AI"}, in: in, pass: true, score: 1},
		{name: "not-contains fail", spec: Spec{Type: "not-contains", Value: "As an AI"}, in: Input{Output: "As an AI, I cannot"}, reason: `output contains "As an AI" but must not`},
		{name: "icontains pass", spec: Spec{Type: "icontains", Value: "central PARK"}, in: in, pass: true, score: 1, reason: "ignoring case"},
		{name: "icontains fail", spec: Spec{Type: "icontains", Value: "brooklyn"}, in: in, reason: `does not contain "brooklyn" (ignoring case)`, diff: true},
		{name: "not-icontains fail", spec: Spec{Type: "not-icontains", Value: "AS AN AI"}, in: Input{Output: "as an ai model"}, reason: "but must not"},

		{name: "contains-any pass", spec: Spec{Type: "contains-any", Value: []any{"Brooklyn", "Central Park"}}, in: in, pass: true, score: 1, reason: `output contains "Central Park"`},
		{name: "contains-any single string", spec: Spec{Type: "contains-any", Value: "Statue"}, in: in, pass: true, score: 1},
		{name: "contains-any fail", spec: Spec{Type: "contains-any", Value: []any{"Brooklyn", "Queens"}}, in: in, reason: `none of ["Brooklyn", "Queens"]`},
		{name: "not-contains-any fail", spec: Spec{Type: "not-contains-any", Value: []any{"Central Park"}}, in: in, reason: `output contains "Central Park" but must not`},
		{name: "contains-all pass", spec: Spec{Type: "contains-all", Value: []any{"Central Park", "Statue"}}, in: in, pass: true, score: 1},
		{name: "contains-all partial", spec: Spec{Type: "contains-all", Value: []any{"Central Park", "Brooklyn", "Statue", "Queens"}}, in: in, score: 0.5, reason: `missing ["Brooklyn", "Queens"] (2 of 4 found)`},
		{name: "not-contains-all partial passes", spec: Spec{Type: "not-contains-all", Value: []any{"Central Park", "Brooklyn"}}, in: in, pass: true, score: 0.5},
		{name: "icontains-any pass", spec: Spec{Type: "icontains-any", Value: []any{"central park"}}, in: in, pass: true, score: 1},
		{name: "icontains-any fail", spec: Spec{Type: "icontains-any", Value: []any{"brooklyn"}}, in: in, reason: "(ignoring case)"},
		{name: "not-icontains-any fail", spec: Spec{Type: "not-icontains-any", Value: []any{"queens", "CENTRAL"}}, in: in, reason: `output contains "CENTRAL" (ignoring case) but must not`},
		{name: "icontains-all pass", spec: Spec{Type: "icontains-all", Value: []any{"central park", "STATUE OF LIBERTY"}}, in: in, pass: true, score: 1},
		{name: "icontains-all fail", spec: Spec{Type: "icontains-all", Value: []any{"central park", "bronx", "queens"}}, in: in, score: 1.0 / 3, reason: "1 of 3 found"},
		{name: "not-icontains-all fail", spec: Spec{Type: "not-icontains-all", Value: []any{"central park"}}, in: in, reason: "but must not"},

		{name: "starts-with pass", spec: Spec{Type: "starts-with", Value: "Visit"}, in: in, pass: true, score: 1},
		{name: "starts-with fail", spec: Spec{Type: "starts-with", Value: "Go to"}, in: in, reason: `does not start with "Go to"; its head is "Visit Central Park and`, diff: true},
		{name: "not-starts-with fail", spec: Spec{Type: "not-starts-with", Value: "Visit"}, in: in, reason: `output starts with "Visit" but must not`},
		{name: "ends-with pass", spec: Spec{Type: "ends-with", Value: "Liberty."}, in: in, pass: true, score: 1},
		{name: "ends-with fail", spec: Spec{Type: "ends-with", Value: "Brooklyn."}, in: in, reason: `does not end with "Brooklyn."; its tail is`, diff: true},
		{name: "not-ends-with pass", spec: Spec{Type: "not-ends-with", Value: "!"}, in: in, pass: true, score: 1},

		{name: "regex pass", spec: Spec{Type: "regex", Value: `(?i)statue\s+of`}, in: in, pass: true, score: 1, reason: `at "Statue of"`},
		{name: "regex fail", spec: Spec{Type: "regex", Value: `^\d+$`}, in: in, reason: `does not match /^\d+$/`},
		{name: "not-regex fail", spec: Spec{Type: "not-regex", Value: `As an AI`}, in: Input{Output: "As an AI, no."}, reason: `matches /As an AI/ at "As an AI" but must not`},
		{name: "empty output reason", spec: Spec{Type: "contains", Value: "x"}, in: Input{}, reason: "output is empty", diff: true},
	})
}

func TestTextLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"bad regex", Spec{Type: "regex", Value: "a(b"}, `bad regex "a(b": error parsing regexp: missing closing )`},
		{"missing value", Spec{Type: "contains"}, "missing value"},
		{"empty contains", Spec{Type: "contains", Value: ""}, "value is empty"},
		{"map for contains", Spec{Type: "icontains", Value: map[string]any{"a": 1}}, "value must be text, got a map"},
		{"comma string any", Spec{Type: "contains-any", Value: "a, b"}, "write a YAML list"},
		{"empty list", Spec{Type: "contains-all", Value: []any{}}, "empty list"},
		{"bad list item", Spec{Type: "contains-all", Value: []any{"a", map[string]any{}}}, "value item 2 must be non-empty text"},
		{"unused threshold", Spec{Type: "equals", Value: "a", Threshold: thr(0.5)}, "threshold is not used"},
		{"negated bad regex", Spec{Type: "not-regex", Value: "["}, "not-regex: bad regex"},
	} {
		t.Run(tc.name, func(t *testing.T) { loadErr(t, tc.spec, tc.want) })
	}
}
