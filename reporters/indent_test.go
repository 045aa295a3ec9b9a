package reporters

import (
	"bytes"
	"encoding/json"
	"testing"
)

// indentCompact gives json.Indent's bytes for every compact input, and
// hands anything else to json.Indent (same output, same error).
func TestIndentCompactMatchesJSONIndent(t *testing.T) {
	for _, src := range []string{
		`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[{}]}`, `"x"`, `1`, `null`,
		`{"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null,"g":true}}`,
		`{"s":"quote \" colon: comma, brace { bracket [ ] }","t":"\\","u":"\\\"","v":"\u00e9<>&"}`,
		`{"nested":[[[]],[[1]]],"k":"v"}`,
		// not compact or not valid: json.Indent decides
		`{"a": 1}`, "{\n\"a\":1}", `{"a":1`, `{"a":"unterminated`, `{"a":1}}`, `]`, `{"a":"\`,
	} {
		var want, got bytes.Buffer
		werr := json.Indent(&want, []byte(src), "    ", "  ")
		gerr := indentCompact(&got, []byte(src), "    ", "  ")
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: err %v, json.Indent's %v", src, gerr, werr)
			continue
		}
		if werr == nil && got.String() != want.String() {
			t.Errorf("%s:\n got %q\nwant %q", src, got.String(), want.String())
		}
	}
}

func FuzzIndentCompact(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c\"d"}],"e":{}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var want, got bytes.Buffer
		werr := json.Indent(&want, []byte(s), "    ", "  ")
		gerr := indentCompact(&got, []byte(s), "    ", "  ")
		if (werr == nil) != (gerr == nil) {
			// json.Indent validates; the fast path only checks structure,
			// so it may accept what json.Indent refuses, never the reverse.
			if werr == nil {
				t.Fatalf("%q: refused valid JSON: %v", s, gerr)
			}
			return
		}
		if werr == nil && got.String() != want.String() {
			t.Fatalf("%q:\n got %q\nwant %q", s, got.String(), want.String())
		}
	})
}

// A spooled test of the bench's shape (~1 KB).
var benchLine = []byte(`{"suite":"bench.eval.yaml","name":"case-000000","line":3,"config":"/tmp/aieval-bench/n1000/bench.aiconfig.json","config_name":"bench","prompt":"ask","params":{"q":"case-000000"},"input":"Question case-000000: reply with the answer 42.","output":"Question case-000000: reply with the answer 42.","finish_reason":"stop","model":"gpt-4o-mini","provider":"openai","latency_ms":8.046,"tokens":{"prompt":7,"completion":7,"total":14},"cost":0.00000525,"cached":false,"status":"pass","score":1,"assertions":[{"type":"contains","pass":true,"score":1,"reason":"output contains \"42\"","weight":1},{"type":"not-contains","pass":true,"score":1,"reason":"output does not contain \"As an AI\"; found \"Question case-000000: reply with the answer 42.\"","weight":1},{"type":"length","pass":true,"score":1,"reason":"output has 47 characters, within 10..500","weight":1}],"request":{"messages":[{"role":"user","content":"Question case-000000: reply with the answer 42."}],"settings":{"temperature":0}},"file":"/tmp/aieval-bench/n1000/cases.jsonl","file_line":1}`)

func BenchmarkIndentSpoolLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		fn   func(*bytes.Buffer, []byte, string, string) error
	}{{"json.Indent", json.Indent}, {"indentCompact", indentCompact}} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.SetBytes(int64(len(benchLine)))
			for b.Loop() {
				buf.Reset()
				if err := bc.fn(&buf, benchLine, "    ", "  "); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
