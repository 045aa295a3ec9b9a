package eval

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yamlFast parses one item of a large YAML cases file ("- " at column 0
// and its lines) when it has the common shape of such files: block
// mappings and sequences, each key on its own line, scalars plain (words
// and simple numbers), quoted on one line, or one-line flow collections,
// no comments, tabs, anchors, tags or block scalars. It gives the tree
// yaml.v3 gives (kinds, tags, values, lines: what the loader reads; not
// styles or columns) ~20 times faster; for anything else it says no and
// the caller asks yaml.v3, which gives the exact result or message.
// FuzzYAMLFast holds it to yaml.v3.
type yamlFast struct {
	lines []yamlLine
	i     int
	nodes []yaml.Node  // see node
	kids  []*yaml.Node // backing for Content slices, reused likewise
	stack []*yaml.Node // children of the open collections
	buf   []byte
}

type yamlLine struct {
	s   []byte // the text after the indentation
	ind int
	no  int // line in the file
}

// yamlFastDepth bounds nesting; deeper items go to yaml.v3.
const yamlFastDepth = 32

// maxFastKey bounds a key's length: yaml.v3 refuses an implicit key of
// more than 1024 characters.
const maxFastKey = 128

// parse returns the item's root, a sequence of one entry, its nodes on the
// file's lines from first.
func (p *yamlFast) parse(b []byte, first int) (*yaml.Node, bool) {
	if !yamlFastText(b) {
		return nil, false
	}
	p.lines, p.i, p.nodes, p.kids, p.stack = p.lines[:0], 0, p.nodes[:0], p.kids[:0], p.stack[:0]
	no := first
	for len(b) > 0 {
		line := b
		if k := bytes.IndexByte(b, '\n'); k >= 0 {
			line, b = b[:k], b[k+1:]
		} else {
			b = nil
		}
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		switch {
		case ind == len(line):
		case line[ind] == '#':
			return nil, false
		default:
			p.lines = append(p.lines, yamlLine{s: line[ind:], ind: ind, no: no})
		}
		no++
	}
	if len(p.lines) == 0 || p.lines[0].ind != 0 || !isDash(p.lines[0].s) {
		return nil, false
	}
	root, ok := p.seq(0, 0)
	if !ok || p.i != len(p.lines) || len(root.Content) != 1 {
		return nil, false
	}
	return root, true
}

// yamlFastText reports whether b holds only what yaml.v3 reads as plain
// text characters: printable ASCII, newlines, and non-ASCII runes that are
// neither control characters, line breaks (U+0085, U+2028, U+2029) nor a
// byte order mark.
func yamlFastText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x7f || c == '\n' {
			i++
			continue
		}
		if c < 0x80 {
			return false
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r < 0xA0, r == 0x2028, r == 0x2029, r == 0xFEFF,
			r >= 0xD800 && r < 0xE000, r == 0xFFFE, r == 0xFFFF:
			return false
		}
		i += n
	}
	return true
}

func isDash(s []byte) bool { return len(s) >= 2 && s[0] == '-' && s[1] == ' ' }

// node allocates from a slab reused row after row, like jsonnode.Row's:
// the loader keeps no node once a row is read. A full slab is replaced,
// not grown, so the nodes handed out stay valid.
func (p *yamlFast) node(kind yaml.Kind, tag, value string, line int) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, max(32, 2*cap(p.nodes)))
	}
	p.nodes = append(p.nodes, yaml.Node{Kind: kind, Tag: tag, Value: value, Line: line})
	return &p.nodes[len(p.nodes)-1]
}

// content moves the children pushed since mark into a Content slice.
func (p *yamlFast) content(mark int) []*yaml.Node {
	k := len(p.stack) - mark
	if k == 0 {
		return nil
	}
	if cap(p.kids)-len(p.kids) < k {
		p.kids = make([]*yaml.Node, 0, max(64, 2*cap(p.kids), k))
	}
	start := len(p.kids)
	p.kids = append(p.kids, p.stack[mark:]...)
	p.stack = p.stack[:mark]
	return p.kids[start:len(p.kids):len(p.kids)]
}

// seq reads the block sequence whose dashes are at indentation ind.
func (p *yamlFast) seq(ind, depth int) (*yaml.Node, bool) {
	if depth > yamlFastDepth {
		return nil, false
	}
	n := p.node(yaml.SequenceNode, "!!seq", "", p.lines[p.i].no)
	mark := len(p.stack)
	for p.i < len(p.lines) && p.lines[p.i].ind == ind && isDash(p.lines[p.i].s) {
		l := &p.lines[p.i]
		k := 2
		for k < len(l.s) && l.s[k] == ' ' {
			k++
		}
		if k == len(l.s) {
			return nil, false
		}
		rest := l.s[k:]
		if _, _, ok := p.key(rest, l.no); ok {
			// "- key: ..." opens a mapping at the key's column.
			l.s, l.ind = rest, ind+k
			m, ok := p.mapping(l.ind, depth+1)
			if !ok {
				return nil, false
			}
			p.stack = append(p.stack, m)
			continue
		}
		v, ok := p.inline(rest, l.no, depth+1)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)
		p.i++
	}
	n.Content = p.content(mark)
	return n, p.i == len(p.lines) || p.lines[p.i].ind <= ind
}

