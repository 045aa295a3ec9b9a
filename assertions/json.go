package assertions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// JSON assertions: is-json, contains-json and json-schema. Schemas are
// compiled when the suite loads, so a bad schema is an input error.

const (
	maxJSONStarts     = 1000 // '{' or '[' positions tried in one output
	maxJSONCandidates = 50
	maxSchemaErrors   = 3
)

func init() {
	Register("is-json", newIsJSON)
	describe("is-json", "the whole output is JSON; an optional value (inline map or file://) is a JSON schema it must match")
	Register("contains-json", newContainsJSON)
	describe("contains-json", "the output holds a JSON object or array somewhere (e.g. in a ```json fence); optional schema as value")
	Register("json-schema", newJSONSchema)
	describe("json-schema", "the output is JSON valid against the value, an inline schema or file://schema.json")
}

// compileSchema loads and compiles a schema value (map or file:// ref).
func compileSchema(spec Spec, v any) (*gojsonschema.Schema, error) {
	doc, err := structuredValue(spec, v)
	if err != nil {
		return nil, err
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, fmt.Errorf("schema must be a JSON object (a map), got %s", kindOf(doc))
	}
	name, _ := v.(string) // a file:// value: refs resolve beside that file
	loader, err := confinedSchema(spec.Dir, strings.TrimPrefix(name, filePrefix), doc)
	if err != nil {
		return nil, err
	}
	s, err := gojsonschema.NewSchema(loader) // $ref: never the network, only files beside the suite
	if err != nil {
		return nil, fmt.Errorf("bad JSON schema: %v", err)
	}
	return s, nil
}

// optionalSchema compiles spec.Value when present.
func optionalSchema(spec Spec) (*gojsonschema.Schema, error) {
	if spec.Value == nil {
		return nil, nil
	}
	switch spec.Value.(type) {
	case map[string]any, map[any]any:
	default:
		if !isFileRef(spec.Value) {
			return nil, fmt.Errorf("value, when given, must be a JSON schema (a map or file://schema.json), got %s", kindOf(spec.Value))
		}
	}
	return compileSchema(spec, spec.Value)
}

// schemaErrors validates doc and returns "" or a short list of problems.
func schemaErrors(s *gojsonschema.Schema, doc any) (string, error) {
	res, err := s.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return "", fmt.Errorf("validate against schema: %w", err)
	}
	if res.Valid() {
		return "", nil
	}
	errs := res.Errors()
	msgs := make([]string, 0, maxSchemaErrors)
	for i, e := range errs {
		if i == maxSchemaErrors {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(errs)-i))
			break
		}
		msgs = append(msgs, e.String())
	}
	return strings.Join(msgs, "; "), nil
}

func newIsJSON(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	schema, err := optionalSchema(spec)
	if err != nil {
		return nil, err
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		doc, err := parseJSON(in.Output)
		if err != nil {
			return outcome(false, fmt.Sprintf("output is not valid JSON (%v); %s", err, found(in.Output))), nil
		}
		if schema == nil {
			return outcome(true, "output is valid JSON"), nil
		}
		msg, err := schemaErrors(schema, doc)
		if err != nil {
			return Result{}, err
		}
		if msg != "" {
			return outcome(false, "output is JSON but does not match the schema: "+msg), nil
		}
		return outcome(true, "output is JSON matching the schema"), nil
	}), nil
}

func newJSONSchema(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	if spec.Value == nil {
		return nil, errors.New("missing value: give an inline schema map or file://schema.json")
	}
	schema, err := optionalSchema(spec)
	if err != nil {
		return nil, err
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		doc, err := parseJSON(in.Output)
		if err != nil {
			return outcome(false, fmt.Sprintf("output is not JSON (%v), so it cannot match the schema; %s", err, found(in.Output))), nil
		}
		msg, err := schemaErrors(schema, doc)
		if err != nil {
			return Result{}, err
		}
		if msg != "" {
			return outcome(false, "output does not match the JSON schema: "+msg), nil
		}
		return outcome(true, "output matches the JSON schema"), nil
	}), nil
}

func newContainsJSON(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	schema, err := optionalSchema(spec)
	if err != nil {
		return nil, err
	}
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		docs := findJSON(in.Output)
		if len(docs) == 0 {
			return outcome(false, "output contains no JSON object or array; "+found(in.Output)), nil
		}
		if schema == nil {
			return outcome(true, "output contains JSON "+short(docs[0])), nil
		}
		first := ""
		for _, doc := range docs {
			msg, err := schemaErrors(schema, doc)
			if err != nil {
				return Result{}, err
			}
			if msg == "" {
				return outcome(true, "output contains JSON matching the schema: "+short(doc)), nil
			}
			if first == "" {
				first = msg
			}
		}
		return outcome(false, fmt.Sprintf("output contains JSON, but none matches the schema (%d found; first: %s)", len(docs), first)), nil
	}), nil
}

// findJSON returns the JSON objects and arrays embedded in text, in order,
// skipping values nested in one already found.
func findJSON(s string) []any {
	var out []any
	tries := 0
	for i := 0; i < len(s) && tries < maxJSONStarts && len(out) < maxJSONCandidates; i++ {
		if s[i] != '{' && s[i] != '[' {
			continue
		}
		tries++
		dec := json.NewDecoder(strings.NewReader(s[i:]))
		var v any
		if err := dec.Decode(&v); err != nil {
			continue
		}
		out = append(out, v)
		i += int(dec.InputOffset()) - 1
	}
	return out
}
