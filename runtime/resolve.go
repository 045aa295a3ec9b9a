package runtime

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aymerick/raymond"

	"github.com/aieval/aieval/runtime/llm"
)

// OpenAISettingKeys are the settings sent to the model API; every other
// key in model settings (system_prompt, stream, base_url, provider, SDK
// extras...) stays in aieval.
var OpenAISettingKeys = []string{
	"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "n",
	"presence_penalty", "frequency_penalty", "logit_bias", "tools", "tool_choice",
	"functions", "function_call", "response_format", "seed", "user", "logprobs", "top_logprobs",
}

// FilterSettings keeps only OpenAISettingKeys.
func FilterSettings(s map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range OpenAISettingKeys {
		if v, ok := s[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Ref is one variable a template reads at its top-level context.
type Ref struct {
	Root string // first path segment: a parameter or prompt name
	Path string // the whole path, e.g. "get_activities.output"
}

// tagRE finds mustaches the way the SDK's get_parameters_in_template does.
var tagRE = regexp.MustCompile(`(?s){{[{]?(.*?)[}]?}}`)

var blockHelpers = map[string]bool{"if": true, "unless": true, "each": true, "with": true}

// TemplateRefs lists the variables a Handlebars template reads from its
// root context. Variables inside #each/#with bodies are relative to the
// item and are left out, as the SDK does.
func TemplateRefs(tmpl string) []Ref {
	var refs []Ref
	var stack []bool // true: the block changes the context
	nested := func() bool {
		for _, n := range stack {
			if n {
				return true
			}
		}
		return false
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
	for _, m := range tagRE.FindAllStringSubmatch(tmpl, -1) {
		tag := strings.Trim(strings.TrimSpace(m[1]), "~&")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag[0] == '!' || tag[0] == '>' || tag == "else" || tag == "^" {
			continue
		}
		fields := strings.Fields(tag)
		switch tag[0] {
		case '#', '^':
			name := strings.TrimPrefix(strings.TrimPrefix(fields[0], "#"), "^")
			if blockHelpers[name] {
				for _, f := range fields[1:] {
					add(f)
				}
				stack = append(stack, name == "each" || name == "with")
			} else {
				add(name) // a section: {{#items}}...{{/items}}
				stack = append(stack, true)
			}
			continue
		case '/':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if strings.HasPrefix(tag, "else ") {
			continue
		}
		if len(fields) > 1 && (fields[0] == "lookup" || fields[0] == "log") {
			fields = fields[1:]
		}
		for _, f := range fields {
			add(f)
		}
	}
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

// render executes a Handlebars template with params. raymond recovers
// its own panics; the extra recover keeps fuzzed input from crashing us.
func render(tmpl string, params map[string]any) (out string, err error) {
	if !strings.Contains(tmpl, "{{") {
		return tmpl, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render template: %s", oneLine(fmt.Sprint(r)))
		}
	}()
	// raymond's messages span lines ("Parse error on line 1:\nExpecting
	// ..."); errors here are one line, as every aieval error.
	tpl, err := parseTemplate(tmpl)
	if err != nil {
		return "", fmt.Errorf("parse template: %s", oneLine(err.Error()))
	}
	out, err = tpl.Exec(params)
	if err != nil {
		return "", fmt.Errorf("render template: %s", oneLine(err.Error()))
	}
	return out, nil
}

// templates caches parsed templates: a suite renders the same few
// templates for every test, and lexing them each time was a measurable share
// of the harness's CPU. A parsed raymond template is read-only, so one may be
// executed concurrently. The cache stops growing at maxTemplates entries
// (templates come from config files, so real runs stay far below).
var (
	templates     sync.Map // string -> *raymond.Template
	templateCount atomic.Int64
)

const maxTemplates = 4096

func parseTemplate(src string) (*raymond.Template, error) {
	if t, ok := templates.Load(src); ok {
		return t.(*raymond.Template), nil
	}
	t, err := raymond.Parse(src)
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

// inputTemplate is the prompt's raw template: the input string, or the
// string data of an input object.
func inputTemplate(p *Prompt) string {
	switch in := p.Input.(type) {
	case string:
		return in
	case map[string]any:
		switch d := in["data"].(type) {
		case string:
			return d
		case nil:
			return ""
		default:
			b, _ := json.Marshal(d)
			return string(b)
		}
	}
	return ""
}

// systemTemplate is settings.system_prompt as a string (it may be written
// as a {role, content} message).
func systemTemplate(settings map[string]any) (string, bool) {
	switch s := settings[settingSystem].(type) {
	case string:
		return s, true
	case map[string]any:
		c, _ := s["content"].(string)
		return c, true
	}
	return "", false
}

// promptRefs lists what a prompt's input and system prompt read.
func promptRefs(p *Prompt, settings map[string]any) []Ref {
	refs := TemplateRefs(inputTemplate(p))
	if sys, ok := systemTemplate(settings); ok {
		refs = append(refs, TemplateRefs(sys)...)
	}
	return refs
}

// runView is a Run's picture of the config: the prompts as loaded plus the
// outputs produced during this Run, which win over saved ones.
type runView struct {
	meta    Metadata
	prompts []*Prompt
	fresh   map[int]*llm.Response
}

func (v *runView) outputText(p *Prompt) (string, bool) {
	if res, ok := v.fresh[p.Index]; ok {
		return responseText(res), true
	}
	if out := latestOutput(p); out != nil {
		return outputText(out), true
	}
	return "", false
}

func (v *runView) outputTurn(p *Prompt) (llm.Message, bool) {
	if res, ok := v.fresh[p.Index]; ok {
		return llm.Message{Role: "assistant", Content: res.Text, ToolCalls: res.ToolCalls}, true
	}
	if out := latestOutput(p); out != nil {
		return outputMessage(out)
	}
	return llm.Message{}, false
}

// responseText is a response as prompt-output text: the text, else the
// tool calls as JSON (as the SDK's get_output_text).
func responseText(res *llm.Response) string {
	if res.Text == "" && len(res.ToolCalls) > 0 {
		return string(res.ToolCalls)
	}
	return res.Text
}

// params builds the parameters a prompt resolves with, later wins:
// earlier prompts' {input, output}, global, prompt, run-time.
func (v *runView) params(p *Prompt, runParams map[string]any) map[string]any {
	out := map[string]any{}
	for _, prev := range v.prompts[:p.Index] {
		ref := map[string]any{"input": inputTemplate(prev), "output": nil}
		if text, ok := v.outputText(prev); ok {
			ref["output"] = text
		}
		out[prev.Name] = ref
	}
	for k, x := range v.meta.Parameters {
		out[k] = x
	}
	for k, x := range p.Parameters {
		out[k] = x
	}
	for k, x := range runParams {
		out[k] = x
	}
	return out
}

// missing lists refs whose root is not defined in params, sorted.
func missing(refs []Ref, params map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		if _, ok := params[r.Root]; !ok && !seen[r.Root] {
			seen[r.Root] = true
			out = append(out, r.Root)
		}
	}
	sort.Strings(out)
	return out
}

// promptMessage resolves a prompt into its chat turn.
func (v *runView) promptMessage(p *Prompt, params map[string]any) (llm.Message, error) {
	text, err := render(inputTemplate(p), params)
	if err != nil {
		return llm.Message{}, fmt.Errorf("resolve prompt %q: %w", p.Name, err)
	}
	msg := llm.Message{Role: "user", Content: text}
	in, ok := p.Input.(map[string]any)
	if !ok {
		return msg, nil
	}
	if role, ok := in["role"].(string); ok && role != "" {
		msg.Role = role
	}
	msg.Name, _ = in["name"].(string)
	atts, _ := in["attachments"].([]any)
	if len(atts) == 0 {
		return msg, nil
	}
	if text != "" {
		msg.Parts = append(msg.Parts, llm.Part{Type: "text", Text: text})
	}
	for _, a := range atts {
		if part, ok := attachmentPart(asMap(a)); ok {
			msg.Parts = append(msg.Parts, part)
		}
	}
	msg.Content = ""
	return msg, nil
}

// attachmentPart maps an attachment to an OpenAI content part: images as
// image_url (base64 becomes a data: URL), anything else as text.
func attachmentPart(a map[string]any) (llm.Part, bool) {
	mime, _ := a["mime_type"].(string)
	var value, kind string
	switch d := a["data"].(type) {
	case string:
		value = d
	case map[string]any:
		kind, _ = d["kind"].(string)
		value, _ = d["value"].(string)
		if kind == "" && value == "" {
			b, _ := json.Marshal(d)
			value = string(b)
		}
	case nil:
		return llm.Part{}, false
	default:
		b, _ := json.Marshal(d)
		value = string(b)
	}
	if strings.HasPrefix(mime, "image/") {
		url := value
		if kind == "base64" && !strings.HasPrefix(value, "data:") {
			url = "data:" + mime + ";base64," + value
		}
		detail, _ := asMap(a["metadata"])["detail"].(string)
		return llm.Part{Type: "image_url", ImageURL: url, Detail: detail}, true
	}
	return llm.Part{Type: "text", Text: value}, true
}

// modelOf is the prompt's model name before any --model mapping.
func modelOf(meta *Metadata, p *Prompt) string {
	if p.Model != "" {
		return p.Model
	}
	return meta.DefaultModel
}

// settingsFor merges settings as the SDK's get_model_settings, then applies
// a --model rename: the new model's global settings win, the prompt's other
// settings stay, and keys that pinned the old model are dropped.
func (r *Runtime) settingsFor(meta *Metadata, p *Prompt) (model string, settings map[string]any) {
	model = modelOf(meta, p)
	settings = map[string]any{}
	for k, x := range meta.Models[model] {
		settings[k] = x
	}
	for k, x := range p.Settings {
		settings[k] = x
	}
	if to, ok := r.opts.ModelMap[model]; ok && to != model {
		model = to
		for _, k := range []string{settingModelField, settingBaseURL, settingAPIKeyEnv, settingProvider} {
			delete(settings, k)
		}
		for k, x := range meta.Models[model] {
			settings[k] = x
		}
	}
	return model, settings
}
