package reporters

import (
	"bytes"
	"encoding/json"

	"github.com/aieval/aieval/internal/jsonw"
)

// appendJSON appends d as json.Marshal writes it (HTML escaped, for the
// page's script element), by hand: encoding/json's reflection was half of
// a 100k-test HTML report's CPU. A detail the hand-written walk cannot
// take (a baseline side, a parameter of another type, a NaN) goes to
// json.Marshal, so the bytes, or the error, are always json.Marshal's.
func (d *Detail) appendJSON(b []byte) ([]byte, error) {
	start := len(b)
	if out, ok := d.appendPlain(b); ok {
		// <, > and & only occur inside strings: escaping them afterwards
		// gives json.Marshal's bytes.
		if bytes.ContainsAny(out[start:], "<>&") {
			var esc bytes.Buffer
			json.HTMLEscape(&esc, out[start:])
			out = append(out[:start], esc.Bytes()...)
		}
		return out, nil
	}
	m, err := json.Marshal(d)
	if err != nil {
		return b[:start], err
	}
	return append(b[:start], m...), nil
}

// appendPlain writes d with HTML escaping off, Detail's fields in order.
func (d *Detail) appendPlain(b []byte) ([]byte, bool) {
	if d.Base != nil {
		return b, false
	}
	var ok bool
	str := func(key, v string) {
		if v != "" {
			b = append(b, key...)
			b = jsonw.String(b, v)
		}
	}
	b = append(b, `{"output":`...)
	b = jsonw.String(b, d.Output)
	str(`,"input":`, d.Input)
	str(`,"transform":`, d.Transform)
	if d.Transformed != nil {
		b = append(b, `,"transformed":`...)
		b = jsonw.String(b, *d.Transformed)
	}
	if len(d.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, ok = jsonw.Map(b, d.Params); !ok {
			return b, false
		}
	}
	str(`,"model":`, d.Model)
	if d.Cached {
		b = append(b, `,"cached":true`...)
	}
	str(`,"reason":`, d.Reason)
	str(`,"pass_rate":`, d.PassRate)
	b = append(b, `,"assertions":`...)
	if d.Assertions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Assertions {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = d.Assertions[i].AppendJSON(b); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if d.Request != nil {
		b = append(b, `,"request":`...)
		if b, ok = d.Request.AppendJSON(b); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}
