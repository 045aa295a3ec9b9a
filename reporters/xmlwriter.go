package reporters

import (
	"bufio"
	"strings"
	"unicode/utf8"

	"github.com/aieval/aieval/internal/text"
)

// xmlWriter writes the JUnit file element by element, byte for byte as
// encoding/xml's Encoder with Indent("", "\t") writes the same elements
// (TestJUnitMatchesEncodingXML holds it to that), without its reflection:
// that was half of a 100k-test JUnit report's CPU.
type xmlWriter struct {
	w          *bufio.Writer
	depth      int
	indentedIn bool // the last thing written is a start tag
	putNewline bool
}

// indent is encoding/xml's writeIndent: a start tag goes on a new line at
// its depth; an end tag too, unless its element has no child element.
func (x *xmlWriter) indent(delta int) {
	if delta < 0 {
		x.depth--
		if x.indentedIn {
			x.indentedIn = false
			return
		}
		x.indentedIn = false
	}
	if x.putNewline {
		x.w.WriteByte('\n')
	} else {
		x.putNewline = true
	}
	for range x.depth {
		x.w.WriteByte('\t')
	}
	if delta > 0 {
		x.depth++
		x.indentedIn = true
	}
}

// start writes <name a="v" ...>; attrs are name, value pairs.
func (x *xmlWriter) start(name string, attrs ...string) {
	x.indent(1)
	x.w.WriteByte('<')
	x.w.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.w.WriteByte(' ')
		x.w.WriteString(attrs[i])
		x.w.WriteString(`="`)
		escapeAttr(x.w, attrs[i+1])
		x.w.WriteByte('"')
	}
	x.w.WriteByte('>')
}

// end writes </name>.
func (x *xmlWriter) end(name string) {
	x.indent(-1)
	x.w.WriteString("</")
	x.w.WriteString(name)
	x.w.WriteByte('>')
}

// cdata writes s as encoding/xml writes a ",cdata" field: nothing when
// empty, else one CDATA section with each "]]>" split across two.
func (x *xmlWriter) cdata(s string) {
	if s == "" {
		return
	}
	x.w.WriteString("<![CDATA[")
	for {
		before, after, ok := strings.Cut(s, "]]>")
		if !ok {
			break
		}
		x.w.WriteString(before)
		x.w.WriteString("]]]]><![CDATA[>")
		s = after
	}
	x.w.WriteString(s)
	x.w.WriteString("]]>")
}

// escapeAttr is encoding/xml's EscapeString: markup characters and the
// whitespace an attribute would lose as character references, characters
// XML does not allow (and bytes that are not UTF-8) as U+FFFD.
func escapeAttr(w *bufio.Writer, s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= ' ' && c < utf8.RuneSelf && c != '"' && c != '\'' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !text.XMLChar(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			continue
		}
		w.WriteString(s[last : i-width])
		w.WriteString(esc)
		last = i
	}
	w.WriteString(s[last:])
}
