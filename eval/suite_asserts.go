package eval

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/assertions"
)

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
