package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// std is encoding/json's bytes for v with HTML escaping off, as the
// spool and the HTML report's details write them.
func std(t *testing.T, v any) ([]byte, bool) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

func TestMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, "", "plain", "quote \" back \\ slash", "<b>&amp;</b>", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
		"\xff\xfe invalid", "é ünï 😀", "\u2028\u2029", 0.0, math.Copysign(0, -1), 1.0, -1.5, 1e-7, 1e-6, 1e20, 1e21,
		123456789.125, 5.25e-06, true, false, 7, int64(-9),
		[]any{1.0, "a", nil, []any{}}, map[string]any{"b": 1.0, "a": []any{"x"}, "": map[string]any{}},
		[]string{"<a>", "b&"}, []string(nil), map[string]any{"<k>": []string{"&"}},
	}
	for _, v := range values {
		want, _ := std(t, v)
		got, ok := Value(nil, v)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("Value(%#v) = %s, %v; want %s", v, got, ok, want)
		}
		want, _ = json.Marshal(v)
		if got, ok := ValueHTML(nil, v); !ok || !bytes.Equal(got, want) {
			t.Errorf("ValueHTML(%#v) = %s, %v; want %s", v, got, ok, want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), float32(1), map[string]any{"x": math.Inf(-1)}, struct{}{}} {
		if _, ok := Value(nil, v); ok {
			t.Errorf("Value(%#v) ok, want a fallback to encoding/json", v)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff", "\u2028", "😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := std(t, s)
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, x := range []float64{0, 1, -1e-7, 1e21, 123.456, 5e-324, math.MaxFloat64} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, wok := std(t, x)
		got, ok := Float(nil, x)
		if ok != wok || ok && !bytes.Equal(got, want) {
			t.Errorf("Float(%v) = %s, %v; want %s, %v", x, got, ok, want, wok)
		}
	})
}

func FuzzStringHTML(f *testing.F) {
	for _, s := range []string{"", "<a href=\"x\">&amp;</a>", "\x00\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := StringHTML(nil, s); !bytes.Equal(got, want) {
			t.Errorf("StringHTML(%q) = %s, want %s", s, got, want)
		}
	})
}

func FuzzFloat32(f *testing.F) {
	for _, x := range []float32{0, 1, -1e-7, 1e21, 0.1, 123.456, math.SmallestNonzeroFloat32, math.MaxFloat32} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float32) {
		want, werr := json.Marshal(x)
		got, ok := Float32(nil, x)
		if ok != (werr == nil) || ok && !bytes.Equal(got, want) {
			t.Errorf("Float32(%v) = %s, %v; want %s, %v", x, got, ok, want, werr)
		}
	})
}
