package results

import (
	"encoding/json"

	"strconv"
	"unicode/utf8"
)

// decodeSpooled decodes one spooled test. The spool is written by
// encoding/json with known field names, so a direct walk over the bytes
// decodes it several times faster than encoding/json's reflection, which
// was most of a large run's time after the last answer. Anything the walk
// does not expect (an unknown or repeated key, a null, a \u escape, a
// malformed token) is left to json.Unmarshal, so the result is always
// exactly what json.Unmarshal gives, errors included.
func decodeSpooled(line []byte, t *TestResult) error { return decodeSpooledIn(line, t, nil) }

// decodeSpooledIn is decodeSpooled with a table of the strings tests
// repeat (suite, config, model, status, assertion types...), shared by
// the lines a caller decodes one after another: each is allocated once,
// not once a test. (Not substrings of one copy of the line: a reader
// keeping a test's name would keep its whole line.) nil makes a table.
func decodeSpooledIn(line []byte, t *TestResult, common map[string]string) error {
	if common == nil {
		common = map[string]string{}
	}
	d := decoder{b: line, common: common}
	if d.testResult(t) {
		d.ws()
		if d.i == len(d.b) {
			return nil
		}
	}
	*t = TestResult{}
	return json.Unmarshal(line, t)
}

type decoder struct {
	b      []byte
	i      int
	common map[string]string // see decodeSpooledIn
}

// maxCommon bounds the table of repeated strings.
const maxCommon = 256

// shared reads a string that tests usually repeat.
func (d *decoder) shared() (string, bool) {
	save := d.i
	if d.lit('"') {
		if j := indexQuoteOrBackslash(d.b[d.i:]); j >= 0 && d.b[d.i+j] == '"' {
			raw := d.b[d.i : d.i+j]
			if v, ok := d.common[string(raw)]; ok { // no allocation for the lookup
				d.i += j + 1
				return v, true
			}
		}
	}
	d.i = save
	v, ok := d.str()
	if ok && len(d.common) < maxCommon && len(v) <= 128 {
		d.common[v] = v
	}
	return v, ok
}

// indexQuoteOrBackslash is the index of the first '"' or '\\' in b, or -1.
func indexQuoteOrBackslash(b []byte) int {
	for i, c := range b {
		if c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// lit consumes c after optional whitespace.
func (d *decoder) lit(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// str reads a string without \u escapes.
func (d *decoder) str() (string, bool) {
	if !d.lit('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for j := d.i; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.b[start:j]) {
				return "", false // encoding/json replaces invalid bytes
			}
			d.i = j + 1
			return string(d.b[start:j]), true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// escaped reads the rest of a string with backslash escapes from start.
func (d *decoder) escaped(start int) (string, bool) {
	out := make([]byte, 0, 64)
	j := start
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", false
			}
			d.i = j + 1
			return string(out), true
		case c == '\\':
			if j+1 >= len(d.b) {
				return "", false
			}
			switch e := d.b[j+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			default: // \u (surrogates, replacement) is json.Unmarshal's
				return "", false
			}
			j += 2
		case c < 0x20:
			return "", false
		default:
			out = append(out, c)
			j++
		}
	}
	return "", false
}

// number returns a JSON number's text, checked against the grammar.
func (d *decoder) number() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.i = i
	return b[start:i], true
}

func (d *decoder) float() (float64, bool) {
	tok, ok := d.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil
}

func (d *decoder) int() (int, bool) {
	tok, ok := d.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(tok), 10, 0)
	return int(n), err == nil
}

func (d *decoder) bool() (bool, bool) {
	d.ws()
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true, true
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		return false, true
	}
	return false, false
}

// object calls field for every key of an object; a repeated key fails
// (encoding/json merges maps and overwrites the rest: not worth copying).
func (d *decoder) object(field func(key string) bool) bool { return d.obj(false, field) }

// obj is object; keyNull passes a null to field (a map keeps the key).
func (d *decoder) obj(keyNull bool, field func(key string) bool) bool {
	if !d.lit('{') {
		return false
	}
	if d.lit('}') {
		return true
	}
	var seen [32]string
	n := 0
	for {
		k, ok := d.shared() // keys repeat in every test
		if !ok || !d.lit(':') {
			return false
		}
		for _, s := range seen[:n] {
			if s == k {
				return false
			}
		}
		if n < len(seen) {
			seen[n] = k
			n++
		} else {
			return false
		}
		if d.peek() == 'n' && !keyNull {
			// A struct field's null leaves its zero value, as in
			// encoding/json (the struct starts zeroed, repeats fail);
			// but a json.RawMessage keeps the null itself.
			if k == "tool_calls" || !d.null() {
				return false
			}
		} else if !field(k) {
			return false // not a field of the type, or a bad value
		}
		if d.lit('}') {
			return true
		}
		if !d.lit(',') {
			return false
		}
	}
}

// array calls elem for every element; a null element fails (typed
// arrays: json.Unmarshal's).
func (d *decoder) array(elem func() bool) bool { return d.arr(false, elem) }

func (d *decoder) arr(nulls bool, elem func() bool) bool {
	if !d.lit('[') {
		return false
	}
	if d.lit(']') {
		return true
	}
	for {
		if (d.peek() == 'n' && !nulls) || !elem() {
			return false
		}
		if d.lit(']') {
			return true
		}
		if !d.lit(',') {
			return false
		}
	}
}

