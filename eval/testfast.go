package eval

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// testFast reads a test mapping of the usual shape straight from its
// nodes, as test does: a string name and prompt, params of plain values
// and an assert list built before (the rowAsserts of an earlier row). It
// answers only where test would give the same rawTest without a problem;
// otherwise ok is false and the caller asks test. FuzzYAMLTestFast holds
// it to test.
func (l *loader) testFast(d *yaml.Node) (*rawTest, bool) {
	if d.Kind != yaml.MappingNode || l.file == l.suitePath {
		return nil, false
	}
	t := &rawTest{file: l.file, line: d.Line, suiteLine: d.Line}
	var seen [4]bool
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := d.Content[i], d.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			return nil, false
		}
		f := slices.Index(fastKeys, k.Value)
		if f < 0 || seen[f] {
			return nil, false
		}
		seen[f] = true
		switch f {
		case 0, 1:
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
				return nil, false
			}
			if f == 0 {
				if strings.TrimSpace(v.Value) == "" {
					return nil, false
				}
				t.name, t.hasName, t.nameLine = v.Value, true, v.Line
			} else {
				t.prompt, t.promptLine = v.Value, v.Line
			}
		case 2:
			if v.Kind != yaml.MappingNode {
				return nil, false
			}
			t.params = make(map[string]any, len(v.Content)/2)
			for j := 0; j+1 < len(v.Content); j += 2 {
				pk, pv := v.Content[j], v.Content[j+1]
				if pk.Kind != yaml.ScalarNode || pk.Tag != "!!str" || pv.Kind != yaml.ScalarNode {
					return nil, false
				}
				if _, dup := t.params[pk.Value]; dup {
					return nil, false
				}
				x, ok := plainValue(pv)
				if !ok {
					return nil, false
				}
				t.params[pk.Value] = x
			}
			t.paramsLine = v.Line
		case 3:
			if v.Kind != yaml.SequenceNode {
				return nil, false
			}
			var ok bool
			if l.keyBuf, ok = appendNodeKey(append(l.keyBuf[:0], l.file...), v); !ok {
				return nil, false
			}
			as, hit := l.rowAsserts[string(l.keyBuf)]
			if !hit {
				return nil, false
			}
			t.asserts = as
		}
	}
	return t, t.hasName
}

var fastKeys = []string{"name", "prompt", "params", "assert"}

// plainValue is value's result for a scalar of the tags yamlFast makes.
func plainValue(n *yaml.Node) (any, bool) {
	switch n.Tag {
	case "!!str":
		return n.Value, true
	case "!!null":
		return nil, true
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return int(i), true
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
	}
	return nil, false
}
