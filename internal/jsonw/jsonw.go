// Package jsonw appends JSON values by hand, byte for byte as
// encoding/json writes them with HTML escaping off, without its
// reflection: the run record's spool lines and the HTML report's test
// details are written per test, and reflection was most of their cost.
// Each function that can meet a value it does not know, or one JSON
// cannot hold (NaN), reports false so the caller falls back to
// encoding/json and gets its bytes or its error.
package jsonw

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value encodes the values JSON decoding and YAML loading make
// (string, float64, int, bool, nil, []string, []any, map[string]any); any
// other type is encoding/json's to encode.
func Value(b []byte, v any) ([]byte, bool) { return value(b, v, false) }

// ValueHTML is Value with json.Marshal's HTML escaping of strings (<, >,
// & as \u003c, \u003e, \u0026), for bytes that must equal json.Marshal's.
func ValueHTML(b []byte, v any) ([]byte, bool) { return value(b, v, true) }

func value(b []byte, v any, html bool) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, x, html), true
	case float64:
		return Float(b, x)
	case bool:
		return strconv.AppendBool(b, x), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case []string:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s, html)
		}
		return append(b, ']'), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		return mapOf(b, x, html)
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
			if b, ok = value(b, e, html); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

// Map encodes a map with its keys sorted, as encoding/json does.
func Map(b []byte, m map[string]any) ([]byte, bool) { return mapOf(b, m, false) }

func mapOf(b []byte, m map[string]any, html bool) ([]byte, bool) {
	b = append(b, '{')
	var small [8]string
	for i, k := range SortedKeys(m, small[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k, html)
		b = append(b, ':')
		var ok bool
		if b, ok = value(b, m[k], html); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// SortedKeys returns m's keys sorted, in small (when they fit) to spare
// an allocation per map.
func SortedKeys[V any](m map[string]V, small []string) []string {
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// Float formats f as encoding/json does (ES6 number to string); a
// NaN or infinity is not JSON.
func Float(b []byte, f float64) ([]byte, bool) { return appendFloat(b, f, 64) }

// Float32 formats f as encoding/json formats a float32.
func Float32(b []byte, f float32) ([]byte, bool) { return appendFloat(b, float64(f), 32) }

// appendFloat is encoding/json's floatEncoder for bits 32 or 64.
func appendFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
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

// String quotes s as encoding/json does with HTML escaping off:
// control characters escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func String(b []byte, s string) []byte { return appendString(b, s, false) }

// StringHTML quotes s as json.Marshal does, with HTML escaping on: <, >
// and & also as \u003c, \u003e and \u0026.
func StringHTML(b []byte, s string) []byte { return appendString(b, s, true) }

func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
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
