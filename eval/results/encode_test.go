package results

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fullResult sets every field of the run record (TestEveryFieldSet holds
// it to that), with strings that need escaping.
func fullResult() TestResult {
	th, tf, atf := 0.7, "transformed <&>", "a\u2028b"
	return TestResult{Suite: "s.eval.yaml", Name: "n <&> \"q\" \\ é 日本 \x01\x7f", Line: 3, Config: "c", ConfigName: "cn", Prompt: "p",
		Params: map[string]any{"q": "x", "n": 1.5, "i": 7, "i64": int64(-9), "b": true, "z": nil, "l": []any{"a", 2.0, map[string]any{}, []any{}},
			"o": map[string]any{"k": "v", "e": 1e-7}},
		Input: "in\n\ttab\b\f", Output: "out\r\n\"quoted\" / slash \xff\xfe \u2029", Transform: "$.a", Transformed: &tf, Refusal: true,
		ToolCalls:    json.RawMessage(`[ {"id":"c1", "type":"function","function":{"name":"f","arguments":"{\"a\": \"<b>\"}"}} ]`),
		FinishReason: "stop", Model: "m", Provider: "openai", LatencyMS: 8.046, Tokens: Tokens{7, 8, 15}, Cost: 0.00000525, Cached: true,
		Status: StatusFail, Score: 0.25, Threshold: &th, Reason: "r",
		Assertions: []AssertionResult{{Type: "contains", Pass: true, Score: 1, Reason: "ok", Weight: 2, Metric: "m", Diff: "-a\n+b", Error: true, Line: 4, Transformed: &atf}, {}},
		PassRate:   &PassRate{Runs: 3, Passed: 2, Errors: 1, Rate: 0.66, Low: 0.2, High: 0.9, Required: 0.5, K: 2, PassAtK: 0.9, PassHatK: 0.3},
		Shard:      "1/2", Matrix: "gpt-4o", MetricScores: map[string][]float64{"m": {0.5, 1}, "a": nil, "b": {}},
		Request: &Request{Messages: []Message{{Role: "system", Content: "be brief", Name: "s"}, {Role: "user", Content: "hi", Name: "x"}},
			Settings: map[string]any{"temperature": 0.0, "max_tokens": 50, "stop": []any{"\n"}}},
		File: "cases.jsonl", FileLine: 9,
	}
}

// stdSpooled is the spool line encoding/json writes.
func stdSpooled(t *TestResult) ([]byte, error) {
	var buf bytes.Buffer
	err := NewSpoolEncoder(&buf).Encode(t)
	return buf.Bytes(), err
}

// checkSame fails when appendSpooled's bytes or error differ from
// encoding/json's.
func checkSame(t *testing.T, tr *TestResult) {
	t.Helper()
	want, werr := stdSpooled(tr)
	got, gerr := appendSpooled([]byte("prefix"), tr)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("err %v, encoding/json's %v", gerr, werr)
	}
	if werr != nil {
		if string(got) != "prefix" {
			t.Fatalf("failed encode left %q", got)
		}
		return
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("encoded\n got %s\nwant %s", got[len("prefix"):], want)
	}
}

