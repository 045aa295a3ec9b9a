package eval

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dumpYAML writes what the loader reads of a tree: kinds, tags, values,
// lines (not styles or columns).
func dumpYAML(n *yaml.Node) string {
	var b strings.Builder
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		fmt.Fprintf(&b, "(%d %s %q l%d", n.Kind, n.Tag, n.Value, n.Line)
		if n.Alias != nil {
			b.WriteString(" alias")
		}
		for _, c := range n.Content {
			walk(c)
		}
		b.WriteString(")")
	}
	walk(n)
	return b.String()
}

var yamlFastSeeds = []string{
	"- name: \"case-000001\"\n  prompt: \"ask\"\n  params:\n    \"q\": \"case-000001\"\n  assert:\n    - type: \"contains\"\n      value: \"42\"\n    - type: \"not-contains\"\n      value: \"As an AI\"\n    - type: \"length\"\n      value: {\"max\":500,\"min\":10}\n",
	"- name: t1\n  prompt: get_activities\n  params: {city: case 1}\n  assert:\n  - type: regex\n    value: 'city \\d+'\n  threshold: 0.5\n  repeat: 3\n",
	"- {name: a, prompt: p}\n", "- name: a\n\n  skip: true\n", "- name: a\n  skip:\n", "- name: a\n  x: -12\n  y: 012\n  z: 1.50\n  w: 1e5\n",
	"- name: a # c\n", "- name: a\n  # c\n  b: c\n", "- name: a\n   b: c\n", "- name: a\n b: c\n", "- name: a\n  params:\n    true: 1\n    null: 2\n    on: 3\n",
	"- name: 'it''s'\n", "- name: \"\\u00e9\\n\\t\\\"\"\n", "- name: \"\\ud83d\"\n", "- name: \"\\x41\"\n", "- name: \"a\n  b\"\n",
	"- name: a\n  v: [1, 2.5, x y, \"q\", 'r', {a: b}, [], {}]\n", "- name: a\n  v: {a: 1, b: [c, d], \"e\":f}\n", "- name: a\n  v: {a:1}\n", "- name: a\n  v: [a,]\n",
	"- name: a\n  v: {a: }\n", "- name: a\n  a: b\n  a: c\n", "- - a\n  - b\n", "- a\n", "- name: &x a\n  b: *x\n", "- name: !!str 1\n", "- name: |\n    x\n",
	"- name: café\n", "- name: a\u0085b\n", "- name: a\u2028b\n", "- name: a\ufeffb\n", "- name: ~\n", "- name: 00\n", "- name: -0\n", "- name: 1_000\n",
	"- name: a\n  v:\n    - x\n    -  y\n    - {a: 1}\n", "- name: a\n  v:\n    k:\n      - 1\n", "- name: a \n", "- name: a\n  v: \"x\" \n", "-  name: a\n   v: 1\n",
	"- name: a:b\n", "- name: a-b_c.d/e (f), g\n", "- name: x\n  v: [a: 1]\n", "- name: x\n  v: {? a: 1}\n", "- name: x\n  \"v\" : 1\n", "- name: x\n  v: 'a\n",
	"- name: Yes\n", "- name: .5\n", "- name: 5.\n", "- name: -.5\n", "- name: 2001-12-14\n", "- name: 0x1F\n", "- name: 1234567890123456\n", "- name: x\n  v: \"a\\/b\"\n",
	"- name: x\n  v: [ 1 , 2 ]\n", "- name: x\n  v: { a: 1 , b: 2 }\n", "- name: x\n  v: {\"a\" : 1}\n", "- name: x\n  v: [\"a\":1]\n",
}

