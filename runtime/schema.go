package runtime

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

// SchemaJSON is the AIConfig JSON schema aieval validates against (a copy
// of the SDK's aiconfig.schema.json, embedded so the binary is standalone).
//
//go:embed aiconfig.schema.json
var SchemaJSON []byte

var (
	schemaOnce sync.Once
	schema     *gojsonschema.Schema
	schemaErr  error
)

// WarmSchema compiles the aiconfig schema now, so that a caller with a
// spare core can take it off the first Load's path.
func WarmSchema() { _, _ = compiledSchema() }

func compiledSchema() (*gojsonschema.Schema, error) {
	schemaOnce.Do(func() {
		schema, schemaErr = gojsonschema.NewSchema(gojsonschema.NewBytesLoader(SchemaJSON))
	})
	return schema, schemaErr
}

// pathSep joins context parts; it cannot occur in a key we care about,
// unlike ".", which model names such as "gpt3.5" contain.
const pathSep = "\x00"

// validateSchema checks val against the schema and reports the most
// specific violation, mapped back to a line through the node tree.
func validateSchema(val any, root *yaml.Node, file string) error {
	s, err := compiledSchema()
	if err != nil {
		return fmt.Errorf("compile embedded schema: %w", err)
	}
	res, err := s.Validate(gojsonschema.NewGoLoader(val))
	if err != nil {
		return Diagnostic{File: file, Line: 1, Message: "check schema: " + err.Error(), Fix: "make the file valid JSON or YAML"}
	}
	if res.Valid() {
		return nil
	}
	errs := res.Errors()
	// The deepest non-anyOf error is what the user most likely got wrong;
	// anyOf errors only say "none of the alternatives matched".
	sort.SliceStable(errs, func(i, j int) bool {
		ai, aj := errs[i].Type() == "number_any_of", errs[j].Type() == "number_any_of"
		if ai != aj {
			return !ai
		}
		return depth(errs[i]) > depth(errs[j])
	})
	e := errs[0]
	parts := contextParts(e)
	line := 1
	if n := nodeAt(root, parts); n != nil && n.Line > 0 {
		line = n.Line
	}
	field := strings.Join(parts, ".")
	if field == "" {
		field = "top level"
	}
	msg := fmt.Sprintf("schema: %s: %s", field, e.Description())
	return Diagnostic{File: file, Line: line, Message: msg, Fix: schemaFix(e)}
}

func contextParts(e gojsonschema.ResultError) []string {
	parts := strings.Split(e.Context().String(pathSep), pathSep)
	if len(parts) > 0 && parts[0] == "(root)" {
		parts = parts[1:]
	}
	return parts
}

func depth(e gojsonschema.ResultError) int { return len(contextParts(e)) }

func schemaFix(e gojsonschema.ResultError) string {
	d := e.Details()
	switch e.Type() {
	case "required":
		return fmt.Sprintf("add the required field %v", d["property"])
	case "invalid_type":
		exp := fmt.Sprint(d["expected"])
		if strings.ContainsAny(exp[:min(1, len(exp))], "aeiou") {
			return "use an " + exp + " here"
		}
		return "use a " + exp + " here"
	case "enum", "const":
		return "use one of the allowed values of the AIConfig schema"
	case "number_any_of":
		return "see the AIConfig schema for the allowed shapes"
	}
	return "see the AIConfig schema"
}
