package assertions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// Tool call assertions. The calls come from Input.ToolCalls (OpenAI's
// tool_calls list); when that is empty, an output that is itself such a
// list (or {"tool_calls": [...]}, or a legacy function_call object) is read
// instead, since a response with only tool calls has them as its text.
// Declared tools come from Input.Tools (the prompt's `tools` or
// `functions` settings), or from the assertion's value where a type takes
// one.

func init() {
	Register("is-valid-tool-call", newValidToolCall(false))
	describe("is-valid-tool-call", "every tool call names a declared function (prompt tools/functions, or value) and its arguments validate against its JSON schema")
	Register("is-valid-openai-tools-call", newValidToolCall(true))
	describe("is-valid-openai-tools-call", "promptfoo's check: a non-empty OpenAI tool_calls list whose string arguments validate against the declared tools")
	Register("tool-call", newToolCall)
	describe("tool-call", "a tool call has value {name, arguments}, arguments matched as a JSON subset (a list value: every call must be there)")
	Register("tool-call-f1", newToolCallF1)
	describe("tool-call-f1", "F1 of the tool calls against the value list of expected calls (names, or {name, arguments}) is at least threshold (default 1)")
}

// toolCall is one call, arguments decoded.
type toolCall struct {
	name    string
	rawArgs string // as sent, for messages
	args    any    // decoded JSON; nil when none or undecodable
	argsErr error  // arguments that are not JSON
	strArgs bool   // arguments were a JSON string, as OpenAI sends them
}

// toolCallsOf returns the calls of in, or an error saying why there are
// none readable.
func toolCallsOf(in *Input) ([]toolCall, error) {
	raw := in.ToolCalls
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage(strings.TrimSpace(in.Output))
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errors.New("the response has no tool calls")
	}
	if m, ok := v.(map[string]any); ok {
		switch {
		case m["tool_calls"] != nil:
			v = m["tool_calls"]
		case m["function_call"] != nil:
			v = []any{map[string]any{"type": "function", "function": m["function_call"]}}
		case m["name"] != nil:
			v = []any{map[string]any{"type": "function", "function": m}}
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("the response has no tool calls")
	}
	calls := make([]toolCall, 0, len(list))
	for i, item := range list {
		m, _ := item.(map[string]any)
		fn, _ := m["function"].(map[string]any)
		if fn == nil {
			fn = m // a bare {name, arguments}
		}
		name, _ := fn["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("tool call %d has no function name: %s", i+1, short(item))
		}
		c := toolCall{name: name}
		switch a := fn["arguments"].(type) {
		case nil:
		case string:
			c.rawArgs, c.strArgs = a, true
			if strings.TrimSpace(a) != "" {
				if err := json.Unmarshal([]byte(a), &c.args); err != nil {
					c.argsErr = err
				}
			}
		default:
			b, _ := json.Marshal(a)
			c.rawArgs, c.args = string(b), a
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// declaredTools maps function name to its parameters schema (nil: none).
func declaredTools(raw any) (map[string]any, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("tools must be a list of {type: function, function: {name, parameters}}, got %s", kindOf(raw))
	}
	out := make(map[string]any, len(list))
	for i, item := range list {
		m, _ := item.(map[string]any)
		fn := m
		if f, ok := m["function"].(map[string]any); ok {
			if t, _ := m["type"].(string); t != "" && t != "function" {
				continue // other tool kinds (web_search...) declare no function
			}
			fn = f
		}
		name, _ := fn["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("tool %d has no function name", i+1)
		}
		out[name] = fn["parameters"]
	}
	return out, nil
}

func newValidToolCall(openaiShape bool) Factory {
	return func(spec Spec) (Assertion, error) {
		if err := noThreshold(spec); err != nil {
			return nil, err
		}
		var fixed map[string]any
		if spec.Value != nil {
			v, err := structuredValue(spec, spec.Value)
			if err != nil {
				return nil, err
			}
			if fixed, err = declaredTools(v); err != nil {
				return nil, fmt.Errorf("value: %w", err)
			}
			for name, schema := range fixed {
				if err := checkToolSchema(schema); err != nil {
					return nil, fmt.Errorf("value: tool %q: %w", name, err)
				}
			}
		}
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			calls, err := toolCallsOf(in)
			if err != nil || len(calls) == 0 {
				why := "the response has no tool calls"
				if err != nil {
					why = err.Error()
				}
				return outcome(false, why+"; "+found(in.Output)), nil
			}
			tools := fixed
			if tools == nil {
				if len(in.Tools) == 0 {
					return outcome(false, "the prompt declares no tools (model settings tools or functions), but the response calls "+callNames(calls)), nil
				}
				var v any
				if err := json.Unmarshal(in.Tools, &v); err != nil {
					return Result{}, fmt.Errorf("read the prompt's tools: %w", err)
				}
				if tools, err = declaredTools(v); err != nil {
					return Result{}, fmt.Errorf("the prompt's %w", err)
				}
			}
			for i, c := range calls {
				if why := validateCall(c, tools, openaiShape); why != "" {
					return outcome(false, fmt.Sprintf("tool call %d: %s", i+1, why)), nil
				}
			}
			return outcome(true, fmt.Sprintf("%d tool call%s valid: %s", len(calls), plural(len(calls)), callNames(calls))), nil
		}), nil
	}
}