func TestAppendSpooledMatchesEncoder(t *testing.T) {
	full := fullResult()
	nan := fullResult()
	nan.Params = map[string]any{"x": math.NaN()}
	inf := fullResult()
	inf.Assertions[1].Score = math.Inf(1)
	badTools := fullResult()
	badTools.ToolCalls = json.RawMessage(`[1,`)
	float32s := fullResult()
	float32s.Request.Settings = map[string]any{"top_p": float32(0.1)}
	odd := fullResult()
	odd.Params = map[string]any{"n": json.Number("12"), "s": []string{"a"}, "m": map[string]string{"a": "<"}, "p": &th0}
	for name, tr := range map[string]TestResult{
		"full": full, "zero": {}, "nan": nan, "inf": inf, "bad tool calls": badTools, "float32": float32s, "other types": odd,
		"empty lists": {Name: "e", Assertions: []AssertionResult{}, Params: map[string]any{}, Request: &Request{Messages: []Message{}, Settings: map[string]any{}}, MetricScores: map[string][]float64{}},
		"nil values":  {Params: map[string]any{"m": map[string]any(nil), "l": []any(nil)}, Request: &Request{}},
		"numbers": {LatencyMS: math.SmallestNonzeroFloat64, Cost: 1e300, Score: math.Copysign(0, -1), Line: -5, Tokens: Tokens{-1, math.MaxInt, math.MinInt},
			Params: map[string]any{"a": 1e21, "b": 1e20, "c": 1e-6, "d": 9.99e-7, "e": -1e-9, "f": 123456789.125}},
	} {
		t.Run(name, func(t *testing.T) { checkSame(t, &tr) })
	}
}

var th0 = 0.5

// What the spool writes reads back as it was, through both decoders.
func TestAppendSpooledRoundTrip(t *testing.T) {
	full := fullResult()
	// What JSON cannot keep as it was: ints read back as float64, invalid
	// UTF-8 as U+FFFD, raw JSON compacted.
	full.Params["i"], full.Params["i64"] = 7.0, -9.0
	full.Request.Settings["max_tokens"] = 50.0
	full.Output = strings.ReplaceAll(full.Output, "\xff\xfe", "\ufffd\ufffd")
	var compact bytes.Buffer
	if err := json.Compact(&compact, full.ToolCalls); err != nil {
		t.Fatal(err)
	}
	full.ToolCalls = compact.Bytes()
	line, err := appendSpooled(nil, &full)
	if err != nil {
		t.Fatal(err)
	}
	var fast, std TestResult
	if err := decodeSpooled(bytes.TrimSpace(line), &fast); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(line, &std); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, full) {
		t.Errorf("fast decoder:\n got %+v\nwant %+v", fast, full)
	}
	if !reflect.DeepEqual(std, full) {
		t.Errorf("json.Unmarshal:\n got %+v\nwant %+v", std, full)
	}
}

// The fixture the tests above encode has every field set, so a field
// added to the record is tested once it is added there.
func TestEveryFieldSet(t *testing.T) {
	full := fullResult()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				t.Errorf("%s is nil in fullResult", path)
				return
			}
			walk(path, v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("%s is empty in fullResult", path)
			} else if v.Type().Elem().Kind() == reflect.Struct {
				walk(path+"[0]", v.Index(0))
			}
		default:
			if v.IsZero() {
				t.Errorf("%s is zero in fullResult", path)
			}
		}
	}
	walk("TestResult", reflect.ValueOf(full))
}

// The encoder writes every field the run record has: a field added to
// TestResult without its line in encode.go would be left out of the
// spool (TestAppendSpooledMatchesEncoder then fails too).
func TestEncoderKnowsEveryField(t *testing.T) {
	src, err := os.ReadFile("encode.go")
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
			if !bytes.Contains(src, []byte(`"`+name+`":`)) {
				t.Errorf("%s.%s (%q) is not written in encode.go", rt.Name(), rt.Field(i).Name, name)
			}
		}
	}
}

