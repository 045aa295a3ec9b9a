package jsonnode

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Row parses one JSONL row into the same yaml.Node tree as Parse,
// without encoding/json's per-token allocations (~8 KB of garbage per row,
// most of the load time of a 100k-row file). Nodes come from slabs reused
// row after row: the loader keeps no node once a row is read. It accepts a
// strict subset of what jsonNode accepts; for anything else (errors,
// surrogate escapes, deep nesting) ok is false and the caller asks Parse,
// which gives the exact result or message.
type Row struct {
	MaxDepth int // nesting; 0 means DefaultMaxDepth

	b     []byte
	i     int
	line  int
	nodes []yaml.Node
	kids  []*yaml.Node // backing for Content slices
	stack []*yaml.Node // children of the open containers
	buf   []byte       // unescaped string
}

// Parse reads the row b, whose nodes all get line. The tree is valid until
// the next call.
func (p *Row) Parse(b []byte, line int) (*yaml.Node, bool) {
	if bytes.IndexByte(b, '\n') >= 0 {
		return nil, false // a node past a newline is on a later line: Parse counts them
	}
	p.b, p.i, p.line = b, 0, line
	p.nodes, p.kids, p.stack = p.nodes[:0], p.kids[:0], p.stack[:0]
	n, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.ws()
	return n, p.i == len(p.b)
}

// node allocates from the slab. A full slab is replaced, not grown, so the
// pointers already handed out stay valid.
func (p *Row) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, max(64, 2*cap(p.nodes)))
	}
	p.nodes = append(p.nodes, yaml.Node{Kind: kind, Tag: tag, Value: value, Line: p.line})
	return &p.nodes[len(p.nodes)-1]
}

// content moves the children pushed since mark into a Content slice.
func (p *Row) content(mark int) []*yaml.Node {
	k := len(p.stack) - mark
	if k == 0 {
		return nil
	}
	if cap(p.kids)-len(p.kids) < k {
		p.kids = make([]*yaml.Node, 0, max(256, 2*cap(p.kids), k))
	}
	start := len(p.kids)
	p.kids = append(p.kids, p.stack[mark:]...)
	p.stack = p.stack[:mark]
	return p.kids[start:len(p.kids):len(p.kids)]
}

func (p *Row) ws() { p.i = SkipSpace(p.b, p.i) }

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *Row) value(depth int) (*yaml.Node, bool) {
	if depth > p.maxDepth() {
		return nil, false
	}
	p.ws()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		return p.container(c, depth)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return p.node(yaml.ScalarNode, "!!str", s), true
	case c == 't':
		return p.literal("true", "!!bool")
	case c == 'f':
		return p.literal("false", "!!bool")
	case c == 'n':
		return p.literal("null", "!!null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, false
}

func (p *Row) container(open byte, depth int) (*yaml.Node, bool) {
	kind, end := yaml.MappingNode, byte('}')
	if open == '[' {
		kind, end = yaml.SequenceNode, ']'
	}
	p.i++
	tag := "!!map"
	if kind == yaml.SequenceNode {
		tag = "!!seq"
	}
	n := p.node(kind, tag, "")
	mark := len(p.stack)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == end {
		p.i++
		return n, true
	}
	for {
		if kind == yaml.MappingNode {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, false
			}
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			p.stack = append(p.stack, p.node(yaml.ScalarNode, "!!str", k))
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, false
			}
			p.i++
		}
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			continue
		case end:
			p.i++
			n.Content = p.content(mark)
			return n, true
		}
		return nil, false
	}
}

func (p *Row) literal(word, tag string) (*yaml.Node, bool) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return nil, false
	}
	p.i += len(word)
	return p.node(yaml.ScalarNode, tag, word), true
}

// number checks JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *Row) number() (*yaml.Node, bool) {
	b, start := p.b, p.i
	digits := func() int {
		n := 0
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if b[p.i] == '-' {
		p.i++
	}
	if p.i < len(b) && b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, false
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	text := string(b[start:p.i])
	return p.node(yaml.ScalarNode, numberTag(text), text), true
}

// str reads a string at p.i (a '"'); the row is valid UTF-8 already.
func (p *Row) str() (string, bool) {
	s, next, ok := ScanString(p.b, p.i, &p.buf)
	p.i = next
	return s, ok
}

// ScanString reads the JSON string that starts at b[i] (a '"') of valid
// UTF-8 and returns it and the index past its closing quote; buf is
// scratch for an escaped one, reused across calls. It declines (ok false)
// anything it does not read exactly as encoding/json would, so callers
// fall back to an exact parser: a control byte, a bad escape, and any
// \u escape of a surrogate (encoding/json pairs them).
func ScanString(b []byte, i int, buf *[]byte) (s string, next int, ok bool) {
	i++
	start := i
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			return string(b[start:i]), i + 1, true
		case c == '\\':
			return scanEscaped(b, start, i, buf)
		case c < 0x20:
			return "", i, false
		}
		i++
	}
	return "", i, false
}

// SkipString steps over the JSON string that starts at b[i] (a '"') and
// returns the index past its closing quote: no raw control characters,
// only JSON's escapes (UTF-8 is not checked, as encoding/json does not).
func SkipString(b []byte, i int) (next int, ok bool) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, false
				}
				for _, h := range b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

func scanEscaped(b []byte, start, i int, buf *[]byte) (string, int, bool) {
	out := append((*buf)[:0], b[start:i]...)
	defer func() { *buf = out }()
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, true
		case c < 0x20:
			return "", i, false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", i, false
		}
		e := b[i+1]
		i += 2
		switch e {
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
		case 'u':
			if i+4 > len(b) {
				return "", i, false
			}
			r, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
			if err != nil || (r >= 0xD800 && r < 0xE000) {
				return "", i, false
			}
			out = utf8.AppendRune(out, rune(r))
			i += 4
		default:
			return "", i, false
		}
	}
	return "", i, false
}

func (p *Row) maxDepth() int {
	if p.MaxDepth > 0 {
		return p.MaxDepth
	}
	return DefaultMaxDepth
}