// any decodes a value as encoding/json does into an interface.
func (d *decoder) any() (any, bool) {
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '{':
		m := map[string]any{}
		ok := d.obj(true, func(k string) bool {
			v, ok := d.any()
			m[k] = v
			return ok
		})
		return m, ok
	case c == '[':
		a := []any{}
		ok := d.arr(true, func() bool {
			v, ok := d.any()
			a = append(a, v)
			return ok
		})
		return a, ok
	case c == 't' || c == 'f':
		return d.bool()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.float()
	case c == 'n':
		return nil, d.null()
	}
	return nil, false
}

func (d *decoder) null() bool {
	d.ws()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// raw returns the bytes of one value (for json.RawMessage), copied.
func (d *decoder) raw() (json.RawMessage, bool) {
	d.ws()
	start := d.i
	if _, ok := d.any(); !ok {
		return nil, false
	}
	return append(json.RawMessage(nil), d.b[start:d.i]...), true
}

func (d *decoder) testResult(t *TestResult) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "suite":
			t.Suite, ok = d.shared()
		case "name":
			t.Name, ok = d.str()
		case "line":
			t.Line, ok = d.int()
		case "config":
			t.Config, ok = d.shared()
		case "config_name":
			t.ConfigName, ok = d.shared()
		case "prompt":
			t.Prompt, ok = d.shared()
		case "params":
			var v any
			v, ok = d.any()
			t.Params, _ = v.(map[string]any)
			ok = ok && t.Params != nil
		case "input":
			t.Input, ok = d.str()
		case "output":
			t.Output, ok = d.str()
		case "refusal":
			t.Refusal, ok = d.bool()
		case "tool_calls":
			t.ToolCalls, ok = d.raw()
		case "finish_reason":
			t.FinishReason, ok = d.shared()
		case "model":
			t.Model, ok = d.shared()
		case "provider":
			t.Provider, ok = d.shared()
		case "latency_ms":
			t.LatencyMS, ok = d.float()
		case "tokens":
			ok = d.tokens(&t.Tokens)
		case "cost":
			t.Cost, ok = d.float()
		case "cached":
			t.Cached, ok = d.bool()
		case "status":
			var s string
			s, ok = d.shared()
			t.Status = Status(s)
		case "score":
			t.Score, ok = d.float()
		case "threshold":
			var f float64
			f, ok = d.float()
			t.Threshold = &f
		case "reason":
			t.Reason, ok = d.str()
		case "assertions":
			t.Assertions = []AssertionResult{}
			ok = d.array(func() bool {
				t.Assertions = append(t.Assertions, AssertionResult{})
				return d.assertion(&t.Assertions[len(t.Assertions)-1])
			})
		case "pass_rate":
			t.PassRate = &PassRate{}
			ok = d.passRate(t.PassRate)
		case "shard":
			t.Shard, ok = d.shared()
		case "request":
			t.Request = &Request{}
			ok = d.request(t.Request)
		case "file":
			t.File, ok = d.shared()
		case "file_line":
			t.FileLine, ok = d.int()
		case "matrix":
			t.Matrix, ok = d.shared()
		case "transform":
			t.Transform, ok = d.shared()
		case "transformed":
			var s string
			s, ok = d.str()
			t.Transformed = &s
		case "metric_scores":
			t.MetricScores = map[string][]float64{}
			ok = d.object(func(name string) bool {
				scores := []float64{}
				ok := d.array(func() bool {
					f, ok := d.float()
					scores = append(scores, f)
					return ok
				})
				t.MetricScores[name] = scores
				return ok
			})
		}
		return ok
	})
}

func (d *decoder) tokens(t *Tokens) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "prompt":
			t.Prompt, ok = d.int()
		case "completion":
			t.Completion, ok = d.int()
		case "total":
			t.Total, ok = d.int()
		}
		return ok
	})
}

func (d *decoder) assertion(a *AssertionResult) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "type":
			a.Type, ok = d.shared()
		case "pass":
			a.Pass, ok = d.bool()
		case "score":
			a.Score, ok = d.float()
		case "reason":
			a.Reason, ok = d.str()
		case "weight":
			a.Weight, ok = d.float()
		case "metric":
			a.Metric, ok = d.shared()
		case "diff":
			a.Diff, ok = d.str()
		case "error":
			a.Error, ok = d.bool()
		case "line":
			a.Line, ok = d.int()
		case "transformed":
			var s string
			s, ok = d.str()
			a.Transformed = &s
		}
		return ok
	})
}

func (d *decoder) passRate(p *PassRate) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "runs":
			p.Runs, ok = d.int()
		case "passed":
			p.Passed, ok = d.int()
		case "errors":
			p.Errors, ok = d.int()
		case "rate":
			p.Rate, ok = d.float()
		case "low":
			p.Low, ok = d.float()
		case "high":
			p.High, ok = d.float()
		case "required":
			p.Required, ok = d.float()
		case "pass_at_k":
			p.PassAtK, ok = d.float()
		case "pass_hat_k":
			p.PassHatK, ok = d.float()
		case "k":
			p.K, ok = d.int()
		}
		return ok
	})
}

func (d *decoder) request(r *Request) bool {
	return d.object(func(k string) bool {
		switch k {
		case "messages":
			r.Messages = []Message{}
			return d.array(func() bool {
				r.Messages = append(r.Messages, Message{})
				m := &r.Messages[len(r.Messages)-1]
				return d.object(func(k string) bool {
					var ok bool
					switch k {
					case "role":
						m.Role, ok = d.shared()
					case "content":
						m.Content, ok = d.str()
					case "name":
						m.Name, ok = d.str()
					}
					return ok
				})
			})
		case "settings":
			v, ok := d.any()
			r.Settings, _ = v.(map[string]any)
			return ok && r.Settings != nil
		}
		return false
	})
}