// mapping reads the block mapping whose keys are at indentation ind.
func (p *yamlFast) mapping(ind, depth int) (*yaml.Node, bool) {
	if depth > yamlFastDepth {
		return nil, false
	}
	n := p.node(yaml.MappingNode, "!!map", "", p.lines[p.i].no)
	mark := len(p.stack)
	for p.i < len(p.lines) && p.lines[p.i].ind == ind {
		l := p.lines[p.i]
		k, rest, ok := p.key(l.s, l.no)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, k)
		p.i++
		if len(rest) > 0 {
			v, ok := p.inline(rest, l.no, depth+1)
			if !ok {
				return nil, false
			}
			p.stack = append(p.stack, v)
			continue
		}
		if p.i == len(p.lines) {
			return nil, false // an empty value: yaml.v3 decides its line
		}
		next := p.lines[p.i]
		var v *yaml.Node
		switch {
		case isDash(next.s) && next.ind >= ind:
			v, ok = p.seq(next.ind, depth+1)
		case next.ind > ind:
			v, ok = p.mapping(next.ind, depth+1)
		default:
			return nil, false
		}
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)
	}
	n.Content = p.content(mark)
	return n, p.i == len(p.lines) || p.lines[p.i].ind < ind
}

// key reads "key:" at the start of s and what follows ": " (nil at the
// end of the line): a plain key of letters, digits, _ and -, or a quoted
// one.
func (p *yamlFast) key(s []byte, line int) (*yaml.Node, []byte, bool) {
	var v string
	var tag string
	i := 0
	switch {
	case len(s) > 0 && (s[0] == '"' || s[0] == '\''):
		var ok bool
		if v, i, ok = p.quoted(s, 0); !ok {
			return nil, nil, false
		}
		tag = "!!str"
	default:
		for i < len(s) && (isWordByte(s[i]) || i > 0 && s[i] == '-') {
			i++
		}
		if i == 0 || s[0] == '-' {
			return nil, nil, false
		}
		v = string(s[:i])
		var ok bool
		if tag, ok = plainTag(v); !ok {
			return nil, nil, false
		}
	}
	if i >= len(s) || s[i] != ':' || i > maxFastKey {
		return nil, nil, false
	}
	i++
	if i == len(s) {
		return p.node(yaml.ScalarNode, tag, v, line), nil, true
	}
	if s[i] != ' ' {
		return nil, nil, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i == len(s) {
		return nil, nil, false // trailing spaces: let yaml.v3 read them
	}
	return p.node(yaml.ScalarNode, tag, v, line), s[i:], true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// inline reads the rest of a line as one value: quoted, a flow
// collection, or a plain scalar.
func (p *yamlFast) inline(s []byte, line, depth int) (*yaml.Node, bool) {
	var n *yaml.Node
	end := 0
	var ok bool
	switch s[0] {
	case '"', '\'':
		var v string
		if v, end, ok = p.quoted(s, 0); !ok {
			return nil, false
		}
		n = p.node(yaml.ScalarNode, "!!str", v, line)
	case '{', '[':
		if n, end, ok = p.flow(s, 0, line, depth); !ok {
			return nil, false
		}
	default:
		for end < len(s) && plainByte(s[end], false) {
			end++
		}
		if end != len(s) || s[end-1] == ' ' {
			return nil, false
		}
		tag, ok := plainTag(string(s))
		if !ok {
			return nil, false
		}
		n = p.node(yaml.ScalarNode, tag, string(s), line)
	}
	return n, end == len(s)
}

// plainByte reports whether c may be in a plain scalar here (after its
// first character): never ':' or '#', and in a flow collection not its
// punctuation.
func plainByte(c byte, flow bool) bool {
	switch {
	case c >= 0x80:
		return true
	case c < 0x20 || c == ':' || c == '#' || c == '`' || c == 0x7f:
		return false
	case flow && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}'):
		return false
	}
	return true
}

// plainTag is yaml.v3's tag for a plain scalar, for the plain scalars read
// here: words starting with a letter or _ (or a non-ASCII letter), and
// whole or decimal numbers of a few digits; false for anything else.
func plainTag(v string) (string, bool) {
	switch v {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool", true
	case "null", "Null", "NULL":
		return "!!null", true
	case "":
		return "", false
	}
	c := v[0]
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80 {
		return "!!str", true
	}
	s := v
	if s[0] == '-' {
		s = s[1:]
	}
	digits := func(s string) int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n
	}
	whole := digits(s)
	switch {
	case whole == 0 || whole > 15:
		return "", false
	case whole == len(s):
		if s[0] == '0' && len(s) > 1 {
			return "", false // octal to yaml.v3
		}
		return "!!int", true
	case s[whole] == '.':
		frac := digits(s[whole+1:])
		if frac > 0 && frac <= 15 && whole+1+frac == len(s) {
			return "!!float", true
		}
	}
	return "", false
}

