package runtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aieval/aieval/runtime/internal/handlebars"
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
	if out := keepKeys(s, OpenAISettingKeys); out != nil {
		return out
	}
	return map[string]any{}
}

// keepKeys is s restricted to keys, nil when none is set: most prompts
// send no setting, and a request's Settings is then nil anyway.
func keepKeys(s map[string]any, keys []string) map[string]any {
	if len(s) == 0 {
		return nil
	}
	return keepSet(s, keySet(keys))
}

// keepSet is keepKeys with the keys as a set: a model's settings are a
// few keys, so looking each up in the set costs less than looking every
// allowed key up in them.
func keepSet(s map[string]any, keys map[string]bool) map[string]any {
	var out map[string]any
	for k, v := range s {
		if keys[k] {
			if out == nil {
				out = make(map[string]any, len(s))
			}
			out[k] = v
		}
	}
	return out
}

// keySet is keys as a set.
func keySet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

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
			err = fmt.Errorf("render template: %s", oneLine(fmt.Sprint(r)))
		}
	}()
	// raymond's messages span lines ("Parse error on line 1:\nExpecting
	// ..."); errors here are one line, as every aieval error.
	tpl, err := parseTemplate(tmpl)
	if err != nil {
		return "", fmt.Errorf("parse template: %s", oneLine(err.Error()))
	}
	out, err = tpl.ExecMap(params)
	if err != nil {
		return "", fmt.Errorf("render template: %s", oneLine(err.Error()))
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

// chatKeys mark a prompt input written as a chat message ({role, content,
// name, function_call, ...}), the form the SDK's serialize() writes for
// function results, rather than as {data, attachments}.
var chatKeys = []string{"role", "content", "name", "function_call", "tool_calls", "tool_call_id"}

// chatInput returns the input as a chat message, if it is one: an object
// whose data is not a string (the SDK's is_prompt_template is false) and
// that has a chat message field.
func chatInput(p *Prompt) (map[string]any, bool) {
	in, ok := p.Input.(map[string]any)
	if !ok {
		return nil, false
	}
	if _, ok := in["data"].(string); ok {
		return nil, false
	}
	for _, k := range chatKeys {
		if _, ok := in[k]; ok {
			return in, true
		}
	}
	return nil, false
}

// inputTemplate is the prompt's raw template: the input string, the string
// data of an input object, or the content of a chat-message input (the
// SDK's get_prompt_template).
func inputTemplate(p *Prompt) string {
	if in, ok := chatInput(p); ok {
		c, _ := in["content"].(string)
		return c
	}
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

// settingsMessages are the model settings' `messages` (a conversation
// prefix), when it is a non-empty list: the SDK then renders each and
// sends them instead of the system prompt and chat history.
func settingsMessages(settings map[string]any) ([]any, bool) {
	ms, ok := settings[settingMessages].([]any)
	return ms, ok && len(ms) > 0
}

// promptTemplates are the templates a prompt renders besides its input:
// the settings messages' contents when there are any, else the system
// prompt.
func promptTemplates(settings map[string]any) []string {
	if ms, ok := settingsMessages(settings); ok {
		var out []string
		for _, m := range ms {
			if c, ok := asMap(m)["content"].(string); ok {
				out = append(out, c)
			}
		}
		return out
	}
	if sys, ok := systemTemplate(settings); ok {
		return []string{sys}
	}
	return nil
}

// promptRefs lists what a prompt's input, system prompt and settings
// messages read. Callers must not modify the list's elements (they may
// append: it is a fresh slice or one at full capacity).
func promptRefs(p *Prompt, settings map[string]any) []Ref {
	refs := cachedRefs(inputTemplate(p))
	for _, t := range promptTemplates(settings) {
		if more := cachedRefs(t); len(more) > 0 {
			refs = append(refs[:len(refs):len(refs)], more...)
		}
	}
	return refs
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

// settingMessages is the model setting holding a conversation prefix.
const settingMessages = "messages"

// runView is a Run's picture of the config: the prompts as loaded plus the
// outputs produced during this Run, which win over saved ones.
type runView struct {
	meta    Metadata
	prompts []*Prompt
	fresh   map[int]*llm.Response
	// placeholder marks fresh outputs a dry run made up (see DryRun).
	placeholder map[int]bool
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

// outputTurn is p's output as the SDK replays it in chat history, and the
// tool calls it holds (see historyTurn).
func (v *runView) outputTurn(p *Prompt) (llm.Message, json.RawMessage, bool) {
	if res, ok := v.fresh[p.Index]; ok {
		if res.Text == "" && len(res.ToolCalls) > 0 {
			var calls []any
			if json.Unmarshal(res.ToolCalls, &calls) == nil {
				return toolCallsTurn(calls, "")
			}
		}
		return llm.Message{Role: "assistant", Content: res.Text}, nil, true
	}
	if out := latestOutput(p); out != nil {
		return outputMessage(out)
	}
	return llm.Message{}, nil, false
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
// earlier prompts' {input, output}, global, prompt, run-time. Objects are
// *handlebars.Object, so templates walk them in a fixed order.
//
// The map may be runParams itself (nothing else to merge, nothing to
// convert): callers only read it.
func (v *runView) params(p *Prompt, runParams map[string]any) map[string]any {
	if p.Index == 0 && len(v.meta.tparams) == 0 && len(p.tparams) == 0 && plainValues(runParams) {
		return runParams
	}
	out := make(map[string]any, p.Index+len(v.meta.tparams)+len(p.tparams)+len(runParams))
	for _, prev := range v.prompts[:p.Index] {
		ref := handlebars.NewObject(2)
		ref.Set("input", inputTemplate(prev))
		ref.Set("output", nil)
		if text, ok := v.outputText(prev); ok {
			ref.Set("output", text)
		}
		out[prev.Name] = ref
	}
	for k, x := range v.meta.tparams {
		out[k] = x
	}
	for k, x := range p.tparams {
		out[k] = x
	}
	for k, x := range runParams {
		out[k] = templateValue(x)
	}
	return out
}

// plainValues reports whether templateValue leaves every value of m as
// it is (no map or list to convert).
func plainValues(m map[string]any) bool {
	for _, x := range m {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// missing lists refs whose root is not defined in params, sorted.
func missing(refs []Ref, params map[string]any) []string {
	var seen map[string]bool // made at the first miss: most runs have none
	var out []string
	for _, r := range refs {
		if _, ok := params[r.Root]; !ok && !seen[r.Root] {
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[r.Root] = true
			out = append(out, r.Root)
		}
	}
	sort.Strings(out)
	return out
}

// promptMessage resolves a prompt into its chat turn, as the SDK's
// add_prompt_as_message: a template input is a user turn (aieval also
// honours a role and name written next to data, and sends attachments); a
// chat-message input keeps its role, name and function_call (and, which
// the SDK drops though the API needs them, tool_calls and tool_call_id).
func (v *runView) promptMessage(p *Prompt, params map[string]any) (llm.Message, error) {
	text, err := render(inputTemplate(p), params)
	if err != nil {
		return llm.Message{}, fmt.Errorf("resolve prompt %q: %w", p.Name, err)
	}
	if in, ok := chatInput(p); ok {
		msg, err := chatMessage(in, text)
		if err != nil {
			return llm.Message{}, fmt.Errorf("prompt %q input: %w", p.Name, err)
		}
		return msg, nil
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

// chatMessage maps a chat message written in the file ({role, content,
// name, function_call, tool_calls, tool_call_id}) to a turn whose content
// is text (already rendered). A missing role is "user", as in the SDK.
func chatMessage(m map[string]any, text string) (llm.Message, error) {
	msg := llm.Message{Role: "user", Content: text}
	if role, ok := m["role"].(string); ok && role != "" {
		msg.Role = role
	}
	msg.Name, _ = m["name"].(string)
	msg.ToolCallID, _ = m["tool_call_id"].(string)
	if fc := m["function_call"]; fc != nil {
		b, err := json.Marshal(fc)
		if err != nil {
			return msg, fmt.Errorf("function_call: %w", err)
		}
		msg.FunctionCall = b
	}
	if tc := m["tool_calls"]; tc != nil {
		calls, ok := tc.([]any)
		if !ok {
			return msg, fmt.Errorf("tool_calls is a %T, want a list", tc)
		}
		msg.ToolCalls = cleanToolCalls(calls)
	}
	return msg, nil
}

// settingsTurns renders the model settings' messages (the SDK's
// resolve_prompt_string on each content) into turns.
func settingsTurns(p *Prompt, ms []any, params map[string]any) ([]llm.Message, error) {
	out := make([]llm.Message, 0, len(ms))
	for i, raw := range ms {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("prompt %q: model setting messages[%d] is a %T, want an object {role, content}", p.Name, i, raw)
		}
		text := ""
		switch c := m["content"].(type) {
		case string:
			var err error
			if text, err = render(c, params); err != nil {
				return nil, fmt.Errorf("resolve model setting messages[%d] of %q: %w", i, p.Name, err)
			}
		case nil:
		default:
			return nil, fmt.Errorf("prompt %q: model setting messages[%d].content is a %T, want a string", p.Name, i, c)
		}
		msg, err := chatMessage(m, text)
		if err != nil {
			return nil, fmt.Errorf("prompt %q: model setting messages[%d]: %w", p.Name, i, err)
		}
		out = append(out, msg)
	}
	return out, nil
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
	return r.settingsAs(meta, p, "")
}

// settingsAs is settingsFor with the prompt's model first replaced by as
// (a matrix model, RunOptions.Model; "" keeps it), renamed the same way a
// --model mapping renames; the mapping then applies to the new model.
//
// The map may be the Config's own (when there is nothing to merge):
// callers read it and never change it.
func (r *Runtime) settingsAs(meta *Metadata, p *Prompt, as string) (model string, settings map[string]any) {
	model = modelOf(meta, p)
	if as == "" || as == model {
		if to, ok := r.opts.ModelMap[model]; !ok || to == model {
			// Nothing renamed: one of the two maps alone, shared, spares
			// a merged copy per call.
			switch g := meta.Models[model]; {
			case len(p.Settings) == 0:
				return model, g
			case len(g) == 0:
				return model, p.Settings
			}
		}
	}
	settings = make(map[string]any, len(meta.Models[model])+len(p.Settings))
	for k, x := range meta.Models[model] {
		settings[k] = x
	}
	for k, x := range p.Settings {
		settings[k] = x
	}
	rename := func(to string) {
		model = to
		for _, k := range []string{settingModelField, settingBaseURL, settingAPIKeyEnv, settingProvider} {
			delete(settings, k)
		}
		for k, x := range meta.Models[model] {
			settings[k] = x
		}
	}
	if as != "" && as != model {
		rename(as)
	}
	if to, ok := r.opts.ModelMap[model]; ok && to != model {
		rename(to)
	}
	return model, settings
}
