package assertions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/xeipuuv/gojsonreference"
	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

// A schema's $ref is resolved by gojsonschema through the loader factory
// of its root document. The default one GETs http(s) URLs (no timeout,
// even under validate and --offline) and reads any file:// path. This
// factory serves the schema itself and files inside the suite directory,
// read like file:// values (no absolute path, no escape, regular files
// within the size cap), and refuses everything else when the suite loads.

// rootSchema is the schema document, placed at a file:// URL in the suite
// directory so that relative refs ("defs.json#/x") resolve beside it.
type rootSchema struct {
	f *confinedFactory
}

func (r *rootSchema) JsonSource() any                               { return r.f.rootURL }
func (r *rootSchema) LoadJSON() (any, error)                        { return r.f.root, nil }
func (r *rootSchema) LoaderFactory() gojsonschema.JSONLoaderFactory { return r.f }
func (r *rootSchema) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference(r.f.rootURL)
}

type confinedFactory struct {
	dir     string // suite directory as given (for safePath)
	absDir  string
	rootURL string // without fragment
	root    any    // the schema, decoded as gojsonschema decodes (json.Number)
}

func (f *confinedFactory) New(source string) gojsonschema.JSONLoader {
	return &confinedLoader{f: f, source: source}
}

type confinedLoader struct {
	f      *confinedFactory
	source string
}

func (l *confinedLoader) JsonSource() any                               { return l.source }
func (l *confinedLoader) LoaderFactory() gojsonschema.JSONLoaderFactory { return l.f }
func (l *confinedLoader) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference(l.source)
}

func (l *confinedLoader) LoadJSON() (any, error) {
	u, err := url.Parse(l.source)
	if err != nil {
		return nil, fmt.Errorf("$ref %q is not a URL", l.source)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.String() == l.f.rootURL {
		return l.f.root, nil
	}
	if u.Scheme != "file" || u.Host != "" {
		return nil, fmt.Errorf("$ref %s: a schema may refer only within itself (#/...) or to a file beside the suite; it is never fetched", l.source)
	}
	rel, err := filepath.Rel(l.f.absDir, filepath.FromSlash(u.Path))
	if err != nil {
		return nil, fmt.Errorf("$ref %s escapes the suite directory; move the file next to the suite", l.source)
	}
	ref := filePrefix + filepath.ToSlash(rel)
	p, err := safePath(l.f.dir, ref)
	if err != nil {
		return nil, fmt.Errorf("$ref %s: %w", l.source, err)
	}
	b, err := safefile.ReadFile(p, maxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("$ref %s: %w", ref, err)
	}
	var doc any
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml":
		err = yaml.Unmarshal(b, &doc)
	default:
		err = json.Unmarshal(b, &doc)
	}
	if err != nil {
		return nil, fmt.Errorf("$ref %s: parse: %w", ref, err)
	}
	return schemaForm(doc)
}

// schemaForm re-decodes a value the way gojsonschema's own loaders do
// (numbers as json.Number), so validation behaves as with NewGoLoader.
func schemaForm(v any) (any, error) {
	n, err := normalizeJSON(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// confinedSchema is the loader for a schema document from the suite at
// dir; name is its file (for a file:// value) or "" for an inline one.
func confinedSchema(dir, name string, doc any) (gojsonschema.JSONLoader, error) {
	base := dir
	if base == "" {
		base = "."
	}
	absDir, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("resolve suite directory %s: %w", base, err)
	}
	if name == "" {
		name = ".inline-schema.json"
	}
	root, err := schemaForm(doc)
	if err != nil {
		return nil, err
	}
	rootURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(absDir, filepath.FromSlash(name)))}).String()
	return &rootSchema{f: &confinedFactory{dir: dir, absDir: absDir, rootURL: rootURL, root: root}}, nil
}
