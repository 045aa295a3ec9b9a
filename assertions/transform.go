package assertions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A transform rewrites an output before it is scored: `transform:` on a
// test, on the suite's defaults or on one assertion. Three kinds, each
// checked when the suite loads:
//
//	transform: $.answer                     # a JSON path (the json-path subset)
//	transform: {json_path: $.answer}        # the same, spelt out
//	transform: {regex: "Answer: (.*)"}      # the first capture group (the whole match without one)
//	transform: {regex: "...", group: 2}     # another group
//	transform: {exec: python3 t.py}         # a command: the exec protocol's JSON on stdin, stdout is the output
//	transform: {exec: {command: ..., timeout: 10s, env: [NAME]}}
//
// promptfoo writes transforms as JavaScript (`output.trim()`, `file://t.js`):
// aieval runs no JavaScript, so those are load errors saying what to write.

// Transform is one validated transform.
type Transform struct {
	desc  string // as written, for messages and reports
	steps []pathStep
	re    *regexp.Regexp
	group int
	exec  *execCheck
}

// TransformMismatch (its reason starts with the transform as written) is
// the error of a transform whose output lacks what it
// extracts (not JSON, a path that is absent, a regex that does not match):
// what is scored fails. Any other error of Apply means the transform could
// not run, which makes the test an error.
type TransformMismatch struct{ Reason string }

func (e *TransformMismatch) Error() string { return e.Reason }

// NewTransform validates a `transform:` value. dir is the suite's
// directory (exec commands run there, like exec assertions), env the
// variables the suite passes to exec judges.
func NewTransform(v any, dir string, env []string) (*Transform, error) {
	switch x := v.(type) {
	case string:
		return stringTransform(x)
	case map[string]any, map[any]any:
		m, err := mapValue(x, "json_path", "regex", "group", "exec")
		if err != nil {
			return nil, fmt.Errorf("transform: %w (write $.path, {regex: ...} or {exec: command})", err)
		}
		var kinds []string
		for _, k := range []string{"json_path", "regex", "exec"} {
			if _, ok := m[k]; ok {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) != 1 {
			return nil, fmt.Errorf("transform needs exactly one of json_path, regex, exec (got %d)", len(kinds))
		}
		if _, ok := m["group"]; ok && kinds[0] != "regex" {
			return nil, errors.New("transform: group goes with regex")
		}
		switch kinds[0] {
		case "json_path":
			p, ok := m["json_path"].(string)
			if !ok {
				return nil, fmt.Errorf("transform: json_path must be text like $.answer, got %s", kindOf(m["json_path"]))
			}
			return pathTransform(p)
		case "regex":
			return regexTransform(m)
		default:
			ex, err := newExec(Spec{Type: "exec", Value: m["exec"], Dir: dir, Env: env})
			if err != nil {
				return nil, fmt.Errorf("transform exec: %w", err)
			}
			e := ex.(*execCheck)
			return &Transform{desc: "exec " + e.name, exec: e}, nil
		}
	case nil:
		return nil, errors.New("transform is empty: write $.path, {regex: ...} or {exec: command}")
	}
	return nil, fmt.Errorf("transform must be a JSON path ($.answer) or {regex: ...} or {exec: command}, got %s", kindOf(v))
}

func stringTransform(s string) (*Transform, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "$"):
		return pathTransform(s)
	case strings.HasPrefix(s, "file://"):
		f := strings.TrimPrefix(s, "file://")
		f, _, _ = strings.Cut(f, ":") // promptfoo's file://t.py:function_name
		switch strings.ToLower(filepath.Ext(f)) {
		case ".py":
			return nil, fmt.Errorf("transform %q is a promptfoo Python function, which aieval does not call; write a script that reads the exec JSON on stdin and prints the new output, then transform: {exec: python3 %s}", s, f)
		default:
			return nil, fmt.Errorf("transform %q is a promptfoo JavaScript file; aieval runs no JavaScript: write transform: {exec: node %s} with a script that reads the exec JSON on stdin and prints the new output, or use $.path or {regex: ...}", s, f)
		}
	case s == "":
		return nil, errors.New("transform is empty: write $.path, {regex: ...} or {exec: command}")
	}
	return nil, fmt.Errorf("transform %q is not supported: aieval runs no JavaScript expressions (promptfoo's form); write a JSON path ($.answer), {regex: \"Answer: (.*)\"} or {exec: command}", excerpt(s, 80))
}

func pathTransform(p string) (*Transform, error) {
	steps, err := parsePath(strings.TrimSpace(p))
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	return &Transform{desc: strings.TrimSpace(p), steps: steps}, nil
}

