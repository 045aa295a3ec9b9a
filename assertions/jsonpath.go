package assertions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// json-path: a small JSONPath subset ($, .key, ['key'], [index], [*], .*),
// parsed at load time. A path with a wildcard yields the list of matches.

func init() {
	Register("json-path", newJSONPath)
	describe("json-path", "value {path: $.a.b[0], equals: X | contains: X | exists: true}: checks one spot of the output JSON")
}

type stepKind int

const (
	stepKey stepKind = iota
	stepIndex
	stepWild
)

type pathStep struct {
	kind  stepKind
	key   string
	index int
}

// parsePath compiles the supported JSONPath subset.
func parsePath(p string) ([]pathStep, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("path %q must start with $ (e.g. $.answer)", p)
	}
	var steps []pathStep
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			i++
			if i < len(p) && p[i] == '.' {
				return nil, fmt.Errorf("path %q: recursive descent (..) is not supported; spell out the keys", p)
			}
			if i < len(p) && p[i] == '*' {
				steps = append(steps, pathStep{kind: stepWild})
				i++
				continue
			}
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("path %q: empty key at position %d", p, i)
			}
			steps = append(steps, pathStep{kind: stepKey, key: p[i:j]})
			i = j
		case '[':
			step, n, err := parseBracket(p[i:])
			if err != nil {
				return nil, fmt.Errorf("path %q at position %d: %w", p, i, err)
			}
			steps = append(steps, step)
			i += n
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at position %d; use .key or [index]", p, p[i], i)
		}
	}
	return steps, nil
}

// parseBracket reads one [...] selector from the start of s and returns it
// with the number of bytes it used.
func parseBracket(s string) (pathStep, int, error) {
	if len(s) >= 3 && s[1] == '*' && s[2] == ']' {
		return pathStep{kind: stepWild}, 3, nil
	}
	if len(s) >= 2 && (s[1] == '\'' || s[1] == '"') {
		quote := s[1]
		var key strings.Builder
		for i := 2; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				key.WriteByte(s[i])
			case s[i] == quote:
				if i+1 >= len(s) || s[i+1] != ']' {
					return pathStep{}, 0, errors.New("missing ] after quoted key")
				}
				return pathStep{kind: stepKey, key: key.String()}, i + 2, nil
			default:
				key.WriteByte(s[i])
			}
		}
		return pathStep{}, 0, errors.New("unterminated quoted key")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return pathStep{}, 0, errors.New("missing ]")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s[1:end]))
	if err != nil {
		return pathStep{}, 0, fmt.Errorf("[%s] is not an index, * or a quoted key", s[1:end])
	}
	return pathStep{kind: stepIndex, index: n}, end + 1, nil
}

// evalPath applies steps to doc. With a wildcard the value is the list of
// all matches; otherwise the single match. ok is false when nothing matched.
func evalPath(doc any, steps []pathStep) (value any, ok bool) {
	cur := []any{doc}
	multi := false
	for _, st := range steps {
		var next []any
		for _, v := range cur {
			switch st.kind {
			case stepKey:
				if m, isMap := v.(map[string]any); isMap {
					if x, has := m[st.key]; has {
						next = append(next, x)
					}
				}
			case stepIndex:
				if l, isList := v.([]any); isList {
					i := st.index
					if i < 0 {
						i += len(l)
					}
					if i >= 0 && i < len(l) {
						next = append(next, l[i])
					}
				}
			case stepWild:
				multi = true
				switch x := v.(type) {
				case []any:
					next = append(next, x...)
				case map[string]any:
					for _, k := range sortedKeys(x) {
						next = append(next, x[k])
					}
				}
			}
		}
		cur = next
	}
	if multi {
		if cur == nil {
			cur = []any{}
		}
		return cur, len(cur) > 0
	}
	if len(cur) == 0 {
		return nil, false
	}
	return cur[0], true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func newJSONPath(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	if spec.Value == nil {
		return nil, errors.New("missing value: give {path: $.answer, equals: X} (or contains: X, exists: true)")
	}
	m, err := mapValue(spec.Value, "path", "equals", "contains", "exists")
	if err != nil {
		return nil, err
	}
	path, ok := m["path"].(string)
	if !ok {
		return nil, errors.New("value needs path: as text, e.g. path: $.answer")
	}
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	var ops []string
	for _, k := range []string{"equals", "contains", "exists"} {
		if _, has := m[k]; has {
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		return nil, fmt.Errorf("value needs exactly one of equals, contains, exists (got %d)", len(ops))
	}
	op := ops[0]
	want, err := normalizeJSON(m[op])
	if err != nil {
		return nil, err
	}
	if op == "exists" {
		if _, isBool := want.(bool); !isBool {
			return nil, fmt.Errorf("exists must be true or false, got %s", short(m[op]))
		}
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		doc, err := parseJSON(in.Output)
		if err != nil {
			return outcome(false, fmt.Sprintf("output is not JSON (%v), so %s cannot be read; %s", err, path, found(in.Output))), nil
		}
		got, ok := evalPath(doc, steps)
		return judgePath(path, op, want, got, ok, doc), nil
	}), nil
}

// judgePath decides one json-path check.
func judgePath(path, op string, want, got any, ok bool, doc any) Result {
	if op == "exists" {
		if ok == want.(bool) {
			if ok {
				return outcome(true, path+" exists in the output JSON")
			}
			return outcome(true, path+" is absent from the output JSON")
		}
		if ok {
			return outcome(false, fmt.Sprintf("%s exists (%s) but should be absent", path, short(got)))
		}
		return outcome(false, notFound(path, doc))
	}
	if !ok {
		return outcome(false, notFound(path, doc))
	}
	if op == "equals" {
		if reflect.DeepEqual(got, want) {
			return outcome(true, fmt.Sprintf("%s equals %s", path, short(want)))
		}
		r := outcome(false, fmt.Sprintf("%s is %s, expected %s", path, short(got), short(want)))
		gs, gIsText := got.(string)
		ws, wIsText := want.(string)
		if gIsText && wIsText {
			r.diff = lazyDiff(ws, gs)
		} else {
			r.diff = lazyDiff(prettyJSON(want), prettyJSON(got))
		}
		return r
	}
	switch g := got.(type) {
	case string:
		ws, isText := scalarString(want)
		if isText && strings.Contains(g, ws) {
			return outcome(true, fmt.Sprintf("%s contains %s", path, q(ws)))
		}
		return outcome(false, fmt.Sprintf("%s is %s, which does not contain %s", path, q(g), short(want)))
	case []any:
		for _, x := range g {
			if reflect.DeepEqual(x, want) {
				return outcome(true, fmt.Sprintf("%s contains %s", path, short(want)))
			}
		}
		return outcome(false, fmt.Sprintf("%s is %s, which has no item equal to %s", path, short(g), short(want)))
	}
	return outcome(false, fmt.Sprintf("%s is %s; contains needs text or a list there", path, short(got)))
}

// notFound names the path and, to help fix it, the top-level keys.
func notFound(path string, doc any) string {
	msg := path + " not found in the output JSON"
	if m, ok := doc.(map[string]any); ok {
		keys := sortedKeys(m)
		msg += fmt.Sprintf(" (top-level keys: %s)", excerpt(strings.Join(keys, ", "), excerptRunes))
	}
	return msg
}