func callNames(calls []toolCall) string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// validateCall returns why c is not a valid call of tools, or "".
func validateCall(c toolCall, tools map[string]any, openaiShape bool) string {
	schema, ok := tools[c.name]
	if !ok {
		known := make([]string, 0, len(tools))
		for n := range tools {
			known = append(known, n)
		}
		sort.Strings(known)
		return fmt.Sprintf("calls %q, which is not a declared function%s (declared: %s)", c.name, Suggest(c.name, known), strings.Join(known, ", "))
	}
	if openaiShape && !c.strArgs {
		return fmt.Sprintf("%q has no arguments string, as OpenAI's tool calls carry", c.name)
	}
	if c.argsErr != nil {
		return fmt.Sprintf("%q arguments are not JSON (%v): %s", c.name, c.argsErr, q(c.rawArgs))
	}
	if schema == nil {
		if c.args != nil && !reflect.DeepEqual(c.args, map[string]any{}) {
			return fmt.Sprintf("%q takes no parameters but got %s", c.name, q(c.rawArgs))
		}
		return ""
	}
	args := c.args
	if args == nil {
		args = map[string]any{}
	}
	res, err := gojsonschema.Validate(gojsonschema.NewGoLoader(schema), gojsonschema.NewGoLoader(args))
	if err != nil {
		return fmt.Sprintf("%q parameters schema cannot be used: %v", c.name, err)
	}
	if !res.Valid() {
		errs := make([]string, 0, len(res.Errors()))
		for _, e := range res.Errors() {
			errs = append(errs, e.String())
		}
		return fmt.Sprintf("%q arguments %s do not match its schema: %s", c.name, q(c.rawArgs), excerpt(strings.Join(errs, "; "), 2*excerptRunes))
	}
	return ""
}

func checkToolSchema(schema any) error {
	if schema == nil {
		return nil
	}
	_, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(schema))
	return err
}

// expectedCall is one call a test wants: a name and, optionally,
// arguments that must be a JSON subset of the call's.
type expectedCall struct {
	name    string
	args    any
	hasArgs bool
}

func (e expectedCall) String() string {
	if !e.hasArgs {
		return e.name
	}
	return e.name + short(e.args)
}

func (e expectedCall) matches(c toolCall) bool {
	return c.name == e.name && (!e.hasArgs || (c.argsErr == nil && jsonSubset(e.args, c.args)))
}

func expectedCallOf(v any, where string) (expectedCall, error) {
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return expectedCall{}, fmt.Errorf("%s: empty tool name", where)
		}
		return expectedCall{name: strings.TrimSpace(s)}, nil
	}
	m, err := mapValue(v, "name", "arguments")
	if err != nil {
		return expectedCall{}, fmt.Errorf("%s: %w", where, err)
	}
	name, _ := m["name"].(string)
	if strings.TrimSpace(name) == "" {
		return expectedCall{}, fmt.Errorf("%s: missing name: give the function name", where)
	}
	e := expectedCall{name: name}
	if a, ok := m["arguments"]; ok {
		if s, isText := a.(string); isText {
			// OpenAI sends arguments as a JSON string; accept that form too.
			var dec any
			if err := json.Unmarshal([]byte(s), &dec); err != nil {
				return expectedCall{}, fmt.Errorf("%s: arguments text is not JSON: %v", where, err)
			}
			a = dec
		}
		if e.args, err = normalizeJSON(a); err != nil {
			return expectedCall{}, fmt.Errorf("%s: %w", where, err)
		}
		e.hasArgs = true
	}
	return e, nil
}