// Random records, strings and parameter trees: the bytes are always
// encoding/json's.
func TestAppendSpooledRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "é", "日本", "<", ">", "&", "\"", "\\", "/", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\xff", "\xe2\x80", "\u2028", "\u2029", "\U0001F600", " "}
	str := func() string {
		var sb strings.Builder
		for range rng.IntN(8) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	float := func() float64 {
		switch rng.IntN(6) {
		case 0:
			return 0
		case 1:
			return float64(rng.IntN(1000))
		case 2:
			return rng.Float64() * math.Pow(10, float64(rng.IntN(60)-30))
		case 3:
			return -rng.NormFloat64()
		case 4:
			return math.Float64frombits(rng.Uint64()) // now and then NaN or Inf
		}
		return rng.Float64()
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch rng.IntN(9) {
		case 0:
			return str()
		case 1:
			return float()
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return nil
		case 4:
			return rng.IntN(100) - 50
		case 5:
			if depth < 3 {
				m := map[string]any{}
				for range rng.IntN(4) {
					m[str()] = value(depth + 1)
				}
				return m
			}
		case 6:
			if depth < 3 {
				l := []any{}
				for range rng.IntN(4) {
					l = append(l, value(depth+1))
				}
				return l
			}
		case 7:
			return float32(rng.Float32()) // encoding/json's
		}
		return int64(rng.Int64())
	}
	opt := func(s string) *string {
		if rng.IntN(2) == 0 {
			return nil
		}
		return &s
	}
	byHand := 0
	for i := range 3000 {
		tr := TestResult{Suite: str(), Name: str(), Line: rng.IntN(3), Config: str(), ConfigName: str(), Prompt: str(),
			Input: str(), Output: str(), Transform: str(), Transformed: opt(str()), Refusal: rng.IntN(2) == 0,
			FinishReason: str(), Model: str(), Provider: str(), LatencyMS: float(), Cost: float(), Cached: rng.IntN(2) == 0,
			Status: Status(str()), Score: float(), Reason: str(), Shard: str(), Matrix: str(), File: str(), FileLine: rng.IntN(3),
			Tokens: Tokens{rng.IntN(100), rng.IntN(100), rng.IntN(200)}}
		if rng.IntN(2) == 0 {
			tr.Params, _ = value(0).(map[string]any)
		}
		if rng.IntN(3) == 0 {
			f := float()
			tr.Threshold = &f
		}
		for range rng.IntN(3) {
			tr.Assertions = append(tr.Assertions, AssertionResult{Type: str(), Pass: rng.IntN(2) == 0, Score: float(), Reason: str(),
				Weight: float(), Metric: str(), Diff: str(), Error: rng.IntN(2) == 0, Line: rng.IntN(3), Transformed: opt(str())})
		}
		if rng.IntN(3) == 0 {
			tr.PassRate = &PassRate{Runs: rng.IntN(5), Passed: rng.IntN(5), Errors: rng.IntN(2), Rate: float(), Low: float(), High: float(),
				Required: float(), K: rng.IntN(3), PassAtK: float(), PassHatK: float()}
		}
		if rng.IntN(3) == 0 {
			tr.MetricScores = map[string][]float64{str(): {float()}, str(): nil}
		}
		if rng.IntN(3) == 0 {
			tr.Request = &Request{Messages: []Message{{Role: str(), Content: str(), Name: str()}}}
			tr.Request.Settings, _ = value(1).(map[string]any)
		}
		if rng.IntN(4) == 0 {
			tr.ToolCalls = json.RawMessage(`[{"a": ` + string(mustJSON(value(1))) + `}]`)
		}
		t.Run("", func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("case %d", i)
				}
			}()
			checkSame(t, &tr)
		})
		if _, ok := appendTestResult(nil, &tr); ok {
			byHand++
		}
	}
	t.Logf("%d of 3000 by hand", byHand)
	if byHand < 1000 {
		t.Errorf("only %d of 3000 records took the hand-written path", byHand)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

func FuzzAppendSpooled(f *testing.F) {
	f.Add("name", "output <&>\n", "k", "v", 0.5, int64(3))
	f.Add("\xff\u2028", "\x00", "\"", "\\", 1e-9, int64(-1))
	f.Fuzz(func(t *testing.T, name, output, key, val string, score float64, n int64) {
		tr := TestResult{Name: name, Output: output, Score: score, Line: int(n), Reason: val,
			Params:     map[string]any{key: val, key + "n": score, key + "i": n, key + "l": []any{val, score}},
			Assertions: []AssertionResult{{Type: key, Reason: output, Score: score}}}
		checkSame(t, &tr)
	})
}
