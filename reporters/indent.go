package reporters

import (
	"bytes"
	"encoding/json"
)

// indentCompact appends to dst what json.Indent(dst, src, prefix, indent)
// appends, for src the compact JSON that encoding/json writes (a spooled
// test): no whitespace outside strings. It copies string bodies in one
// piece instead of stepping json.Indent's validating scanner through every
// byte (a third of the JSON report's time on a large run). Anything else
// (whitespace between tokens, an unterminated string, unbalanced
// brackets) goes to json.Indent, which then indents it or says what is
// wrong.
func indentCompact(dst *bytes.Buffer, src []byte, prefix, indent string) error {
	start := dst.Len()
	if ok := appendIndentCompact(dst, src, prefix, indent); ok {
		return nil
	}
	dst.Truncate(start)
	return json.Indent(dst, src, prefix, indent)
}

func appendIndentCompact(dst *bytes.Buffer, src []byte, prefix, indent string) bool {
	b := dst.AvailableBuffer()
	// nl holds "\n", prefix and enough indents; a line break at depth d is
	// its first 1+len(prefix)+d*len(indent) bytes.
	nl := append(make([]byte, 0, 1+len(prefix)+8*len(indent)), '\n')
	nl = append(nl, prefix...)
	depth := 0
	newline := func() {
		for need := 1 + len(prefix) + depth*len(indent); len(nl) < need; {
			nl = append(nl, indent...)
		}
		b = append(b, nl[:1+len(prefix)+depth*len(indent)]...)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for {
				k := bytes.IndexByte(src[j:], '"')
				if k < 0 {
					return false
				}
				j += k
				bs := 0 // backslashes right before the quote: odd escapes it
				for bs < j-i-1 && src[j-1-bs] == '\\' {
					bs++
				}
				if bs%2 == 0 {
					break
				}
				j++
			}
			b = append(b, src[i:j+1]...)
			i = j
		case '{', '[':
			b = append(b, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				b = append(b, src[i+1]) // json.Indent keeps {} and [] together
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			if depth < 0 {
				return false
			}
			newline()
			b = append(b, c)
		case ',':
			b = append(b, c)
			newline()
		case ':':
			b = append(b, ':', ' ')
		case ' ', '\t', '\n', '\r':
			return false
		default:
			b = append(b, c)
		}
	}
	if depth != 0 {
		return false
	}
	dst.Write(b)
	return true
}