// FuzzYAMLFast holds the fast item parser to yaml.v3: the same tree
// whenever it answers, and no answer where yaml.v3 fails.
func FuzzYAMLFast(f *testing.F) {
	for _, s := range yamlFastSeeds {
		f.Add(s)
	}
	var p yamlFast
	f.Fuzz(func(t *testing.T, s string) {
		const first = 5
		fast, ok := p.parse([]byte(s), first)
		if !ok {
			return // yaml.v3 decides
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatalf("%q: fast parser accepted what yaml.v3 rejects: %v", s, err)
		}
		if len(doc.Content) != 1 {
			t.Fatalf("%q: yaml.v3 read %d documents", s, len(doc.Content))
		}
		slow := doc.Content[0]
		shiftLines(slow, first-1)
		if g, w := dumpYAML(fast), dumpYAML(slow); g != w {
			t.Fatalf("%q:\nfast %s\nslow %s", s, g, w)
		}
	})
}

// The fast parser answers the common shapes itself (else it saves nothing).
func TestYAMLFastAnswersCommonItems(t *testing.T) {
	items := append([]string{yamlFastSeeds[0], yamlFastSeeds[1], yamlFastSeeds[2]}, strings.Split(yamlCases(10), "\n- ")[1:4]...)
	var p yamlFast
	for i, s := range items {
		if i >= 3 {
			s = "- " + s + "\n"
		}
		if _, ok := p.parse([]byte(s), 1); !ok {
			t.Errorf("%q: fast parser declined", s)
		}
	}
}

// FuzzYAMLTestFast holds testFast to test on the trees yamlFast gives:
// whenever it answers, test gives the same rawTest and no problem.
func FuzzYAMLTestFast(f *testing.F) {
	for _, s := range yamlFastSeeds {
		f.Add(s)
	}
	f.Add("- name: a\n  prompt: get_activities\n  params: {city: x, n: 1, f: 0.5, b: True, z: null}\n  assert:\n    - {type: contains, value: x}\n")
	f.Add("- name: a\n  prompt: get_activities\n  params:\n    city: 1\n    city: 2\n")
	f.Add("- name: a\n  prompt: get_activities\n  assert:\n    - {type: nope}\n")
	dir := writeFiles(f, map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: x}\ntests: [{name: x, prompt: get_activities}]\n"})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	var p yamlFast
	f.Fuzz(func(t *testing.T, item string) {
		root, ok := p.parse([]byte(item), 3)
		if !ok {
			return
		}
		l := &loader{file: filepath.Join(dir, "cases.yaml"), suitePath: s.Path}
		l.visits = aliasFactor*(countNodes(root)+1) + aliasSlack
		tree := l.test(root.Content[0], "test", testKeys, s)
		fast, ok := l.testFast(root.Content[0])
		if !ok {
			return
		}
		if tree == nil || len(l.problems) > 0 {
			t.Fatalf("%q: testFast answered where test has problems: %v", item, l.problems)
		}
		if !slices.Equal(fast.asserts, tree.asserts) {
			t.Fatalf("%q: assertions differ", item)
		}
		f, w := *fast, *tree
		f.asserts, w.asserts = nil, nil
		if !reflect.DeepEqual(f, w) {
			t.Fatalf("%q:\nfast %+v\ntree %+v", item, f, w)
		}
	})
}

// testFast answers the bench's items once their assert list is built.
func TestYAMLTestFastAnswersCommonItems(t *testing.T) {
	dir := writeFiles(t, map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: x}\ntests: [{name: x, prompt: get_activities}]\n"})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{file: filepath.Join(dir, "cases.yaml"), suitePath: s.Path}
	var p yamlFast
	for _, item := range []string{yamlFastSeeds[0], "- name: a\n  prompt: get_activities\n  params: {city: x}\n  assert:\n    - {type: contains, value: x}\n"} {
		if r := l.yamlRow([]byte(item), 1, s); r == nil || len(l.problems) > 0 {
			t.Fatalf("%q: %v", item, l.problems)
		}
		root, ok := p.parse([]byte(item), 1)
		if !ok {
			t.Fatalf("%q: yamlFast declined", item)
		}
		if _, ok := l.testFast(root.Content[0]); !ok {
			t.Errorf("%q: testFast declined", item)
		}
	}
}
