package results

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aieval/aieval/internal/jsonw"
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
	b = jsonw.String(b, t.Suite)
	b = append(b, `,"name":`...)
	b = jsonw.String(b, t.Name)
	if t.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(t.Line), 10)
	}
	b = append(b, `,"config":`...)
	b = jsonw.String(b, t.Config)
	b = append(b, `,"config_name":`...)
	b = jsonw.String(b, t.ConfigName)
	b = append(b, `,"prompt":`...)
	b = jsonw.String(b, t.Prompt)
	if len(t.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, ok = jsonw.Map(b, t.Params); !ok {
			return b, false
		}
	}
	if t.Input != "" {
		b = append(b, `,"input":`...)
		b = jsonw.String(b, t.Input)
	}
	b = append(b, `,"output":`...)
	b = jsonw.String(b, t.Output)
	if t.Transform != "" {
		b = append(b, `,"transform":`...)
		b = jsonw.String(b, t.Transform)
	}
	if t.Transformed != nil {
		b = append(b, `,"transformed":`...)
		b = jsonw.String(b, *t.Transformed)
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
		b = jsonw.String(b, t.FinishReason)
	}
	if t.Model != "" {
		b = append(b, `,"model":`...)
		b = jsonw.String(b, t.Model)
	}
	if t.Provider != "" {
		b = append(b, `,"provider":`...)
		b = jsonw.String(b, t.Provider)
	}
	b = append(b, `,"latency_ms":`...)
	if b, ok = jsonw.Float(b, t.LatencyMS); !ok {
		return b, false
	}
	b = append(b, `,"tokens":{"prompt":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Prompt), 10)
	b = append(b, `,"completion":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Completion), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(t.Tokens.Total), 10)
	b = append(b, `},"cost":`...)
	if b, ok = jsonw.Float(b, t.Cost); !ok {
		return b, false
	}
	b = append(b, `,"cached":`...)
	b = strconv.AppendBool(b, t.Cached)
	b = append(b, `,"status":`...)
	b = jsonw.String(b, string(t.Status))
	b = append(b, `,"score":`...)
	if b, ok = jsonw.Float(b, t.Score); !ok {
		return b, false
	}
	if t.Threshold != nil {
		b = append(b, `,"threshold":`...)
		if b, ok = jsonw.Float(b, *t.Threshold); !ok {
			return b, false
		}
	}
	if t.Reason != "" {
		b = append(b, `,"reason":`...)
		b = jsonw.String(b, t.Reason)
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
		b = jsonw.String(b, t.Shard)
	}
	if t.Matrix != "" {
		b = append(b, `,"matrix":`...)
		b = jsonw.String(b, t.Matrix)
	}
	if len(t.MetricScores) > 0 {
		b = append(b, `,"metric_scores":{`...)
		var small [8]string
		for i, k := range jsonw.SortedKeys(t.MetricScores, small[:]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, k)
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
				if b, ok = jsonw.Float(b, f); !ok {
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
		b = jsonw.String(b, t.File)
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
	b = jsonw.String(b, a.Type)
	b = append(b, `,"pass":`...)
	b = strconv.AppendBool(b, a.Pass)
	b = append(b, `,"score":`...)
	if b, ok = jsonw.Float(b, a.Score); !ok {
		return b, false
	}
	b = append(b, `,"reason":`...)
	b = jsonw.String(b, a.Reason)
	if a.Weight != 0 {
		b = append(b, `,"weight":`...)
		if b, ok = jsonw.Float(b, a.Weight); !ok {
			return b, false
		}
	}
	if a.Metric != "" {
		b = append(b, `,"metric":`...)
		b = jsonw.String(b, a.Metric)
	}
	if a.Diff != "" {
		b = append(b, `,"diff":`...)
		b = jsonw.String(b, a.Diff)
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
		b = jsonw.String(b, *a.Transformed)
	}
	return append(b, '}'), true
}

func appendPassRate(b []byte, p *PassRate) ([]byte, bool) {
	ok := true
	float := func(key string, f float64) {
		if ok {
			b = append(b, key...)
			b, ok = jsonw.Float(b, f)
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
			b = jsonw.String(b, m.Role)
			b = append(b, `,"content":`...)
			b = jsonw.String(b, m.Content)
			if m.Name != "" {
				b = append(b, `,"name":`...)
				b = jsonw.String(b, m.Name)
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
		if b, ok = jsonw.Map(b, r.Settings); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// AppendJSON appends a's JSON as encoding/json writes it with HTML
// escaping off; false when a holds what JSON cannot (a NaN score), for
// the caller to hand to encoding/json.
func (a *AssertionResult) AppendJSON(b []byte) ([]byte, bool) { return appendAssertion(b, a) }

// AppendJSON appends r's JSON as encoding/json writes it with HTML
// escaping off; false when a setting is of a type it does not know or
// holds what JSON cannot, for the caller to hand to encoding/json.
func (r *Request) AppendJSON(b []byte) ([]byte, bool) { return appendRequest(b, r) }
