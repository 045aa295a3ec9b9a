package jsonnode

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

func dumpNode(n *yaml.Node) string {
	var b strings.Builder
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		fmt.Fprintf(&b, "(%d %s %q s%d l%d c%d", n.Kind, n.Tag, n.Value, n.Style, n.Line, n.Column)
		for _, c := range n.Content {
			walk(c)
		}
		b.WriteString(")")
	}
	walk(n)
	return b.String()
}

var jsonRowSeeds = []string{
	`{}`, `[]`, `{"a":1}`, `{"a": -0.5e+3, "b": [true, false, null], "c": {"d": "e"}}`,
	`{"s": "esc \" \\ \/ \b \f \n \r \t \u00e9 \u20ac"}`, `{"s": "\ud83d\ude00"}`, `{"s": "\ud83d"}`,
	`{"n": 01}`, `{"n": 1.}`, `{"n": .5}`, `{"n": -}`, `{"n": +1}`, `{"n": 1e}`, `{"n": 9223372036854775808}`,
	`{"a":1,}`, `{,}`, `[1,]`, `{"a" 1}`, `{a: 1}`, `{"a":1} x`, `{"a":1}{}`, `{"a": tru}`, `{"a": nulls}`,
	`{"s": "tab	in"}`, `{"s": "\x"}`, `{"s": "\u12"}`, `{"s": "\uZZZZ"}`, `{"a": [1, [2, [3]]], "b": {}}`,
	`{"name": "t1", "prompt": "p", "params": {"city": "x"}, "assert": [{"type": "contains", "value": "42"}]}`,
	`{"a":1`, `{"a":"`, `  {"a" : [ 1 , 2 ] }  `, `{"k":"v","k":"w"}`, `{"u": "\u0000"}`, `{"e": 1E5, "f": 0e0}`,
	strings.Repeat("[", 210) + strings.Repeat("]", 210), "{\"\":\n0}", "[1,\r\n2]",
}

// FuzzJSONRow checks the fast row parser against encoding/json: the same
// tree whenever it answers, and no answer where encoding/json fails.
func FuzzJSONRow(f *testing.F) {
	for _, s := range jsonRowSeeds {
		f.Add(s)
	}
	var p Row
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(strings.TrimSpace(s))
		if !utf8.Valid(b) {
			return // jsonlRow refuses such rows before parsing
		}
		fast, ok := p.Parse(b, 7)
		slow, err := Parse(b, 7, Limits{})
		switch {
		case !ok:
			return // Parse decides
		case err != nil:
			t.Fatalf("%q: fast parser accepted what encoding/json rejects: %v", s, err)
		}
		if g, w := dumpNode(fast), dumpNode(slow); g != w {
			t.Fatalf("%q:\nfast %s\nslow %s", s, g, w)
		}
	})
}

// The fast parser answers the usual rows itself (else it saves nothing).
func TestJSONRowAnswersPlainRows(t *testing.T) {
	var p Row
	for _, s := range jsonRowSeeds[:5] {
		if _, ok := p.Parse([]byte(s), 1); !ok {
			t.Errorf("%s: fast parser declined", s)
		}
	}
}
