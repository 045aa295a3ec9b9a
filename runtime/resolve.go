package runtime

import (
	"encoding/json"
	"sort"

	"github.com/aieval/aieval/runtime/internal/handlebars"
	"github.com/aieval/aieval/runtime/llm"
)

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
