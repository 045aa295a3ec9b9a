package results

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// decodeSpooled gives what json.Unmarshal gives, for what the spool
// writes and for what it does not.
func TestDecodeSpooledMatchesUnmarshal(t *testing.T) {
	th, tf := 0.7, "transformed"
	full := TestResult{Suite: "s.eval.yaml", Name: "n <&> \"q\" \\ é 日本", Line: 3, Config: "c", ConfigName: "cn", Prompt: "p",
		Params: map[string]any{"q": "x", "n": 1.5, "b": true, "l": []any{"a", 2.0, map[string]any{}}, "o": map[string]any{"k": "v"}},
		Input:  "in\n\ttab", Output: "out\r\n\"quoted\" / slash", Refusal: true, ToolCalls: json.RawMessage(`[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]`),
		FinishReason: "stop", Model: "m", Provider: "openai", LatencyMS: 8.046, Tokens: Tokens{7, 8, 15}, Cost: 0.00000525, Cached: true,
		Status: StatusFail, Score: 0.25, Threshold: &th, Reason: "r", Shard: "1/2", File: "cases.jsonl", FileLine: 9,
		Matrix: "gpt-4o", Transform: "$.a", Transformed: &tf, MetricScores: map[string][]float64{"m": {0.5, 1}},
		Assertions: []AssertionResult{{Type: "contains", Pass: true, Score: 1, Reason: "ok", Weight: 2, Metric: "m", Diff: "-a\n+b", Error: true, Line: 4, Transformed: &tf}, {}},
		PassRate:   &PassRate{Runs: 3, Passed: 2, Errors: 1, Rate: 0.66, Low: 0.2, High: 0.9, Required: 0.5, K: 2, PassAtK: 0.9, PassHatK: 0.3},
		Request:    &Request{Messages: []Message{{Role: "user", Content: "hi", Name: "x"}}, Settings: map[string]any{"temperature": 0.0, "max_tokens": 50.0}},
	}
	var spooled [][]byte
	for _, tr := range []TestResult{full, {}, {Name: "empty lists", Assertions: []AssertionResult{}, Params: map[string]any{}, Request: &Request{}},
		{Name: "tiny", LatencyMS: math.SmallestNonzeroFloat64, Cost: 1e300, Line: -5}} {
		var buf bytes.Buffer
		if err := NewSpoolEncoder(&buf).Encode(&tr); err != nil {
			t.Fatal(err)
		}
		spooled = append(spooled, bytes.TrimSpace(buf.Bytes()))
	}
	cases := append(spooled,
		// not what the spool writes: json.Unmarshal's answer, whatever it is
		[]byte(`{"name":"a","Name":"b"}`), []byte(`{"name":"a","name":"b"}`), []byte(`{"params":{"a":1},"params":{"b":2}}`),
		[]byte(`{"name":null,"threshold":null,"assertions":[null]}`), []byte(`{"name":"\u00e9\ud83d\ude00\ud800"}`),
		[]byte(`{"line":1.5}`), []byte(`{"line":1e2}`), []byte(`{"score":01}`), []byte(`{"score":-}`), []byte(`{"score":1e999}`),
		[]byte(`{"name":"a"`), []byte(`{"name":"a"} x`), []byte("{\"name\":\"a\x01\"}"), []byte("{\"name\":\"\xff\"}"),
		[]byte(`{"unknown":{"x":[1,2,{"y":null}]},"name":"z"}`), []byte(`{"tool_calls":null}`), []byte(`{"tool_calls": [ 1 , 2 ] }`),
		[]byte(` { "name" : "spaced" , "tokens" : { "total" : 3 } } `), []byte(`{"params":[1]}`), []byte(`{"cached":tru}`), []byte(`[]`), []byte(``),
	)
	for _, line := range cases {
		var want, got TestResult
		werr := json.Unmarshal(line, &want)
		gerr := decodeSpooled(line, &got)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%s: err %v, json.Unmarshal's %v", line, gerr, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", line, got, want)
		}
	}
	// The spool's own lines take the fast path.
	for _, line := range spooled {
		d := decoder{b: line, common: map[string]string{}}
		var tr TestResult
		if !d.testResult(&tr) {
			t.Errorf("%s: left to json.Unmarshal", line)
		}
	}
}

func FuzzDecodeSpooled(f *testing.F) {
	f.Add(string(benchLine))
	f.Add(`{"params":{"a":[1,"b",{"c":true}]},"threshold":0.5,"pass_rate":{"runs":2}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var want, got TestResult
		werr := json.Unmarshal([]byte(s), &want)
		gerr := decodeSpooled([]byte(s), &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: err %v, json.Unmarshal's %v", s, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", s, got, want)
		}
	})
}

// The fast decoder knows every field the run record has: a field added to
// TestResult, AssertionResult or PassRate without a case in decode.go
// would send every spooled test down json.Unmarshal's slow path.
func TestDecoderKnowsEveryField(t *testing.T) {
	src, err := os.ReadFile("decode.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{TestResult{}, AssertionResult{}, PassRate{}, Tokens{}, Request{}, Message{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !bytes.Contains(src, []byte(`case "`+name+`":`)) {
				t.Errorf("%s.%s (%q) has no case in decode.go", rt.Name(), rt.Field(i).Name, name)
			}
		}
	}
}
