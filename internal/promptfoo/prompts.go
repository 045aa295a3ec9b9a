package promptfoo

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// promptIn is one converted prompt: its aiconfig input and the model
// settings that carry the rest of a chat (system_prompt or messages).
type promptIn struct {
	name     string
	input    string
	settings map[string]any
}

// prompts reads `prompts:` in promptfoo's shapes: a string, a list of
// strings (inline text or file://), of {id|raw, label}, or a map of
// file:// path to label.
func (im *importer) prompts(n *yaml.Node) []promptIn {
	var out []promptIn
	used := map[string]bool{}
	add := func(ps []promptIn) {
		for _, p := range ps {
			name := p.name
			for i := 2; used[name]; i++ {
				name = p.name + "_" + strconv.Itoa(i)
			}
			used[name] = true
			p.name = name
			out = append(out, p)
		}
	}
	one := func(text, label string, at *yaml.Node) {
		add(im.prompt(text, label, at, len(out)+1))
	}
	switch n.Kind {
	case yaml.ScalarNode:
		one(n.Value, "", n)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			c = resolveAlias(c)
			switch c.Kind {
			case yaml.ScalarNode:
				one(c.Value, "", c)
			case yaml.MappingNode:
				keys, f, at := fields(c)
				text, label := "", ""
				for _, k := range keys {
					switch k {
					case "id", "raw":
						text = f[k].Value
					case "label":
						label = f[k].Value
					case "config":
						im.noteAt(at[k], "prompt config: not mapped (put model settings on the provider)")
					default:
						im.noteAt(at[k], "prompt %s: not mapped", k)
					}
				}
				if text == "" {
					im.noteAt(c, "prompt without id or raw: skipped")
					continue
				}
				one(text, label, c)
			default:
				im.noteAt(c, "prompt: expected text or {id, label}: skipped")
			}
		}
	case yaml.MappingNode:
		keys, f, at := fields(n)
		if _, isObj := f["raw"]; isObj || f["id"] != nil {
			return im.prompts(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}})
		}
		for _, k := range keys {
			one(k, f[k].Value, at[k])
		}
	}
	return out
}

// prompt converts one prompt: inline text (or an inline JSON chat), or a
// file:// reference, which may hold several prompts.
func (im *importer) prompt(text, label string, at *yaml.Node, index int) []promptIn {
	name := slug(label)
	if label == "" {
		name = "prompt_" + strconv.Itoa(index)
	}
	if !strings.HasPrefix(text, "file://") {
		p, ok := im.textPrompt(name, text, at)
		if !ok {
			return nil
		}
		return []promptIn{p}
	}
	ref := strings.TrimPrefix(text, "file://")
	path := im.ref(text)
	if i := strings.LastIndex(ref, ":"); i > 0 && !strings.Contains(ref[i:], "/") {
		im.noteAt(at, "prompt %s: a function in a prompt file is JavaScript/Python; not mapped: write the prompt text or chat JSON it returns", text)
		return nil
	}
	files := []string{path}
	if strings.ContainsAny(path, "*?[") {
		m, err := filepath.Glob(path)
		if err != nil || len(m) == 0 {
			im.noteAt(at, "prompt %s: no file matches", text)
			return nil
		}
		files = m
	}
	var out []promptIn
	for _, f := range files {
		base := slug(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
		if label != "" && len(files) == 1 {
			base = slug(label)
		}
		out = append(out, im.filePrompts(base, f, at)...)
	}
	return out
}

func (im *importer) filePrompts(name, path string, at *yaml.Node) []promptIn {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".js", ".cjs", ".mjs", ".ts", ".py":
		im.noteAt(at, "prompt file %s is a %s function; not mapped: write the prompt it returns as text or chat JSON", im.rel(path), ext)
		return nil
	}
	data, err := readLimited(path)
	if err != nil {
		im.noteAt(at, "prompt: %v", err)
		return nil
	}
	text := string(data)
	switch ext {
	case ".json", ".yaml", ".yml":
		msgs, err := chatMessages(text, ext != ".json")
		if err != nil {
			im.noteAt(at, "prompt file %s: %v; not mapped", im.rel(path), err)
			return nil
		}
		p, ok := im.chatPrompt(name, msgs, path, at)
		if !ok {
			return nil
		}
		return []promptIn{p}
	case ".jsonl":
		var out []promptIn
		for i, line := range strings.Split(text, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			msgs, err := chatMessages(line, false)
			if err != nil {
				im.note(path, i+1, "chat prompt: %v; not mapped", err)
				continue
			}
			if p, ok := im.chatPrompt(name+"_"+strconv.Itoa(len(out)+1), msgs, path, at); ok {
				out = append(out, p)
			}
		}
		return out
	}
	// Text (.txt, .md, .j2, ...): promptfoo splits a file on lines of ---.
	parts, lines := splitPrompts(text)
	var out []promptIn
	for i, part := range parts {
		n := name
		if len(parts) > 1 {
			n = name + "_" + strconv.Itoa(i+1)
		}
		if p, ok := im.textPromptIn(n, part, path, lines[i], at); ok {
			out = append(out, p)
		}
	}
	return out
}