// jsonSubset reports whether want is contained in got: maps by key
// (extra keys in got are fine), lists element by element with equal
// length, scalars equal.
func jsonSubset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !jsonSubset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !jsonSubset(w[i], g[i]) {
				return false
			}
		}
		return true
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return reflect.DeepEqual(want, got)
}

func expectedCalls(spec Spec) ([]expectedCall, error) {
	v := spec.Value
	if v == nil {
		return nil, errors.New("missing value: give the expected call {name: fn, arguments: {...}} or a list of them")
	}
	if isFileRef(v) {
		var err error
		if v, err = structuredValue(spec, v); err != nil {
			return nil, err
		}
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case string:
		for _, p := range strings.Split(x, ",") {
			if strings.TrimSpace(p) != "" {
				items = append(items, p)
			}
		}
	default:
		items = []any{x}
	}
	if len(items) == 0 {
		return nil, errors.New("value lists no expected call")
	}
	out := make([]expectedCall, 0, len(items))
	for i, it := range items {
		e, err := expectedCallOf(it, fmt.Sprintf("expected call %d", i+1))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func newToolCall(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	want, err := expectedCalls(spec)
	if err != nil {
		return nil, err
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		calls, err := toolCallsOf(in)
		if err != nil {
			return outcome(false, fmt.Sprintf("expected a call of %s but %v; %s", want[0], err, found(in.Output))), nil
		}
		var missing []string
		for _, e := range want {
			hit := false
			for _, c := range calls {
				if e.matches(c) {
					hit = true
					break
				}
			}
			if !hit {
				missing = append(missing, e.String())
			}
		}
		got := describeCalls(calls)
		if len(missing) == 0 {
			return outcome(true, "the response calls "+got), nil
		}
		r := outcome(false, fmt.Sprintf("no tool call matches %s; the response calls %s", strings.Join(missing, ", "), got))
		r.Score = float64(len(want)-len(missing)) / float64(len(want))
		return r, nil
	}), nil
}

func describeCalls(calls []toolCall) string {
	if len(calls) == 0 {
		return "no tool"
	}
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = c.name + "(" + excerpt(c.rawArgs, 80) + ")"
	}
	return excerpt(strings.Join(parts, ", "), 2*excerptRunes)
}

func newToolCallF1(spec Spec) (Assertion, error) {
	limit, err := unitThreshold(spec, 1)
	if err != nil {
		return nil, err
	}
	want, err := expectedCalls(spec)
	if err != nil {
		return nil, err
	}
	// Expected calls are a set, as in promptfoo.
	seen := map[string]bool{}
	uniq := want[:0:0]
	for _, e := range want {
		if k := e.String(); !seen[k] {
			seen[k] = true
			uniq = append(uniq, e)
		}
	}
	want = uniq
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		calls, _ := toolCallsOf(in) // no calls: precision and recall are 0
		// Actual calls are a set too: by name when every expected call is
		// a bare name, else by name and arguments.
		byName := true
		for _, e := range want {
			byName = byName && !e.hasArgs
		}
		seen := map[string]bool{}
		var actual []toolCall
		for _, c := range calls {
			k := c.name
			if !byName {
				k += "\x00" + canonicalJSON(c.args)
			}
			if !seen[k] {
				seen[k] = true
				actual = append(actual, c)
			}
		}
		tp := 0
		for _, c := range actual {
			for _, e := range want {
				if e.matches(c) {
					tp++
					break
				}
			}
		}
		found := 0
		for _, e := range want {
			for _, c := range actual {
				if e.matches(c) {
					found++
					break
				}
			}
		}
		var p, r, f1 float64
		if len(actual) > 0 {
			p = float64(tp) / float64(len(actual))
		}
		r = float64(found) / float64(len(want))
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		exp := make([]string, len(want))
		for i, e := range want {
			exp[i] = e.String()
		}
		note := fmt.Sprintf("F1 %.3f (precision %.3f, recall %.3f, threshold %g); expected %s, called %s",
			f1, p, r, limit, excerpt(strings.Join(exp, ", "), excerptRunes), describeCalls(actual))
		if f1 >= limit-1e-12 {
			return Result{Pass: true, Score: f1, Reason: "tool calls match: " + note}, nil
		}
		return Result{Score: f1, Reason: "tool calls do not match well enough: " + note}, nil
	}), nil
}

func canonicalJSON(v any) string {
	b, _ := json.Marshal(v) // encoding/json sorts map keys
	return string(b)
}
