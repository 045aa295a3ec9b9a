// Package runtime loads, validates, resolves and runs AIConfig prompts the
// way the AIConfig SDK does. It knows nothing of tests or reports.
package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/runtime/internal/handlebars"
)

// Config is one loaded aiconfig document. Run never mutates it; SetOutput
// does, under its own lock.
type Config struct {
	Path string // file it was loaded from ("" when built in memory)

	mu     sync.RWMutex
	format string     // "json" or "yaml"
	sha    string     // of the bytes as loaded
	doc    *yaml.Node // YAML document node (nil for JSON)
	root   *yaml.Node // top-level mapping, shared by both formats
	name   string
	meta   Metadata
	// prompts is never changed in place once built (SetOutput replaces
	// it), so a Run may keep the slice without copying it.
	prompts []*Prompt
}

// Metadata is the typed view of the top-level metadata.
type Metadata struct {
	Parameters   map[string]any
	Models       map[string]map[string]any // global settings by model name
	DefaultModel string
	ModelParsers map[string]string // model name -> parser id

	tparams map[string]any // Parameters as templates see them (ordered objects)
}

// Prompt is one entry of prompts[].
type Prompt struct {
	Name  string
	Index int // position in prompts[]
	Line  int // line of the prompt in the file
	// Input is the raw input: a template string, or an object with data
	// and attachments.
	Input any
	// Model is the model name as written (string model or model.name);
	// empty means default_model.
	Model string
	// Settings are the prompt's own model settings (object model only).
	Settings            map[string]any
	Parameters          map[string]any
	RememberChatContext bool // on unless set to false
	Tags                []string
	// Outputs are the saved outputs, decoded; the last is the latest.
	Outputs []any

	tparams map[string]any // Parameters as templates see them (ordered objects)
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// Load reads and validates (schema + structure) an aiconfig file, JSON or YAML
// by extension. Errors are one line: "FILE:LINE: what is wrong (how to fix)".
func Load(path string) (*Config, error) {
	data, err := safefile.ReadFile(path, safefile.Limit())
	if err != nil {
		return nil, Diagnostic{File: path, Message: "read aiconfig: " + cleanPathErr(err), Fix: "check the path and its permissions"}
	}
	return Parse(data, path)
}

func cleanPathErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Load is Load with on_deserialize_* callbacks.
func (r *Runtime) Load(ctx context.Context, path string) (*Config, error) {
	r.opts.Callbacks.Emit(ctx, Event{Name: EventDeserializeStart, File: path})
	c, err := Load(path)
	data := map[string]any{}
	if err != nil {
		data["error"] = err.Error()
	} else {
		data["prompts"] = c.PromptNames()
	}
	r.opts.Callbacks.Emit(ctx, Event{Name: EventDeserializeDone, File: path, Data: data})
	return c, err
}

// Parse is Load on bytes; path is used for messages and to pick the format.
func Parse(data []byte, path string) (*Config, error) {
	format := formatOf(path, data)
	var root, doc *yaml.Node
	var err error
	if format == "json" {
		root, err = jsonTree(data, path)
	} else {
		doc, err = yamlTree(data, path)
		if doc != nil {
			root = doc
			if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
				root = doc.Content[0]
			}
		}
	}
	if err != nil {
		return nil, withCode(err, CodeSyntax)
	}
	if r := resolveAlias(root); r == nil || r.Kind != yaml.MappingNode {
		line := 1
		if root != nil {
			line = root.Line
		}
		return nil, Diagnostic{File: path, Line: line, Message: "top level is not an object", Fix: "an aiconfig is an object with name, schema_version, metadata and prompts"}
	}
	if err := duplicateKey(root, path, 0); err != nil {
		return nil, err
	}
	val, err := nodeValue(root, budgetFor(root), 0)
	if err != nil {
		return nil, Diagnostic{File: path, Line: 1, Message: err.Error(), Fix: "simplify the document"}
	}
	if err := validateSchema(val, root, path); err != nil {
		return nil, withCode(err, CodeSchema)
	}
	sum := sha256.Sum256(data)
	c := &Config{Path: path, format: format, sha: hex.EncodeToString(sum[:]), doc: doc, root: root}
	if err := c.build(val); err != nil {
		return nil, err
	}
	return c, nil
}

// formatOf picks the format by extension, else by sniffing.
func formatOf(path string, data []byte) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return "json"
	}
	return "yaml"
}

