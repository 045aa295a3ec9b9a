package results

import (
	"encoding/json"
	"testing"
)

// A spooled test of the bench's shape (~1 KB).
var benchLine = []byte(`{"suite":"bench.eval.yaml","name":"case-000000","line":3,"config":"/tmp/aieval-bench/n1000/bench.aiconfig.json","config_name":"bench","prompt":"ask","params":{"q":"case-000000"},"input":"Question case-000000: reply with the answer 42.","output":"Question case-000000: reply with the answer 42.","finish_reason":"stop","model":"gpt-4o-mini","provider":"openai","latency_ms":8.046,"tokens":{"prompt":7,"completion":7,"total":14},"cost":0.00000525,"cached":false,"status":"pass","score":1,"assertions":[{"type":"contains","pass":true,"score":1,"reason":"output contains \"42\"","weight":1},{"type":"not-contains","pass":true,"score":1,"reason":"output does not contain \"As an AI\"; found \"Question case-000000: reply with the answer 42.\"","weight":1},{"type":"length","pass":true,"score":1,"reason":"output has 47 characters, within 10..500","weight":1}],"request":{"messages":[{"role":"user","content":"Question case-000000: reply with the answer 42."}],"settings":{"temperature":0}},"file":"/tmp/aieval-bench/n1000/cases.jsonl","file_line":1}`)

func BenchmarkDecodeSpoolLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		fn   func([]byte, *TestResult) error
	}{{"json.Unmarshal", func(l []byte, t *TestResult) error { return json.Unmarshal(l, t) }}, {"decodeSpooled", decodeSpooled}, {"decodeSpooledIn", func() func([]byte, *TestResult) error {
		common := map[string]string{}
		return func(l []byte, t *TestResult) error { return decodeSpooledIn(l, t, common) }
	}()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(benchLine)))
			b.ReportAllocs()
			for b.Loop() {
				var t TestResult
				if err := bc.fn(benchLine, &t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeSpoolLine(b *testing.B) {
	var t TestResult
	if err := json.Unmarshal(benchLine, &t); err != nil {
		b.Fatal(err)
	}
	s, err := NewSpool(b.TempDir()+"/spool", b.N)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Discard()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Add(i, &t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSpooled compares the hand-written spool encoder with
// encoding/json's on the bench's line.
//
//	go test -run '^$' -bench AppendSpooled -benchmem ./eval/results
func BenchmarkAppendSpooled(b *testing.B) {
	var t TestResult
	if err := json.Unmarshal(benchLine, &t); err != nil {
		b.Fatal(err)
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdSpooled(&t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendSpooled", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendSpooled(buf[:0], &t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