// quoted reads a one-line quoted scalar at s[i]; JSON's escapes only in
// double quotes.
func (p *yamlFast) quoted(s []byte, i int) (string, int, bool) {
	q := s[i]
	i++
	p.buf = p.buf[:0]
	for i < len(s) {
		c := s[i]
		switch {
		case c == q && q == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				p.buf = append(p.buf, '\'')
				i += 2
				continue
			}
			return string(p.buf), i + 1, true
		case c == q:
			return string(p.buf), i + 1, true
		case c == '\\' && q == '"':
			if i+1 >= len(s) {
				return "", 0, false
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\': // not \/: yaml.v3 refuses it
				p.buf = append(p.buf, e)
			case 'b':
				p.buf = append(p.buf, '\b')
			case 'f':
				p.buf = append(p.buf, '\f')
			case 'n':
				p.buf = append(p.buf, '\n')
			case 'r':
				p.buf = append(p.buf, '\r')
			case 't':
				p.buf = append(p.buf, '\t')
			case 'u':
				if i+4 > len(s) {
					return "", 0, false
				}
				r, err := strconv.ParseUint(string(s[i:i+4]), 16, 32)
				if err != nil || r >= 0xD800 && r < 0xE000 {
					return "", 0, false
				}
				p.buf = utf8.AppendRune(p.buf, rune(r))
				i += 4
			default:
				return "", 0, false
			}
		default:
			p.buf = append(p.buf, c)
			i++
		}
	}
	return "", 0, false
}

// flow reads a one-line flow mapping or sequence at s[i].
func (p *yamlFast) flow(s []byte, i, line, depth int) (*yaml.Node, int, bool) {
	if depth > yamlFastDepth {
		return nil, 0, false
	}
	end := byte(']')
	n := p.node(yaml.SequenceNode, "!!seq", "", line)
	if s[i] == '{' {
		end = '}'
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	}
	i = skipSpaces(s, i+1)
	if i < len(s) && s[i] == end {
		return n, i + 1, true
	}
	mark := len(p.stack)
	for {
		if end == '}' {
			k, j, ok := p.flowKey(s, i, line)
			if !ok {
				return nil, 0, false
			}
			p.stack = append(p.stack, k)
			i = j
		}
		v, j, ok := p.flowValue(s, i, line, depth)
		if !ok {
			return nil, 0, false
		}
		p.stack = append(p.stack, v)
		i = skipSpaces(s, j)
		if i >= len(s) {
			return nil, 0, false
		}
		switch s[i] {
		case end:
			n.Content = p.content(mark)
			return n, i + 1, true
		case ',':
			i = skipSpaces(s, i+1)
			if i < len(s) && (s[i] == end || s[i] == ',') {
				return nil, 0, false
			}
			continue
		}
		return nil, 0, false
	}
}

// flowKey reads a flow mapping's key and its ':', returning where the
// value starts: a quoted key may touch the ':' ({"a":1}), a plain one is
// followed by ": ".
func (p *yamlFast) flowKey(s []byte, i, line int) (*yaml.Node, int, bool) {
	if i >= len(s) {
		return nil, 0, false
	}
	if s[i] == '"' || s[i] == '\'' {
		v, j, ok := p.quoted(s, i)
		if !ok {
			return nil, 0, false
		}
		if j-i > maxFastKey {
			return nil, 0, false
		}
		j = skipSpaces(s, j)
		if j >= len(s) || s[j] != ':' {
			return nil, 0, false
		}
		return p.node(yaml.ScalarNode, "!!str", v, line), skipSpaces(s, j+1), true
	}
	j := i
	for j < len(s) && (isWordByte(s[j]) || j > i && s[j] == '-') {
		j++
	}
	if j == i || j+1 >= len(s) || s[j] != ':' || s[j+1] != ' ' || s[i] == '-' || j-i > maxFastKey {
		return nil, 0, false
	}
	v := string(s[i:j])
	tag, ok := plainTag(v)
	if !ok {
		return nil, 0, false
	}
	return p.node(yaml.ScalarNode, tag, v, line), skipSpaces(s, j+1), true
}

func (p *yamlFast) flowValue(s []byte, i, line, depth int) (*yaml.Node, int, bool) {
	if i >= len(s) {
		return nil, 0, false
	}
	switch s[i] {
	case '"', '\'':
		v, j, ok := p.quoted(s, i)
		if !ok {
			return nil, 0, false
		}
		return p.node(yaml.ScalarNode, "!!str", v, line), j, true
	case '{', '[':
		return p.flow(s, i, line, depth+1)
	}
	j := i
	for j < len(s) && plainByte(s[j], true) {
		j++
	}
	// A plain scalar ends before the spaces ahead of , } or ].
	e := j
	for e > i && s[e-1] == ' ' {
		e--
	}
	if e == i {
		return nil, 0, false
	}
	v := string(s[i:e])
	tag, ok := plainTag(v)
	if !ok {
		return nil, 0, false
	}
	return p.node(yaml.ScalarNode, tag, v, line), j, true
}

func skipSpaces(s []byte, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