func regexTransform(m map[string]any) (*Transform, error) {
	expr, ok := m["regex"].(string)
	if !ok || expr == "" {
		return nil, errors.New("transform: regex must be a non-empty regular expression")
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("transform: regex %q: %w", expr, err)
	}
	group := min(1, re.NumSubexp())
	if g, has := m["group"]; has {
		f, ok := toFloat(g)
		if !ok || f != float64(int(f)) || f < 0 || int(f) > re.NumSubexp() {
			return nil, fmt.Errorf("transform: group must be a whole number from 0 to %d (the groups of %q)", re.NumSubexp(), expr)
		}
		group = int(f)
	}
	return &Transform{desc: "regex " + strconv.Quote(expr), re: re, group: group}, nil
}

// String is the transform as written, for messages and reports.
func (t *Transform) String() string { return t.desc }

// ReadsParams reports whether the transform gets the test's parameters
// (an exec command does), so none of them is unused.
func (t *Transform) ReadsParams() bool { return t != nil && t.exec != nil }

// Apply returns in's output transformed. See TransformMismatch for what
// its errors mean.
func (t *Transform) Apply(ctx context.Context, in *Input) (string, error) {
	switch {
	case t.steps != nil:
		doc, err := parseJSON(in.Output)
		if err != nil {
			return "", &TransformMismatch{fmt.Sprintf("%s: output is not JSON (%v); %s", t.desc, err, found(in.Output))}
		}
		got, ok := evalPath(doc, t.steps)
		if !ok {
			return "", &TransformMismatch{notFound(t.desc, doc)}
		}
		if s, isText := got.(string); isText {
			return s, nil
		}
		b, err := json.Marshal(got)
		if err != nil {
			return "", fmt.Errorf("transform %s: encode the value found: %w", t.desc, err)
		}
		return string(b), nil
	case t.re != nil:
		m := t.re.FindStringSubmatchIndex(in.Output)
		if m == nil || m[2*t.group] < 0 {
			return "", &TransformMismatch{fmt.Sprintf("%s: no match in the output; %s", t.desc, found(in.Output))}
		}
		return in.Output[m[2*t.group]:m[2*t.group+1]], nil
	}
	code, stdout, stderr, err := t.exec.run(ctx, in)
	if err != nil {
		return "", fmt.Errorf("transform: %w", err)
	}
	if code != 0 {
		line := firstLine(strings.TrimSpace(stderr))
		if line == "" {
			line = firstLine(strings.TrimSpace(stdout))
		}
		if line == "" {
			line = "no output"
		}
		return "", fmt.Errorf("transform command %s exited %d: %s", t.exec.name, code, line)
	}
	if len(stdout) >= maxCapture {
		return "", fmt.Errorf("transform command %s printed more than %d bytes", t.exec.name, maxCapture)
	}
	// As the shell's $(...) does: print() and echo end with a newline that
	// is not part of the value.
	return strings.TrimRight(stdout, "\r\n"), nil
}

// WithTransform makes a scores the output as t transforms it (an
// assertion's own `transform:`). A mismatch fails the assertion (whatever
// its not-, which applies to the check, not to the transform); a
// transform that cannot run is an error. The result's Transformed holds
// what was scored.
func WithTransform(a Assertion, t *Transform) Assertion {
	if t == nil {
		return a
	}
	if c, ok := a.(Comparer); ok {
		return transformedSet{transformed{a, t}, c}
	}
	return transformed{a, t}
}

type transformed struct {
	inner Assertion
	t     *Transform
}

func (x transformed) Check(ctx context.Context, in *Input) (Result, error) {
	cp, r, err := x.apply(ctx, in)
	if cp == nil {
		return r, err
	}
	r, err = x.inner.Check(ctx, cp)
	r.Transformed = &cp.Output
	return r, err
}

// apply returns the transformed input, or (nil, the verdict or error).
func (x transformed) apply(ctx context.Context, in *Input) (*Input, Result, error) {
	out, err := x.t.Apply(ctx, in)
	var mm *TransformMismatch
	if errors.As(err, &mm) {
		return nil, Result{Pass: false, Score: 0, Reason: "transform " + mm.Reason}, nil
	}
	if err != nil {
		return nil, Result{}, err
	}
	cp := *in
	cp.Output = out
	return &cp, Result{}, nil
}

type transformedSet struct {
	transformed
	set Comparer
}

func (x transformedSet) CheckAll(ctx context.Context, ins []*Input) ([]Result, error) {
	cps := make([]*Input, len(ins))
	done := make([]bool, len(ins))
	for i, in := range ins {
		cp, _, err := x.apply(ctx, in)
		if err != nil {
			return nil, err
		}
		// An output without what the transform extracts is compared as it
		// is rather than dropped from the choice.
		cps[i], done[i] = in, cp != nil
		if cp != nil {
			cps[i] = cp
		}
	}
	rs, err := x.set.CheckAll(ctx, cps)
	for i := range rs {
		if i < len(cps) && done[i] {
			o := cps[i].Output
			rs[i].Transformed = &o
		}
	}
	return rs, err
}
