package promptfoo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/text"
)

// Why promptfoo assertion types aieval has no equivalent of are left out.
var unmappedTypes = map[string]string{
	"javascript": "aieval runs no JavaScript: write the check as a script and use an exec assertion (the output comes as JSON on stdin)",
	"python":     "use an exec assertion running your script (the output comes as JSON on stdin; print {\"pass\", \"score\", \"reason\"})",
	"ruby":       "use an exec assertion running your script",
	"webhook":    "use an exec assertion that posts the output (e.g. with curl)",
	"assert-set": "assert-set is not mapped: list its assertions on the test (a test threshold gives a score gate)",
}

// gradedTypes take a grader (provider:, rubric_prompt:).
var gradedTypes = map[string]bool{
	"llm-rubric": true, "factuality": true, "model-graded-closedqa": true, "g-eval": true, "answer-relevance": true,
	"context-faithfulness": true, "context-recall": true, "context-relevance": true, "select-best": true,
}

// listTypes take a list of texts, which promptfoo also reads from a
// comma-separated text.
var listTypes = map[string]bool{"contains-any": true, "contains-all": true, "icontains-any": true, "icontains-all": true}

// paramTypes read test variables besides the prompt (RAG metrics).
var paramTypes = map[string][]string{
	"context-faithfulness": {"query", "context"}, "context-recall": {"query", "context"},
	"context-relevance": {"query", "context"}, "answer-relevance": {"query"},
}

// options maps a test's (or defaultTest's) options.
func (sw *suiteWriter) options(n *yaml.Node, t *testOut, isDefault bool) {
	im := sw.im
	keys, f, at := fields(n)
	for _, k := range keys {
		switch k {
		case "provider":
			key, ok := sw.graderProvider(f[k])
			if !ok {
				continue
			}
			if isDefault {
				sw.grader = key
				continue
			}
			for _, a := range t.Assert {
				if gradedTypes[strings.TrimPrefix(a.Type, "not-")] && a.Provider == "" {
					a.Provider = key
				}
			}
		case "transform":
			t.Transform = sw.transform(f[k])
		case "rubricPrompt":
			rp := sw.rubricPrompt(f[k])
			for _, a := range t.Assert {
				if gradedTypes[strings.TrimPrefix(a.Type, "not-")] && a.RubricPrompt == "" {
					a.RubricPrompt = rp
				}
			}
			if isDefault && rp != "" {
				im.noteAt(at[k], "defaultTest.options.rubricPrompt: applied to defaultTest's graded assertions only; add rubric_prompt to the tests' own")
			}
		case "prefix", "suffix":
			im.noteAt(at[k], "options.%s: not mapped: aieval sends the aiconfig's prompt as written; put the text in the prompt", k)
		default:
			im.noteAt(at[k], "options.%s: not mapped", k)
		}
	}
}

// graderProvider maps a grader (options.provider or an assertion's
// provider): an id or {id, config}; {text: ..., embedding: ...} takes text.
func (sw *suiteWriter) graderProvider(n *yaml.Node) (string, bool) {
	im := sw.im
	switch n.Kind {
	case yaml.ScalarNode:
		return im.provider(n.Value, "", nil, n, sw.models)
	case yaml.MappingNode:
		_, f, _ := fields(n)
		if f["id"] != nil {
			label := ""
			if f["label"] != nil {
				label = f["label"].Value
			}
			return im.provider(f["id"].Value, label, f["config"], n, sw.models)
		}
		for _, k := range []string{"text", "embedding"} {
			if f[k] != nil {
				if len(f) > 1 {
					im.noteAt(n, "grader provider: only the %s model is mapped", k)
				}
				return sw.graderProvider(f[k])
			}
		}
	}
	im.noteAt(n, "grader provider: expected an id or {id, config}: not mapped")
	return "", false
}

var jsonParseRe = regexp.MustCompile(`^\s*(?:return\s+)?JSON\.parse\(\s*output\s*\)((?:\.[A-Za-z_$][\w$]*|\[\d+\]|\[['"][^'"]*['"]\])*)\s*;?\s*$`)

// transform maps promptfoo's transform (JavaScript): JSON.parse(output).a.b
// becomes the JSON path $.a.b; anything else is noted and dropped.
func (sw *suiteWriter) transform(n *yaml.Node) any {
	s := n.Value
	if m := jsonParseRe.FindStringSubmatch(s); m != nil && n.Kind == yaml.ScalarNode {
		return "$" + m[1]
	}
	sw.im.noteAt(n, "transform %q is JavaScript: not mapped; write transform: $.path, {regex: ...} or {exec: command} (see README: Transforms)", text.OneLine(s, 80))
	return nil
}

