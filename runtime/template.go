package runtime

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime/internal/handlebars"
)

// Ref is one variable a template reads at its top-level context.
type Ref struct {
	Root string // first path segment: a parameter or prompt name
	Path string // the whole path, e.g. "get_activities.output"
}

// eachTag calls fn with the inside of every mustache, as the SDK's
// get_parameters_in_template regexp `{{[{]?(.*?)[}]?}}` finds them: after
// "{{" and an optional "{", up to the first "}}" (taking a third "}" when
// there is one). A hand-written scan: the regexp was most of the time to
// validate a large file.
func eachTag(tmpl string, fn func(tag string)) {
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			return
		}
		rest := strings.TrimPrefix(tmpl[i+2:], "{")
		j := strings.Index(rest, "}}")
		if j < 0 {
			return
		}
		fn(rest[:j])
		end := j + 2
		if strings.HasPrefix(rest[j:], "}}}") {
			end = j + 3
		}
		tmpl = rest[end:]
	}
}

// maxTemplateDepth bounds block nesting. Deeper templates are refused,
// before the Handlebars parser (which is superlinear in the depth) sees
// them; the SDK's pybars fails on them too (Python's recursion limit).
const maxTemplateDepth = 256

// templateDepth is the deepest block nesting of tmpl, counted by tags.
func templateDepth(tmpl string) int {
	depth, deepest := 0, 0
	eachTag(tmpl, func(tag string) {
		tag = strings.TrimSpace(strings.Trim(strings.TrimSpace(tag), "~&"))
		if tag == "" {
			return
		}
		switch tag[0] {
		case '#', '^':
			if tag != "^" {
				depth++
				deepest = max(deepest, depth)
			}
		case '/':
			if depth > 0 {
				depth--
			}
		}
	})
	return deepest
}

// checkDepth refuses a template nested deeper than maxTemplateDepth.
func checkDepth(tmpl string) error {
	if d := templateDepth(tmpl); d > maxTemplateDepth {
		return fmt.Errorf("blocks nested %d deep (at most %d)", d, maxTemplateDepth)
	}
	return nil
}

var blockHelpers = map[string]bool{"if": true, "unless": true, "each": true, "with": true}

// TemplateRefs lists the variables a Handlebars template reads from its
// root context. Variables inside #each/#with bodies are relative to the
// item and are left out, as the SDK does.
func TemplateRefs(tmpl string) []Ref {
	var refs []Ref
	// stack holds, per open block, whether it changes the context;
	// changing counts those, so a tag's check is O(1) and a template of
	// deeply nested blocks is read in linear time (rescanning the stack
	// made a 16 MB file of nested {{#if}} take minutes to validate).
	var stack []bool
	changing := 0
	nested := func() bool { return changing > 0 }
	push := func(changes bool) {
		stack = append(stack, changes)
		if changes {
			changing++
		}
	}
	add := func(tok string) {
		tok = strings.TrimSpace(tok)
		if tok == "" || nested() || isLiteral(tok) || strings.HasPrefix(tok, "@") ||
			strings.HasPrefix(tok, "../") || tok == "this" || tok == "." || strings.Contains(tok, "=") {
			return
		}
		tok = strings.TrimPrefix(tok, "this.")
		tok = strings.TrimPrefix(tok, "./")
		root := tok
		if strings.HasPrefix(root, "[") {
			if i := strings.IndexByte(root, ']'); i > 0 {
				root = root[1:i]
			}
		} else if i := strings.IndexAny(root, "./"); i > 0 {
			root = root[:i]
		}
		refs = append(refs, Ref{Root: root, Path: tok})
	}
	eachTag(tmpl, func(inner string) {
		tag := strings.Trim(strings.TrimSpace(inner), "~&")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag[0] == '!' || tag[0] == '>' || tag == "else" || tag == "^" {
			return
		}
		fields := strings.Fields(tag)
		switch tag[0] {
		case '#', '^':
			name := strings.TrimPrefix(strings.TrimPrefix(fields[0], "#"), "^")
			if blockHelpers[name] {
				for _, f := range fields[1:] {
					add(f)
				}
				push(name == "each" || name == "with")
			} else {
				add(name) // a section: {{#items}}...{{/items}}
				push(true)
			}
			return
		case '/':
			if len(stack) > 0 {
				if stack[len(stack)-1] {
					changing--
				}
				stack = stack[:len(stack)-1]
			}
			return
		}
		if strings.HasPrefix(tag, "else ") {
			return
		}
		if len(fields) > 1 && (fields[0] == "lookup" || fields[0] == "log") {
			fields = fields[1:]
		}
		for _, f := range fields {
			add(f)
		}
	})
	return refs
}

