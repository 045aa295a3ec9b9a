package handlebars

import (
	"bytes"
	"strings"
)

// The escape table is the AIConfig Python SDK's (pybars3, like Handlebars.js
// 4 except for '='): raymond wrote &apos; for ' and left ` alone, so any
// apostrophe in a parameter changed the prompt sent.

type writer interface {
	WriteString(string) (int, error)
}

const escapedChars = "&\"'`<>"

func escape(w writer, s string) error {
	i := strings.IndexAny(s, escapedChars)
	for i != -1 {
		if _, err := w.WriteString(s[:i]); err != nil {
			return err
		}
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&#x27;"
		case '`':
			esc = "&#x60;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			panic("unrecognized escape character")
		}
		s = s[i+1:]
		if _, err := w.WriteString(esc); err != nil {
			return err
		}
		i = strings.IndexAny(s, escapedChars)
	}
	_, err := w.WriteString(s)
	return err
}

// Escape escapes special HTML characters as the AIConfig SDK does.
func Escape(s string) string {
	if !strings.ContainsAny(s, escapedChars) {
		return s
	}
	var buf bytes.Buffer
	buf.Grow(len(s) + 16)
	_ = escape(&buf, s)
	return buf.String()
}