// rubricPrompt is text, file://, or a chat list (written as its JSON).
func (sw *suiteWriter) rubricPrompt(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Value, "file://") {
			return "file://" + sw.im.bring(sw.im.ref(n.Value))
		}
		return n.Value
	case yaml.SequenceNode:
		if b, err := json.Marshal(plain(n)); err == nil {
			return string(b)
		}
	}
	sw.im.noteAt(n, "rubricPrompt: expected text or a list of messages: not mapped")
	return ""
}

func (sw *suiteWriter) asserts(n *yaml.Node) []*assertOut {
	if n.Kind != yaml.SequenceNode {
		sw.im.noteAt(n, "assert: expected a list")
		return nil
	}
	var out []*assertOut
	for _, c := range n.Content {
		if a := sw.assertion(resolveAlias(c)); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (sw *suiteWriter) assertion(n *yaml.Node) *assertOut {
	im := sw.im
	keys, f, at := fields(n)
	if f["type"] == nil {
		im.noteAt(n, "assertion without type: skipped")
		return nil
	}
	a := &assertOut{Type: f["type"].Value}
	if t, ok := strings.CutSuffix(a.Type, "similar:cosine"); ok {
		a.Type = t + "similar" // aieval's similar is the cosine one
	}
	base := strings.TrimPrefix(a.Type, "not-")
	if why, ok := unmappedTypes[base]; ok {
		im.noteAt(n, "assertion %s: not mapped: %s", a.Type, why)
		return nil
	}
	if !im.types[base] {
		im.noteAt(n, "assertion %s: not mapped: aieval has no %s type (its types: aieval validate --list-assertions)", a.Type, base)
		return nil
	}
	for _, k := range keys {
		v := f[k]
		switch k {
		case "type":
		case "value":
			a.Value = sw.value(plain(v))
			if str, ok := a.Value.(string); ok && listTypes[base] && strings.Contains(str, ",") {
				// promptfoo splits a text on commas for these types; aieval
				// wants the list written out.
				var list []any
				for _, p := range strings.Split(str, ",") {
					if p = strings.TrimSpace(p); p != "" {
						list = append(list, p)
					}
				}
				a.Value = list
			}
		case "threshold":
			a.Threshold = number(v)
		case "weight":
			a.Weight = number(v)
		case "metric":
			a.Metric = v.Value
		case "provider":
			if key, ok := sw.graderProvider(v); ok {
				a.Provider = key
			}
		case "transform":
			a.Transform = sw.transform(v)
		case "rubricPrompt":
			a.RubricPrompt = sw.rubricPrompt(v)
		default:
			im.noteAt(at[k], "assertion %s: %s not mapped", a.Type, k)
		}
	}
	return a
}

// value rebases file:// references (schemas, rubric files) onto the
// output directory; other values are kept as written.
func (sw *suiteWriter) value(v any) any {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "file://") {
			return "file://" + sw.im.bring(sw.im.ref(x))
		}
	case []any:
		for i := range x {
			x[i] = sw.value(x[i])
		}
	}
	return v
}

var valueVarRe = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// fillAsserts renders {{var}} in assertion values with the test's vars, as
// promptfoo renders assertion values (aieval does not template them). The
// assertions are copied: a var list expands one test into several.
func (sw *suiteWriter) fillAsserts(asserts []*assertOut, vars map[string]any, at *yaml.Node) []*assertOut {
	out := make([]*assertOut, len(asserts))
	for i, a := range asserts {
		c := *a
		c.Value = sw.fill(c.Value, vars, at)
		out[i] = &c
	}
	return out
}

func (sw *suiteWriter) fill(v any, vars map[string]any, at *yaml.Node) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") {
			return x
		}
		return valueVarRe.ReplaceAllStringFunc(x, func(m string) string {
			name := valueVarRe.FindStringSubmatch(m)[1]
			val, ok := vars[name]
			if !ok {
				sw.im.noteAt(at, "assertion value %q: var %s is not set by the test: kept as text", text.OneLine(x, 80), name)
				return m
			}
			return fmt.Sprint(val)
		})
	case []any:
		c := make([]any, len(x))
		for i := range x {
			c[i] = sw.fill(x[i], vars, at)
		}
		return c
	}
	return v
}