func isLiteral(tok string) bool {
	if tok == "true" || tok == "false" || tok == "null" || tok == "undefined" {
		return true
	}
	if tok[0] == '"' || tok[0] == '\'' || tok[0] == '-' || (tok[0] >= '0' && tok[0] <= '9') {
		return true
	}
	return false
}

// render executes a Handlebars template with params, whose objects must be
// *handlebars.Object (see templateValue). The renderer is raymond's, with
// the SDK's escaping, .length and ordered objects (internal/handlebars).
// The extra recover keeps fuzzed input from crashing us.
func render(tmpl string, params map[string]any) (out string, err error) {
	if !strings.Contains(tmpl, "{{") {
		return tmpl, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render template: %s", text.OneLine(fmt.Sprint(r), 0))
		}
	}()
	// raymond's messages span lines ("Parse error on line 1:\nExpecting
	// ..."); errors here are one line, as every aieval error.
	tpl, err := parseTemplate(tmpl)
	if err != nil {
		return "", fmt.Errorf("parse template: %s", text.OneLine(err.Error(), 0))
	}
	out, err = tpl.ExecMap(params)
	if err != nil {
		return "", fmt.Errorf("render template: %s", text.OneLine(err.Error(), 0))
	}
	return out, nil
}

// templateValue converts a decoded value for templates: every map becomes
// an Object with its keys sorted (a Go map has no order left to keep, and
// sorted is at least the same on every run). Values decoded from the
// aiconfig come through orderedValue instead, in the file's order.
func templateValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := handlebars.NewObject(len(keys))
		for _, k := range keys {
			o.Set(k, templateValue(t[k]))
		}
		return o
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = templateValue(x)
		}
		return out
	}
	return v
}

// templates caches parsed templates: a suite renders the same few
// templates for every test, and lexing them each time was a measurable share
// of the harness's CPU. A parsed template is read-only, so one may be
// executed concurrently. The cache stops growing at maxTemplates entries
// (templates come from config files, so real runs stay far below).
var (
	templates     sync.Map // string -> *handlebars.Template
	templateCount atomic.Int64
)

const maxTemplates = 4096

func parseTemplate(src string) (*handlebars.Template, error) {
	if t, ok := templates.Load(src); ok {
		return t.(*handlebars.Template), nil
	}
	if err := checkDepth(src); err != nil {
		return nil, err
	}
	t, err := handlebars.Parse(src)
	if err != nil {
		return nil, err
	}
	if templateCount.Load() < maxTemplates {
		if _, loaded := templates.LoadOrStore(src, t); !loaded {
			templateCount.Add(1)
		}
	}
	return t, nil
}

// refsCache holds TemplateRefs by template for the run path, which asks
// for the same few templates' refs on every test (scanning them was ~9% of
// a run's CPU in the runtime). Bounded as templates is.
var (
	refsCache sync.Map // string -> []Ref, at full capacity
	refsCount atomic.Int64
)

// cachedRefs is TemplateRefs(tmpl), shared: the slice's cap is its len, so
// an append copies, and callers must not write to its elements.
func cachedRefs(tmpl string) []Ref {
	if !strings.Contains(tmpl, "{{") {
		return nil // TemplateRefs finds nothing without a tag
	}
	if r, ok := refsCache.Load(tmpl); ok {
		return r.([]Ref)
	}
	refs := slices.Clip(TemplateRefs(tmpl))
	if refsCount.Load() < maxTemplates {
		if _, loaded := refsCache.LoadOrStore(tmpl, refs); !loaded {
			refsCount.Add(1)
		}
	}
	return refs
}