// build fills the typed view from the decoded document. The schema has been
// checked, but assertions stay defensive: fuzzed input reaches here too.
func (c *Config) build(val any) error {
	top, _ := val.(map[string]any)
	c.name, _ = top["name"].(string)
	md, _ := top["metadata"].(map[string]any)
	c.meta = Metadata{
		Parameters:   asMap(md["parameters"]),
		Models:       map[string]map[string]any{},
		ModelParsers: map[string]string{},
	}
	c.meta.DefaultModel, _ = md["default_model"].(string)
	c.meta.tparams = templateParams(mapGet(mapGet(c.root, "metadata"), "parameters"), c.meta.Parameters)
	for k, v := range asMap(md["models"]) {
		c.meta.Models[k] = asMap(v)
	}
	for k, v := range asMap(md["model_parsers"]) {
		if s, ok := v.(string); ok {
			c.meta.ModelParsers[k] = s
		}
	}
	promptsNode := resolveAlias(mapGet(c.root, "prompts"))
	ps, _ := top["prompts"].([]any)
	c.prompts = make([]*Prompt, 0, len(ps))
	for i, pv := range ps {
		pm := asMap(pv)
		p := &Prompt{Index: i, Input: pm["input"], RememberChatContext: true}
		p.Name, _ = pm["name"].(string)
		if promptsNode != nil && i < len(promptsNode.Content) {
			p.Line = promptsNode.Content[i].Line
		}
		if strings.TrimSpace(p.Name) == "" {
			line := p.Line
			if n := nodeAt(c.root, []string{"prompts", fmt.Sprint(i), "name"}); n != nil {
				line = n.Line
			}
			return Diagnostic{File: c.Path, Line: line, Message: fmt.Sprintf("prompt %d has an empty name", i+1), Fix: "give every prompt a unique name"}
		}
		pmd := asMap(pm["metadata"])
		switch m := pmd["model"].(type) {
		case string:
			p.Model = m
		case map[string]any:
			p.Model, _ = m["name"].(string)
			p.Settings = asMap(m["settings"])
		}
		p.Parameters = asMap(pmd["parameters"])
		var pnode *yaml.Node
		if promptsNode != nil && i < len(promptsNode.Content) {
			pnode = mapGet(mapGet(promptsNode.Content[i], "metadata"), "parameters")
		}
		p.tparams = templateParams(pnode, p.Parameters)
		if b, ok := pmd["remember_chat_context"].(bool); ok {
			p.RememberChatContext = b
		}
		if tags, ok := pmd["tags"].([]any); ok {
			for _, t := range tags {
				if s, ok := t.(string); ok {
					p.Tags = append(p.Tags, s)
				}
			}
		}
		p.Outputs, _ = pm["outputs"].([]any)
		c.prompts = append(c.prompts, p)
	}
	return nil
}

// templateParams decodes a parameters mapping for templates, keeping each
// object's key order; plain is the same mapping decoded as plain maps, the
// fallback when the node is not there (the two agree on keys).
func templateParams(n *yaml.Node, plain map[string]any) map[string]any {
	if n = resolveAlias(n); n != nil && n.Kind == yaml.MappingNode {
		if v, err := orderedValue(n, budgetFor(n), 0); err == nil {
			if o, ok := v.(*handlebars.Object); ok {
				out := make(map[string]any, o.Len())
				for _, k := range o.Keys() {
					out[k], _ = o.Get(k)
				}
				return out
			}
		}
	}
	out := make(map[string]any, len(plain))
	for k, v := range plain {
		out[k] = templateValue(v)
	}
	return out
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// Name is the aiconfig's name, or the file's base name without extensions.
func (c *Config) Name() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.name != "" {
		return c.name
	}
	base := filepath.Base(c.Path)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// SHA256 is the hex digest of the file as loaded.
func (c *Config) SHA256() string { return c.sha }

// Metadata returns the typed top-level metadata. Callers must not modify it.
func (c *Config) Metadata() Metadata {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.meta
}

// Prompt returns the named prompt (the first, if names repeat).
func (c *Config) Prompt(name string) (*Prompt, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, p := range c.prompts {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Prompts lists the prompts in file order. Callers must not modify them.
func (c *Config) Prompts() []*Prompt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]*Prompt(nil), c.prompts...)
}

// PromptNames lists prompts in file order.
func (c *Config) PromptNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, len(c.prompts))
	for i, p := range c.prompts {
		names[i] = p.Name
	}
	return names
}

// Save writes the document back, keeping unknown fields and key order. The
// format follows path's extension (JSON unless .yaml/.yml).
func (c *Config) Save(path string) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var buf bytes.Buffer
	if formatOf(path, []byte("{")) == "yaml" {
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		target := c.doc
		if target == nil {
			target = c.root
		}
		if err := enc.Encode(target); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		if err := enc.Close(); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
	} else {
		if err := encodeJSON(&buf, c.root, 0); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("save aiconfig: %w", err)
	}
	return nil
}

// Save is Config.Save with on_serialize_* callbacks.
func (r *Runtime) Save(ctx context.Context, c *Config, path string) error {
	r.opts.Callbacks.Emit(ctx, Event{Name: EventSerializeStart, File: path})
	err := c.Save(path)
	data := map[string]any{}
	if err != nil {
		data["error"] = err.Error()
	}
	r.opts.Callbacks.Emit(ctx, Event{Name: EventSerializeDone, File: path, Data: data})
	return err
}

// writeFileAtomic writes through a temporary file so a crash never leaves
// a half-written aiconfig.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// withCode sets the Code of a Diagnostic error that has none.
func withCode(err error, code string) error {
	if d, ok := err.(Diagnostic); ok && d.Code == "" {
		d.Code = code
		return d
	}
	return err
}
