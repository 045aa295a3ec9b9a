package llm

import (
	"bytes"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aieval/aieval/internal/jsonnode"
)

// jdec is the hand answer reader's JSON (chatdecode.go) over one body:
// strict where encoding/json's scanner is strict; every method reports
// false where the hand reader gives up and leaves the body to
// encoding/json.
type jdec struct {
	b     []byte
	i     int
	depth int
}

const maxHandDepth = 64 // deeper: encoding/json decides (its limit is 10000)

func (d *jdec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jdec) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// object reads {...}, calling member with each key positioned at its
// value. Strict (go-openai's types): a key must be only lowercase ASCII
// letters, digits and '_' (anything else encoding/json might match to a
// field case-insensitively or after unescaping), and a repeated key (which
// encoding/json merges or overwrites) gives up. Not strict (a value being
// skipped): any key.
func (d *jdec) object(strict bool, member func(k []byte) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.depth++; d.depth > maxHandDepth {
		return false
	}
	var keys [16][]byte
	nk := 0
	if d.peek() == '}' {
		d.i++
		d.depth--
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		start := d.i + 1
		if !d.skipString() {
			return false
		}
		k := d.b[start : d.i-1]
		if strict {
			for _, c := range k {
				if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
					return false
				}
			}
			for _, p := range keys[:nk] {
				if bytes.Equal(p, k) {
					return false
				}
			}
			if nk == len(keys) {
				return false
			}
			keys[nk] = k
			nk++
		}
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.ws()
		if !member(k) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

// array reads [...] or null, calling elem for each element; n (if not
// nil) gets the count.
func (d *jdec) array(elem func(i int) bool, n *int) bool {
	switch d.peek() {
	case 'n':
		return d.null()
	case '[':
	default:
		return false
	}
	d.i++
	if d.depth++; d.depth > maxHandDepth {
		return false
	}
	i := 0
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			d.ws()
			if !elem(i) {
				return false
			}
			i++
			c := d.peek()
			d.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	d.depth--
	if n != nil {
		*n = i
	}
	return true
}

func (d *jdec) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

// str reads a string (into dst, unless nil) or null (dst untouched).
func (d *jdec) str(dst *string) bool {
	switch d.peek() {
	case 'n':
		return d.null()
	case '"':
	default:
		return false
	}
	start := d.i
	if !d.skipString() {
		return false
	}
	if dst != nil {
		s, ok := unquoteJSON(d.b[start:d.i])
		if !ok {
			return false
		}
		*dst = s
	}
	return true
}

// word is str for a member that is nearly always one of a few words
// (role, finish_reason): those are not copied out of the body.
func (d *jdec) word(dst *string) bool {
	d.ws()
	start := d.i
	if !d.str(nil) {
		return false
	}
	q := d.b[start:d.i]
	if len(q) >= 2 && q[0] == '"' {
		if w, ok := words[string(q[1:len(q)-1])]; ok {
			*dst = w
			return true
		}
		s, ok := unquoteJSON(q)
		*dst = s
		return ok
	}
	return true // null
}

var words = map[string]string{"assistant": "assistant", "stop": "stop", "length": "length",
	"tool_calls": "tool_calls", "function_call": "function_call", "content_filter": "content_filter"}

// number reads a number's text (JSON grammar) or reports false,
// without stepping past anything when the next value is not a number.
func (d *jdec) number() ([]byte, bool) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	start := d.i
	if !d.skipNumber() {
		return nil, false
	}
	return d.b[start:d.i], true
}

// integer reads an int (as encoding/json into an int: ParseInt, base 10)
// or null.
func (d *jdec) integer(dst *int) bool {
	if d.peek() == 'n' {
		return d.null()
	}
	s, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return false
	}
	if dst != nil {
		*dst = int(n)
	}
	return true
}

// float reads a float64 (ParseFloat, as encoding/json) or null.
func (d *jdec) float(dst *float64) bool {
	if d.peek() == 'n' {
		return d.null()
	}
	s, ok := d.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return false
	}
	if dst != nil {
		*dst = f
	}
	return true
}

// byteList reads a []byte given as a list of numbers 0..255, or null (a
// base64 string is left to encoding/json).
func (d *jdec) byteList() bool {
	return d.array(func(int) bool {
		s, ok := d.number() // a sign fails ParseUint below
		if !ok {
			return false
		}
		n, err := strconv.ParseUint(string(s), 10, 8)
		return err == nil && n <= 255
	}, nil)
}

// unknown skips the value of a member go-openai's types do not have.
func (d *jdec) unknown([]byte) bool { return d.skipValue() }

// skipValue checks and steps over any JSON value, as strictly as
// encoding/json's scanner.
func (d *jdec) skipValue() bool {
	switch c := d.peek(); {
	case c == '{':
		return d.object(false, func([]byte) bool { return d.skipValue() })
	case c == '[':
		return d.array(func(int) bool { return d.skipValue() }, nil)
	case c == '"':
		return d.skipString()
	case c == '-' || '0' <= c && c <= '9':
		return d.skipNumber()
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.null()
	}
	return false
}

func (d *jdec) lit(s string) bool {
	if bytes.HasPrefix(d.b[d.i:], []byte(s)) {
		d.i += len(s)
		return true
	}
	return false
}

// skipString steps over a string at d.i (jsonnode.SkipString).
func (d *jdec) skipString() bool {
	next, ok := jsonnode.SkipString(d.b, d.i)
	if ok {
		d.i = next
	}
	return ok
}

// skipNumber steps over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jdec) skipNumber() bool {
	b, i := d.b, d.i
	digits := func() bool {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	// A number is ended by a delimiter; "1x" is a syntax error there, and
	// at the end of the body the caller's next step fails anyway.
	d.i = i
	return true
}

// unquoteJSON is encoding/json's unquote (decode.go): escapes decoded,
// invalid UTF-8 and unpaired surrogates as U+FFFD. q is a checked string
// literal with its quotes.
func unquoteJSON(q []byte) (string, bool) {
	s := q[1 : len(q)-1]
	r := 0
	for r < len(s) {
		c := s[r]
		if c == '\\' || c == '"' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			r++
			continue
		}
		rr, size := utf8.DecodeRune(s[r:])
		if rr == utf8.RuneError && size == 1 {
			break
		}
		r += size
	}
	if r == len(s) {
		return string(s), true
	}
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	b = append(b, s[:r]...)
	for r < len(s) {
		switch c := s[r]; {
		case c == '\\':
			r++
			if r >= len(s) {
				return "", false
			}
			switch s[r] {
			default:
				return "", false
			case '"', '\\', '/', '\'':
				b = append(b, s[r])
				r++
			case 'b':
				b = append(b, '\b')
				r++
			case 'f':
				b = append(b, '\f')
				r++
			case 'n':
				b = append(b, '\n')
				r++
			case 'r':
				b = append(b, '\r')
				r++
			case 't':
				b = append(b, '\t')
				r++
			case 'u':
				r--
				rr := getu4(s[r:])
				if rr < 0 {
					return "", false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			}
		case c == '"', c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), true
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
