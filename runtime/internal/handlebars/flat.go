package handlebars

import (
	"strings"

	"github.com/aymerick/raymond/ast"
)

// A flat template is text and plain {{name}} / {{{name}}} mustaches
// only: the shape of nearly every prompt. It renders a map context whose
// values are strings without the visitor (an evaluator, a data frame and
// reflection per mustache), which was most of a prompt's templating cost;
// any other value falls back to the visitor, so the output is the same
// (FuzzExecMap holds them to it).
type piece struct {
	text    string // literal text, when name is ""
	name    string // a context key
	escaped bool   // {{name}}, not {{{name}}}
}

// flatten returns the program as pieces, or nil when it is not flat.
func flatten(p *ast.Program) []piece {
	if p == nil || len(p.BlockParams) > 0 {
		return nil
	}
	out := make([]piece, 0, len(p.Body))
	for _, n := range p.Body {
		switch n := n.(type) {
		case *ast.ContentStatement:
			if n.Value != "" {
				out = append(out, piece{text: n.Value})
			}
		case *ast.MustacheStatement:
			name, ok := plainName(n.Expression)
			if !ok {
				return nil
			}
			out = append(out, piece{name: name, escaped: !n.Unescaped})
		default:
			return nil
		}
	}
	return out
}

// plainName is the key of an expression that only reads one context key:
// one path part made of letters, digits and '_', no parameters, not a
// helper's name, not a literal, not "this" or "length" (which a map
// answers with its size).
func plainName(e *ast.Expression) (string, bool) {
	if e == nil || len(e.Params) > 0 || e.Hash != nil {
		return "", false
	}
	path, ok := e.Path.(*ast.PathExpression)
	if !ok || path.Data || path.Depth != 0 || path.Scoped || len(path.Parts) != 1 || path.Original != path.Parts[0] {
		return "", false
	}
	name := path.Parts[0]
	switch name {
	case "", "this", "length", "true", "false", "null", "undefined":
		return "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", false
		}
	}
	if c := name[0]; c >= '0' && c <= '9' {
		return "", false // a number literal
	}
	if findHelper(name) != zero {
		return "", false
	}
	return name, true
}

// ExecMap is Exec(ctx) for a map context, rendering a flat template
// directly when every value it reads is a string or missing.
func (tpl *Template) ExecMap(ctx map[string]any) (string, error) {
	if out, ok := tpl.execFlat(ctx); ok {
		return out, nil
	}
	return tpl.Exec(ctx)
}

func (tpl *Template) execFlat(ctx map[string]any) (string, bool) {
	tpl.mutex.RLock()
	flat, ok := tpl.flat, tpl.flatOK && len(tpl.helpers) == 0 && len(tpl.partials) == 0
	tpl.mutex.RUnlock()
	if !ok {
		return "", false
	}
	n := 0
	for i := range flat {
		pc := &flat[i]
		if pc.name == "" {
			n += len(pc.text)
			continue
		}
		switch v := ctx[pc.name].(type) {
		case nil:
			if _, set := ctx[pc.name]; set {
				return "", false // a null: the visitor's to print
			}
		case string:
			n += len(v)
		default:
			return "", false
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i := range flat {
		pc := &flat[i]
		if pc.name == "" {
			b.WriteString(pc.text)
			continue
		}
		s, _ := ctx[pc.name].(string)
		if pc.escaped && strings.ContainsAny(s, escapedChars) {
			_ = escape(&b, s)
		} else {
			b.WriteString(s)
		}
	}
	return b.String(), true
}