// splitPrompts splits a prompt file on lines of ---, returning each part
// and the line it starts on.
func splitPrompts(s string) (parts []string, lines []int) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	line := 1
	for _, p := range strings.Split(s, "\n---\n") {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, strings.TrimSuffix(p, "\n"))
			lines = append(lines, line)
		}
		line += strings.Count(p, "\n") + 2
	}
	if len(parts) == 0 {
		return []string{s}, []int{1}
	}
	return parts, lines
}

// textPrompt converts inline text, which may be a JSON chat.
func (im *importer) textPrompt(name, text string, at *yaml.Node) (promptIn, bool) {
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") {
		if msgs, err := chatMessages(t, false); err == nil {
			return im.chatPrompt(name, msgs, "", at)
		}
	}
	return im.textPromptIn(name, text, "", 1, at)
}

// textPromptIn converts a text prompt; file and line say where it starts
// when it comes from a file.
func (im *importer) textPromptIn(name, text, file string, line int, at *yaml.Node) (promptIn, bool) {
	in := im.template(text, file, line, at, "prompt "+name)
	if strings.TrimSpace(in) == "" {
		im.noteAt(at, "prompt %s is empty: skipped", name)
		return promptIn{}, false
	}
	return promptIn{name: name, input: in}, true
}

type chatMsg struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// chatMessages parses promptfoo's chat format: a JSON (or YAML) list of
// {role, content}.
func chatMessages(text string, isYAML bool) ([]chatMsg, error) {
	var msgs []chatMsg
	var err error
	if isYAML {
		err = yaml.Unmarshal([]byte(text), &msgs)
	} else {
		err = json.Unmarshal([]byte(text), &msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("not a chat (a list of {role, content}): %v", err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("the chat has no message")
	}
	for i, m := range msgs {
		if m.Role == "" {
			return nil, fmt.Errorf("message %d has no role", i+1)
		}
	}
	return msgs, nil
}

// chatPrompt maps a chat: the last user message is the input; one system
// message before it becomes system_prompt, anything longer the settings'
// messages (a conversation prefix the runtime sends before the input).
func (im *importer) chatPrompt(name string, msgs []chatMsg, file string, at *yaml.Node) (promptIn, bool) {
	where := file
	if where == "" {
		where = "inline chat"
	}
	last := msgs[len(msgs)-1]
	if last.Role != "user" {
		im.noteAt(at, "prompt %s (%s): the last message is %q, not user; aieval sends the input last: not mapped", name, where, last.Role)
		return promptIn{}, false
	}
	text := func(m chatMsg) (string, bool) {
		s, ok := m.Content.(string)
		if !ok {
			im.noteAt(at, "prompt %s (%s): a %s message whose content is not text (images, parts): not mapped", name, where, m.Role)
		}
		return im.template(s, file, 1, at, "prompt "+name), ok
	}
	input, ok := text(last)
	if !ok {
		return promptIn{}, false
	}
	p := promptIn{name: name, input: input}
	prefix := msgs[:len(msgs)-1]
	switch {
	case len(prefix) == 0:
	case len(prefix) == 1 && prefix[0].Role == "system":
		s, ok := text(prefix[0])
		if !ok {
			return promptIn{}, false
		}
		p.settings = map[string]any{"system_prompt": s}
	default:
		var ms []any
		for _, m := range prefix {
			s, ok := text(m)
			if !ok {
				return promptIn{}, false
			}
			ms = append(ms, map[string]any{"role": m.Role, "content": s})
		}
		p.settings = map[string]any{"messages": ms}
	}
	return p, true
}
