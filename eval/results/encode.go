package results

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendSpooled appends t's spool line (with its newline) to b: the bytes
// NewSpoolEncoder writes, made by hand. encoding/json's reflection was a
// quarter of the runner's own CPU per test. A value the hand-written
// walk does not know (a parameter of a type other than JSON's own, a NaN)
// is left to encoding/json, so the line, or the error, is always exactly
// encoding/json's.
func appendSpooled(b []byte, t *TestResult) ([]byte, error) {
	start := len(b)
	if out, ok := appendTestResult(b, t); ok {
		return append(out, '\n'), nil
	}
	var buf bytes.Buffer
	if err := NewSpoolEncoder(&buf).Encode(t); err != nil {
		return b[:start], err
	}
	return append(b[:start], buf.Bytes()...), nil
}

func appendTestResult(b []byte, t *TestResult) ([]byte, bool) {
	var ok bool
	b = append(b, `{"suite":`...)
	b = appendStr(b, t.Suite)
	b = append(b, `,"name":`...)
	b = appendStr(b, t.Name)
	if t.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(t.Line), 10)
	}
	b = append(b, `,"config":`...)
	b = appendStr(b, t.Config)
	b = append(b, `,"config_name":`...)
	b = appendStr(b, t.ConfigName)
	b = append(b, `,"prompt":`...)
	b = appendStr(b, t.Prompt)
	if len(t.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, ok = appendMap(b, t.Params); !ok {
			return b, false
		}
	}
	if t.Input != "" {
		b = append(b, `,"input":`...)
		b = appendStr(b, t.Input)
	}
	b = append(b, `,"output":`...)
	b = appendStr(b, t.Output)
	if t.Transform != "" {
		b = append(b, `,"transform":`...)
		b = appendStr(b, t.Transform)
	}
	if t.Transformed != nil {
		b = append(b, `,"transformed":`...)
		b = appendStr(b, *t.Transformed)
	}
	if t.Refusal {
		b = append(b, `,"refusal":true`...)
	}
	if len(t.ToolCalls) > 0 {
		b = append(b, `,"tool_calls":`...)
		// What encoding/json does to a RawMessage (compact, HTML kept;
		// an invalid one is its error).
		var buf bytes.Buffer
		if json.Compact(&buf, t.ToolCalls) != nil {
			return b, false
		}
		b = append(b, buf.Bytes()...)
	}
	if t.FinishReason != "" {
		b = append(b, `,"finish_reason":`...)
		b = appendStr(b, t.FinishReason)
	}
	if t.Model != "" {
		b = append(b, `,"model":`...)
		b = appendStr(b, t.Model)
	}
	if t.Provider != "" {
		b = append(b, `,"provider":`...)
		b = appendStr(b, t.Provider)
	}
	b = append(b, `,"latency_ms":`...)
	if b, ok = appendFloat(b, t.LatencyMS); !ok {
		return b, false
	}
	b = append(b, `,"tokens":{"prompt":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Prompt), 10)
	b = append(b, `,"completion":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Completion), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Total), 10)
	b = append(b, `},"cost":`...)
	if b, ok = appendFloat(b, t.Cost); !ok {
		return b, false
	}
	b = append(b, `,"cached":`...)
	b = strconv.AppendBool(b, t.Cached)
	b = append(b, `,"status":`...)
	b = appendStr(b, string(t.Status))
	b = append(b, `,"score":`...)
	if b, ok = appendFloat(b, t.Score); !ok {
		return b, false
	}
	if t.Threshold != nil {
		b = append(b, `,"threshold":`...)
		if b, ok = appendFloat(b, *t.Threshold); !ok {
			return b, false
		}
	}
	if t.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendStr(b, t.Reason)
	}
	b = append(b, `,"assertions":`...)
	if t.Assertions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.Assertions {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendAssertion(b, &t.Assertions[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if p := t.PassRate; p != nil {
		b = append(b, `,"pass_rate":`...)
		if b, ok = appendPassRate(b, p); !ok {
			return b, false
		}
	}
	if t.Shard != "" {
		b = append(b, `,"shard":`...)
		b = appendStr(b, t.Shard)
	}
	if t.Matrix != "" {
		b = append(b, `,"matrix":`...)
		b = appendStr(b, t.Matrix)
	}
	if len(t.MetricScores) > 0 {
		b = append(b, `,"metric_scores":{`...)
		var small [8]string
		for i, k := range sortedKeys(t.MetricScores, small[:]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, k)
			b = append(b, ':')
			scores := t.MetricScores[k]
			if scores == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for j, f := range scores {
				if j > 0 {
					b = append(b, ',')
				}
				if b, ok = appendFloat(b, f); !ok {
					return b, false
				}
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if r := t.Request; r != nil {
		b = append(b, `,"request":`...)
		if b, ok = appendRequest(b, r); !ok {
			return b, false
		}
	}
	if t.File != "" {
		b = append(b, `,"file":`...)
		b = appendStr(b, t.File)
	}
	if t.FileLine != 0 {
		b = append(b, `,"file_line":`...)
		b = strconv.AppendInt(b, int64(t.FileLine), 10)
	}
	return append(b, '}'), true
}

func appendAssertion(b []byte, a *AssertionResult) ([]byte, bool) {
	var ok bool
	b = append(b, `{"type":`...)
	b = appendStr(b, a.Type)
	b = append(b, `,"pass":`...)
	b = strconv.AppendBool(b, a.Pass)
	b = append(b, `,"score":`...)
	if b, ok = appendFloat(b, a.Score); !ok {
		return b, false
	}
	b = append(b, `,"reason":`...)
	b = appendStr(b, a.Reason)
	if a.Weight != 0 {
		b = append(b, `,"weight":`...)
		if b, ok = appendFloat(b, a.Weight); !ok {
			return b, false
		}
	}
	if a.Metric != "" {
		b = append(b, `,"metric":`...)
		b = appendStr(b, a.Metric)
	}
	if a.Diff != "" {
		b = append(b, `,"diff":`...)
		b = appendStr(b, a.Diff)
	}
	if a.Error {
		b = append(b, `,"error":true`...)
	}
	if a.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(a.Line), 10)
	}
	if a.Transformed != nil {
		b = append(b, `,"transformed":`...)
		b = appendStr(b, *a.Transformed)
	}
	return append(b, '}'), true
}

func appendPassRate(b []byte, p *PassRate) ([]byte, bool) {
	ok := true
	float := func(key string, f float64) {
		if ok {
			b = append(b, key...)
			b, ok = appendFloat(b, f)
		}
	}
	b = append(b, `{"runs":`...)
	b = strconv.AppendInt(b, int64(p.Runs), 10)
	b = append(b, `,"passed":`...)
	b = strconv.AppendInt(b, int64(p.Passed), 10)
	if p.Errors != 0 {
		b = append(b, `,"errors":`...)
		b = strconv.AppendInt(b, int64(p.Errors), 10)
	}
	float(`,"rate":`, p.Rate)
	float(`,"low":`, p.Low)
	float(`,"high":`, p.High)
	float(`,"required":`, p.Required)
	if !ok {
		return b, false
	}
	if p.K != 0 {
		b = append(b, `,"k":`...)
		b = strconv.AppendInt(b, int64(p.K), 10)
	}
	float(`,"pass_at_k":`, p.PassAtK)
	float(`,"pass_hat_k":`, p.PassHatK)
	return append(b, '}'), ok
}

func appendRequest(b []byte, r *Request) ([]byte, bool) {
	b = append(b, '{')
	comma := false
	if len(r.Messages) > 0 {
		b = append(b, `"messages":[`...)
		for i := range r.Messages {
			m := &r.Messages[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"role":`...)
			b = appendStr(b, m.Role)
			b = append(b, `,"content":`...)
			b = appendStr(b, m.Content)
			if m.Name != "" {
				b = append(b, `,"name":`...)
				b = appendStr(b, m.Name)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
		comma = true
	}
	if len(r.Settings) > 0 {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"settings":`...)
		var ok bool
		if b, ok = appendMap(b, r.Settings); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendValue encodes the values JSON decoding and YAML loading make
// (string, float64, int, bool, nil, []any, map[string]any); any other type
// is encoding/json's to encode.
func appendValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendStr(b, x), true
	case float64:
		return appendFloat(b, x)
	case bool:
		return strconv.AppendBool(b, x), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		return appendMap(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendValue(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

// appendMap encodes a map with its keys sorted, as encoding/json does.
func appendMap(b []byte, m map[string]any) ([]byte, bool) {
	b = append(b, '{')
	var small [8]string
	for i, k := range sortedKeys(m, small[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendValue(b, m[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// sortedKeys returns m's keys sorted, in small (when they fit) to spare
// an allocation per map.
func sortedKeys[V any](m map[string]V, small []string) []string {
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// appendFloat formats f as encoding/json does (ES6 number to string); a
// NaN or infinity is not JSON.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 -> e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendStr quotes s as encoding/json does with HTML escaping off:
// control characters escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
