// Package promptfoo converts a promptfoo config (promptfooconfig.yaml) into
// an aiconfig and aieval suites: its prompts and providers become the
// aiconfig's prompts and models, its tests the suites' tests. It is a
// loader and writer: what it cannot map it lists, one note per thing, with
// the file and line, and leaves out rather than guess.
package promptfoo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Note is one thing the import could not map (or mapped with a change the
// user should know about).
type Note struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (n Note) String() string {
	if n.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", n.File, n.Line, n.Msg)
	}
	return n.File + ": " + n.Msg
}

// Options of an import.
type Options struct {
	// Out is the directory written to; "" means the config's directory.
	Out string
	// Types are aieval's assertion types (assertions.Names()): a promptfoo
	// type among them maps one for one.
	Types []string
	// Force overwrites files that exist; without it an import that would
	// overwrite one writes nothing.
	Force bool
}

// Result is what an import wrote.
type Result struct {
	Config string   // the aiconfig written
	Suites []string // the suites written
	Models []string // the aiconfig's model names (providers and graders)
	Notes  []Note
}

// maxConfigBytes bounds the files read (configs, prompts, test files).
const maxConfigBytes = 16 << 20

// Import reads the promptfoo config at path and writes the aiconfig and
// suites. An error means nothing usable could be written (the config is
// unreadable, or has no prompt or provider aieval can run).
func Import(path string, opts Options) (*Result, error) {
	im := &importer{path: path, dir: filepath.Dir(path), out: opts.Out, types: map[string]bool{}}
	if im.out == "" {
		im.out = im.dir
	}
	for _, t := range opts.Types {
		im.types[t] = true
	}
	root, err := im.parseFile(path)
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the top level must be a mapping with prompts, providers and tests", path)
	}
	doc, err := im.convert(root)
	if err != nil {
		return nil, err
	}
	res := &Result{Notes: im.notes, Models: doc.models}
	res.Config = filepath.Join(im.out, doc.base+".aiconfig.json")
	cfg, err := json.MarshalIndent(doc.aiconfig, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("import: encode the aiconfig: %w", err)
	}
	im.put(res.Config, append(cfg, '\n'))
	for _, s := range doc.suites {
		p := filepath.Join(im.out, s.file)
		var b strings.Builder
		b.WriteString("# Imported from " + filepath.ToSlash(path) + " by `aieval import promptfoo`.\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(s.suite); err != nil {
			return nil, fmt.Errorf("import: encode %s: %w", p, err)
		}
		im.put(p, []byte(b.String()))
		res.Suites = append(res.Suites, p)
	}
	if err := im.flush(opts.Force); err != nil {
		return nil, err
	}
	return res, nil
}

// put queues a file to write; flush writes them all, or none when one
// exists and force is off.
func (im *importer) put(path string, data []byte) {
	if im.pending == nil {
		im.pending = map[string][]byte{}
	}
	if _, dup := im.pending[path]; !dup {
		im.order = append(im.order, path)
	}
	im.pending[path] = data
}

func (im *importer) flush(force bool) error {
	if !force {
		for _, p := range im.order {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists: import into another --out directory, or pass --force to overwrite", p)
			}
		}
	}
	for _, p := range im.order {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := os.WriteFile(p, im.pending[p], 0o644); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	return nil
}

// readOut reads a file of the output directory: one queued, else on disk.
func (im *importer) readOut(path string) ([]byte, error) {
	if b, ok := im.pending[path]; ok {
		return b, nil
	}
	return readLimited(path)
}

type importer struct {
	path  string // the promptfoo config
	dir   string // its directory: file:// references are relative to it
	out   string
	types map[string]bool
	notes []Note
	// file is the file being read, for notes (a prompt or tests file).
	file string
	// pending are the files to write, in order (see put).
	pending map[string][]byte
	order   []string
}

func (im *importer) note(file string, line int, format string, args ...any) {
	if file == "" {
		file = im.path
	}
	im.notes = append(im.notes, Note{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// noteAt notes at node n of the file being read.
func (im *importer) noteAt(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	f := im.file
	if f == "" {
		f = im.path
	}
	im.note(f, line, format, args...)
}

// parseFile reads a YAML (or JSON) file into its document node.
func (im *importer) parseFile(path string) (*yaml.Node, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", path)
	}
	return resolveAlias(doc.Content[0]), nil
}

func readLimited(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: file not found", path)
		}
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	if fi.Size() > maxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxConfigBytes>>20)
	}
	return os.ReadFile(path)
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields maps a mapping node's keys to (key node, value node).
func fields(n *yaml.Node) (keys []string, vals map[string]*yaml.Node, at map[string]*yaml.Node) {
	vals, at = map[string]*yaml.Node{}, map[string]*yaml.Node{}
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, vals, at
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		keys = append(keys, k)
		vals[k] = resolveAlias(n.Content[i+1])
		at[k] = n.Content[i]
	}
	return keys, vals, at
}

// plain decodes a node into plain Go values (map[string]any, []any, ...).
func plain(n *yaml.Node) any {
	var v any
	if n == nil || n.Decode(&v) != nil {
		return nil
	}
	return normalize(v)
}

// normalize turns map[any]any (YAML's non-string keys) into map[string]any.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// rel is p relative to the output directory, for references the written
// files make (cases files, schemas), with forward slashes.
func (im *importer) rel(p string) string {
	abs, err1 := filepath.Abs(p)
	out, err2 := filepath.Abs(im.out)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(p)
	}
	r, err := filepath.Rel(out, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(r)
}

// bring makes a file a written suite references (a cases CSV, a schema,
// a rubric) reachable from the output directory, where aieval wants it
// (a suite may not reference files outside its directory): with --out
// elsewhere it is copied there, at its path relative to the config. It
// returns the reference to write.
func (im *importer) bring(path string) string {
	if r := im.rel(path); !strings.HasPrefix(r, "../") && !filepath.IsAbs(r) {
		return r
	}
	r, err := filepath.Rel(mustAbs(im.dir), mustAbs(path))
	if err != nil || strings.HasPrefix(filepath.ToSlash(r), "../") {
		r = filepath.Base(path)
	}
	dst := filepath.Join(im.out, r)
	if _, done := im.pending[dst]; !done {
		data, err := readLimited(path)
		if err != nil {
			im.note("", 0, "copy %s to %s: %v", path, dst, err)
			return filepath.ToSlash(r)
		}
		im.put(dst, data)
	}
	return filepath.ToSlash(r)
}

// ref resolves a promptfoo file:// reference (relative to the config).
func (im *importer) ref(s string) string {
	p := strings.TrimPrefix(s, "file://")
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(im.dir, p)
}

// sortedKeys of a map, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
