package eval

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aieval/aieval/internal/jsonnode"
)

// jsonlFast reads a JSONL row of the usual shape straight into its
// rawTest, without a node tree: an object of a string name and prompt,
// params of plain values (strings, numbers, true, false, null) and an
// assert list whose exact text an earlier row of the file had (the
// assertions it built are shared, as rows share them anyway). It answers
// only when the tree path would give the same test without a problem;
// for anything else ok is false and the row goes to that path, which
// gives the exact test or message. rawAssert is then the row's assert
// text, for noteRowAsserts. FuzzJSONLFast holds it to the tree path.
func (l *loader) jsonlFast(b []byte, line int) (_ *rawTest, rawAssert []byte, ok bool) {
	p := jsonScan{b: b}
	if !p.byte('{') {
		return nil, nil, false
	}
	t := &rawTest{file: l.file, line: line, suiteLine: line}
	var seen [4]bool
	if p.byte('}') {
		return nil, nil, false // no name: the tree path says so
	}
	for {
		k := p.key()
		if k < 0 || seen[k] || !p.byte(':') {
			return nil, nil, false
		}
		seen[k] = true
		var ok bool
		switch k {
		case 0:
			if t.name, ok = p.str(); !ok || strings.TrimSpace(t.name) == "" {
				return nil, nil, false
			}
			t.hasName, t.nameLine = true, line
		case 1:
			if t.prompt, ok = p.str(); !ok {
				return nil, nil, false
			}
			t.promptLine = line
		case 2:
			if t.params, ok = p.params(); !ok {
				return nil, nil, false
			}
			t.paramsLine = line
		case 3:
			p.ws()
			start := p.i
			if p.i >= len(b) || b[p.i] != '[' || !p.skip(0) {
				return nil, nil, false
			}
			rawAssert = b[start:p.i]
			l.keyBuf = append(append(append(l.keyBuf[:0], l.file...), 0), rawAssert...)
			as, hit := l.rawAsserts[string(l.keyBuf)]
			if !hit {
				return nil, rawAssert, false
			}
			t.asserts = as
		}
		if p.byte(',') {
			continue
		}
		if !p.byte('}') {
			return nil, nil, false
		}
		p.ws()
		if p.i != len(b) || !t.hasName {
			return nil, nil, false
		}
		return t, nil, true
	}
}

// key reads a row's key and returns its place in name, prompt, params,
// assert; -1 for any other key, or one written with escapes.
func (p *jsonScan) key() int {
	p.ws()
	b := p.b
	if p.i >= len(b) || b[p.i] != '"' {
		return -1
	}
	end := bytes.IndexByte(b[p.i+1:], '"')
	if end < 0 {
		return -1
	}
	k := b[p.i+1 : p.i+1+end]
	p.i += end + 2
	switch string(k) {
	case "name":
		return 0
	case "prompt":
		return 1
	case "params":
		return 2
	case "assert":
		return 3
	}
	return -1
}

// noteRowAsserts remembers the assertions the tree path built for a row's
// assert text in this file, so that later rows with the same text skip
// the tree.
func (l *loader) noteRowAsserts(raw []byte, asserts []*Assert) {
	if len(l.rawAsserts) >= maxInterned {
		return
	}
	if l.rawAsserts == nil {
		l.rawAsserts = map[string][]*Assert{}
	}
	l.keyBuf = append(append(append(l.keyBuf[:0], l.file...), 0), raw...)
	l.rawAsserts[string(l.keyBuf)] = slices.Clip(asserts)
}

// jsonScan reads JSON by encoding/json's grammar; every method says no
// where that grammar does (or where the row is better left to the tree
// path: surrogate escapes, deep nesting).
type jsonScan struct {
	b   []byte
	i   int
	buf []byte
}

func (p *jsonScan) ws() { p.i = jsonnode.SkipSpace(p.b, p.i) }

// byte consumes c (after white space) if it is next.
func (p *jsonScan) byte(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string (after white space); the row is valid UTF-8.
func (p *jsonScan) str() (string, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	s, next, ok := jsonnode.ScanString(p.b, p.i, &p.buf)
	p.i = next
	return s, ok
}

// number reads a number as the loader's value() converts it: a whole one
// that fits in 64 bits as int, one with a fraction or exponent as a finite
// float64.
func (p *jsonScan) number() (any, bool) {
	start := p.i
	if !p.numberText() {
		return nil, false
	}
	text := string(p.b[start:p.i])
	if strings.ContainsAny(text, ".eE") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return f, true
	}
	i, err := strconv.ParseInt(text, 0, 64)
	if err != nil {
		return nil, false
	}
	return int(i), true
}

// numberText moves past a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonScan) numberText() bool {
	b := p.b
	digits := func() int {
		n := 0
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(b) && b[p.i] == '-' {
		p.i++
	}
	if p.i < len(b) && b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return false
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return false
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// params reads an object of plain values as value() does.
func (p *jsonScan) params() (map[string]any, bool) {
	if !p.byte('{') {
		return nil, false
	}
	out := map[string]any{}
	if p.byte('}') {
		return out, true
	}
	for {
		k, ok := p.str()
		if !ok || !p.byte(':') {
			return nil, false
		}
		if _, dup := out[k]; dup {
			return nil, false
		}
		p.ws()
		if p.i >= len(p.b) {
			return nil, false
		}
		var v any
		switch c := p.b[p.i]; {
		case c == '"':
			if v, ok = p.str(); !ok {
				return nil, false
			}
		case c == '-' || c >= '0' && c <= '9':
			if v, ok = p.number(); !ok {
				return nil, false
			}
		case p.word("true"):
			v = true
		case p.word("false"):
			v = false
		case p.word("null"):
			v = nil
		default:
			return nil, false
		}
		out[k] = v
		if p.byte(',') {
			continue
		}
		return out, p.byte('}')
	}
}

func (p *jsonScan) word(w string) bool {
	if len(p.b)-p.i >= len(w) && string(p.b[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return true
	}
	return false
}

// skip moves past one value (after white space), checking its grammar.
func (p *jsonScan) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	p.ws()
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.skipStr()
	case c == '-' || c >= '0' && c <= '9':
		return p.numberText()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		if p.byte(end) {
			return true
		}
		for {
			if c == '{' {
				p.ws()
				if p.i >= len(p.b) || p.b[p.i] != '"' || !p.skipStr() || !p.byte(':') {
					return false
				}
			}
			if !p.skip(depth + 1) {
				return false
			}
			if p.byte(',') {
				continue
			}
			return p.byte(end)
		}
	}
	return p.word("true") || p.word("false") || p.word("null")
}

// skipStr moves past a string at p.i (a '"') without making it.
func (p *jsonScan) skipStr() bool {
	next, ok := jsonnode.SkipString(p.b, p.i)
	if ok {
		p.i = next
	}
	return ok
}
