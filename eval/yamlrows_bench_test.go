package eval

import (
	"path/filepath"
	"testing"
)

// BenchmarkYAMLRow measures validating one item of a large YAML cases file
// (the bench's shape: a name, a parameter, 3 assertions).
//
//	go test -run '^$' -bench YAMLRow -benchmem ./eval
func BenchmarkYAMLRow(b *testing.B) {
	item := []byte("- name: case-000001\n  prompt: get_activities\n  params: {city: case-000001}\n  assert:\n    - type: contains\n      value: \"42\"\n    - type: not-contains\n      value: \"As an AI\"\n    - type: length\n      value: {\"max\": 500, \"min\": 10}\n")
	dir := writeFiles(b, map[string]string{"trip.aiconfig.json": tripConfig, "s.eval.yaml": "config: trip.aiconfig.json\nparams: {city: x}\ntests: [{name: x, prompt: get_activities}]\n"})
	s, err := LoadSuite(filepath.Join(dir, "s.eval.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	l := &loader{file: "cases.yaml", suitePath: s.Path}
	b.ReportAllocs()
	for b.Loop() {
		l.problems = l.problems[:0]
		if r := l.yamlRow(item, 7, s); r == nil || len(l.problems) > 0 {
			b.Fatalf("%v", l.problems)
		}
	}
}
