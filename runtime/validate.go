package runtime

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aieval/aieval/runtime/internal/handlebars"
	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime/llm"
)

// Severity of a Diagnostic.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic codes, so callers can treat some findings differently (for
// example undefined parameters of a bare aiconfig that a suite will fill).
const (
	CodeSyntax           = "syntax" // Load: invalid JSON or YAML
	CodeSchema           = "schema" // Load: the AIConfig schema is violated
	CodeDuplicatePrompt  = "duplicate-prompt"
	CodeNoModel          = "no-model"
	CodeUnknownModel     = "unknown-model"
	CodeUnsupportedModel = "unsupported-model"
	CodeChainOrder       = "chain-order"
	CodeChainMissing     = "chain-missing"
	CodeDottedPrompt     = "dotted-prompt-ref"
	CodeUndefinedParam   = "undefined-param"
	CodeTemplate         = "template"
	CodeSettings         = "settings" // a model setting the API cannot take
)

// Diagnostic is one finding of Validate. Load's errors are Diagnostics
// too (Code CodeSyntax, CodeSchema, or "" for structural problems).
type Diagnostic struct {
	File     string
	Line     int
	Prompt   string
	Severity Severity
	Code     string
	Message  string
	Fix      string
}

// Error is one line: "FILE:LINE: message (fix)".
func (d Diagnostic) Error() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			b.WriteString(":" + strconv.Itoa(d.Line))
		}
		b.WriteString(": ")
	}
	b.WriteString(text.OneLine(d.Message, 0))
	if d.Fix != "" {
		b.WriteString(" (" + text.OneLine(d.Fix, 0) + ")")
	}
	return b.String()
}

// ValidateOptions extend Validate with what a suite supplies.
type ValidateOptions struct {
	Known  []string // parameter names supplied at run time
	Models []string // model names mapped to endpoints (suite `models:`)
}

// Validate runs the semantic checks (duplicate names, unknown models,
// chaining order and cycles, undefined parameters). known lists parameter
// names that will be supplied at run time (a suite's params), so they are
// not reported as undefined.
func Validate(c *Config, known []string) []Diagnostic {
	return ValidateWith(c, ValidateOptions{Known: known})
}

// ValidateWith is Validate with suite-supplied models as well.
func ValidateWith(c *Config, opts ValidateOptions) []Diagnostic {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	meta, prompts, root := c.meta, c.prompts, c.root
	c.mu.RUnlock()
	var ds []Diagnostic
	add := func(p *Prompt, line int, sev Severity, code, msg, fix string) {
		if line == 0 && p != nil {
			line = p.Line
		}
		name := ""
		if p != nil {
			name = p.Name
		}
		ds = append(ds, Diagnostic{File: c.Path, Line: line, Prompt: name, Severity: sev, Code: code, Message: msg, Fix: fix})
	}
	lineOf := func(p *Prompt, path ...string) int {
		if n := nodeAt(root, append([]string{"prompts", strconv.Itoa(p.Index)}, path...)); n != nil {
			return n.Line
		}
		return p.Line
	}
	known := set(opts.Known)
	mapped := set(opts.Models)
	badSetting := map[string]bool{} // settings already reported, for shared global settings
	first := map[string]*Prompt{}
	index := map[string]int{} // first index of each name
	for _, p := range prompts {
		if prev, ok := first[p.Name]; ok {
			add(p, lineOf(p, "name"), SeverityError, CodeDuplicatePrompt,
				fmt.Sprintf("duplicate prompt name %q (first at line %d)", p.Name, prev.Line), "give every prompt a unique name")
			continue
		}
		first[p.Name] = p
		index[p.Name] = p.Index
	}
	for _, p := range prompts {
		model := modelOf(&meta, p)
		switch {
		case model == "":
			add(p, 0, SeverityError, CodeNoModel, fmt.Sprintf("prompt %q has no model and the aiconfig has no default_model", p.Name),
				"set metadata.model on the prompt or metadata.default_model")
		case !declaredModel(&meta, model) && !KnownModel(model) && !mapped[model]:
			add(p, lineOf(p, "metadata", "model"), SeverityError, CodeUnknownModel, fmt.Sprintf("prompt %q uses unknown model %q", p.Name, model),
				"add it to metadata.models or metadata.model_parsers, or map it to an endpoint in the suite's models:")
		default:
			settings := map[string]any{}
			for k, x := range meta.Models[model] {
				settings[k] = x
			}
			for k, x := range p.Settings {
				settings[k] = x
			}
			rt := (&Runtime{}).route(&meta, model, settings)
			if !rt.Supported && !mapped[model] {
				add(p, lineOf(p, "metadata", "model"), SeverityWarning, CodeUnsupportedModel,
					(&UnsupportedError{Model: model, Parser: rt.Parser}).Error(), "")
			}
			if rt.Parser == ParserOpenAI {
				checkSettings(p, model, &meta, root, badSetting, lineOf, add)
			}
		}
		validateTemplates(p, &meta, known, index, prompts, lineOf, add)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Line < ds[j].Line })
	return ds
}

// checkSettings reports settings the API cannot take (a wrong type, a
// number out of range such as max_tokens: 1e30), each once at its line: a
// prompt's own setting, else the model's global one.
func checkSettings(p *Prompt, model string, meta *Metadata, root *yaml.Node, reported map[string]bool,
	lineOf func(*Prompt, ...string) int, add func(*Prompt, int, Severity, string, string, string)) {
	for _, k := range OpenAISettingKeys {
		v, own := p.Settings[k]
		where := "the prompt's model settings"
		if !own {
			var ok bool
			if v, ok = meta.Models[model][k]; !ok {
				continue
			}
			where = "metadata.models." + model
		}
		err := llm.CheckSetting(k, v)
		if err == nil {
			continue
		}
		line := lineOf(p, "metadata", "model", "settings", k)
		if !own {
			line = p.Line
			if n := nodeAt(root, []string{"metadata", "models", model, k}); n != nil {
				line = n.Line
			}
		}
		if id := fmt.Sprintf("%d:%s", line, k); reported[id] {
			continue
		} else {
			reported[id] = true
		}
		add(p, line, SeverityError, CodeSettings, fmt.Sprintf("model %q setting %s: %v", model, k, err), "fix it in "+where)
	}
}

func declaredModel(meta *Metadata, model string) bool {
	_, inModels := meta.Models[model]
	_, inParsers := meta.ModelParsers[model]
	return inModels || inParsers || model == meta.DefaultModel
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// validateTemplates checks what p's input and system prompt reference.
func validateTemplates(p *Prompt, meta *Metadata, known map[string]bool, index map[string]int, prompts []*Prompt,
	lineOf func(*Prompt, ...string) int, add func(*Prompt, int, Severity, string, string, string)) {
	settings := map[string]any{}
	for k, x := range meta.Models[modelOf(meta, p)] {
		settings[k] = x
	}
	for k, x := range p.Settings {
		settings[k] = x
	}
	inputLine := lineOf(p, "input")
	sources := []struct {
		tmpl string
		line int
	}{{inputTemplate(p), inputLine}}
	if sys, ok := systemTemplate(settings); ok {
		sources = append(sources, struct {
			tmpl string
			line int
		}{sys, lineOf(p, "metadata", "model", "settings", settingSystem)})
	}
	defined := func(name string) bool {
		if _, ok := meta.Parameters[name]; ok {
			return true
		}
		if _, ok := p.Parameters[name]; ok {
			return true
		}
		return known[name]
	}
	seen := map[string]bool{}
	for _, src := range sources {
		if dottedRefs(p, src.tmpl, src.line, index, add) {
			continue
		}
		if strings.Contains(src.tmpl, "{{") {
			if err := checkDepth(src.tmpl); err != nil {
				add(p, src.line, SeverityError, CodeTemplate, fmt.Sprintf("prompt %q: template %v", p.Name, err), "flatten the {{#...}} blocks")
				continue
			}
			if _, err := handlebars.Parse(src.tmpl); err != nil {
				add(p, src.line, SeverityError, CodeTemplate, fmt.Sprintf("prompt %q: invalid Handlebars template: %v", p.Name, err), "fix the {{...}} syntax")
				continue
			}
		}
		for _, ref := range TemplateRefs(src.tmpl) {
			if seen[ref.Path] {
				continue
			}
			seen[ref.Path] = true
			validateRef(p, ref, src.line, defined, index, prompts, add)
		}
	}
}

func validateRef(p *Prompt, ref Ref, line int, defined func(string) bool, index map[string]int, prompts []*Prompt,
	add func(*Prompt, int, Severity, string, string, string)) {
	sub := ""
	for _, s := range []string{".output", ".input"} {
		if strings.HasSuffix(ref.Path, s) {
			sub = s
		}
	}
	if i, ok := index[ref.Root]; ok && i < p.Index {
		return
	}
	if defined(ref.Root) {
		return
	}
	if i, ok := index[ref.Root]; ok {
		where, fix := "comes after it", "a prompt can only use earlier prompts: move "+strconv.Quote(ref.Root)+" before "+strconv.Quote(p.Name)
		if i == p.Index {
			where, fix = "is the prompt itself", "a prompt cannot read its own output or input: refer to an earlier prompt"
		}
		add(p, line, SeverityError, CodeChainOrder,
			fmt.Sprintf("prompt %q: {{%s}} refers to prompt %q, which %s", p.Name, ref.Path, prompts[i].Name, where), fix)
		return
	}
	if sub != "" {
		add(p, line, SeverityError, CodeChainMissing,
			fmt.Sprintf("prompt %q: {{%s}} names no prompt %q", p.Name, ref.Path, ref.Root),
			"use the name of an earlier prompt")
		return
	}
	add(p, line, SeverityError, CodeUndefinedParam,
		fmt.Sprintf("prompt %q: parameter %q is defined nowhere; it renders empty", p.Name, ref.Root),
		"define it in metadata.parameters, the prompt's parameters, or the suite's params")
}

// dottedRefs reports {{name.output}} where name is a prompt whose name has
// a dot: Handlebars splits the path at the dot, so such a reference cannot
// reach the prompt (the SDK renders it empty or fails to parse it).
func dottedRefs(p *Prompt, tmpl string, line int, index map[string]int,
	add func(*Prompt, int, Severity, string, string, string)) bool {
	found := false
	for _, ref := range TemplateRefs(tmpl) {
		for _, sub := range []string{".output", ".input"} {
			whole := strings.TrimSuffix(ref.Path, sub)
			if whole == ref.Path || whole == ref.Root || !strings.Contains(whole, ".") {
				continue
			}
			if _, ok := index[whole]; ok {
				add(p, line, SeverityError, CodeDottedPrompt,
					fmt.Sprintf("prompt %q: {{%s}} cannot reach prompt %q: Handlebars splits the name at '.'", p.Name, ref.Path, whole),
					"rename the prompt without dots")
				found = true
			}
		}
	}
	return found
}
