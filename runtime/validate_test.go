package runtime

import (
	"fmt"
	"strings"
	"testing"
)

// doc builds an aiconfig JSON from a metadata object and prompt objects.
func doc(meta string, prompts ...string) string {
	return fmt.Sprintf(`{"name":"t","schema_version":"latest","metadata":%s,"prompts":[%s]}`, meta, strings.Join(prompts, ",\n"))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		known []string
		want  []string // "code:line" of each error, in order
	}{
		{"clean chain",
			doc(`{"default_model":"gpt-4","parameters":{"city":"NYC"}}`,
				`{"name":"a","input":"things in {{city}}"}`,
				`{"name":"b","input":"order {{a.output}} by {{a.input}}"}`),
			nil, nil},
		{"duplicate prompt",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"x"}`, `{"name":"a","input":"y"}`),
			nil, []string{"duplicate-prompt:2"}},
		{"no model",
			doc(`{}`, `{"name":"a","input":"x"}`),
			nil, []string{"no-model:1"}},
		{"unknown model",
			doc(`{}`, `{"name":"a","input":"x","metadata":{"model":"my-model"}}`),
			nil, []string{"unknown-model:1"}},
		{"model declared in metadata.models",
			doc(`{"models":{"my-model":{}}}`, `{"name":"a","input":"x","metadata":{"model":"my-model"}}`),
			nil, nil},
		{"model in model_parsers",
			doc(`{"model_parsers":{"my-model":"openai"}}`, `{"name":"a","input":"x","metadata":{"model":{"name":"my-model"}}}`),
			nil, nil},
		{"chain to later prompt",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"{{b.output}}"}`, `{"name":"b","input":"x"}`),
			nil, []string{"chain-order:1"}},
		{"chain to itself",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"{{a.output}}"}`),
			nil, []string{"chain-order:1"}},
		{"chain to missing prompt",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"{{nope.output}}"}`),
			nil, []string{"chain-missing:1"}},
		{"undefined param",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"hi {{who}}"}`),
			nil, []string{"undefined-param:1"}},
		{"param known from the suite",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"hi {{who}}"}`),
			[]string{"who"}, nil},
		{"param defined on the prompt",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"hi {{who}}","metadata":{"parameters":{"who":"me"}}}`),
			nil, nil},
		{"undefined param in system prompt",
			doc(`{"models":{"gpt-4":{"system_prompt":"be {{mood}}"}},"default_model":"gpt-4"}`, `{"name":"a","input":"hi"}`),
			nil, []string{"undefined-param:1"}},
		{"each body is relative to the item",
			doc(`{"default_model":"gpt-4","parameters":{"items":[]}}`, `{"name":"a","input":"{{#each items}}{{name}} {{/each}}{{#if items}}y{{/if}}"}`),
			nil, nil},
		{"bad template",
			doc(`{"default_model":"gpt-4"}`, `{"name":"a","input":"{{#if x}}never closed"}`),
			nil, []string{"template:1"}},
		{"dotted prompt name",
			doc(`{"default_model":"gpt-4"}`, `{"name":"gpt3.5","input":"x"}`, `{"name":"b","input":"{{gpt3.5.output}}"}`),
			nil, []string{"dotted-prompt-ref:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			var got []string
			for _, d := range Validate(c, tt.known) {
				if d.Severity != SeverityError {
					continue
				}
				got = append(got, fmt.Sprintf("%s:%d", d.Code, d.Line))
				if s := d.Error(); !strings.HasPrefix(s, "mem.aiconfig.json:") || strings.Contains(s, "\n") || !strings.Contains(s, "(") {
					t.Errorf("Error() = %q, want one line FILE:LINE: message (fix)", s)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("errors = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateUnsupportedModelIsAWarning(t *testing.T) {
	c := mustParse(t, doc(`{"default_model":"dall-e-3"}`, `{"name":"a","input":"x"}`))
	ds := Validate(c, nil)
	if len(ds) != 1 || ds[0].Severity != SeverityWarning || ds[0].Code != CodeUnsupportedModel {
		t.Fatalf("diagnostics = %v", ds)
	}
	if !strings.Contains(ds[0].Message, "base_url") {
		t.Fatalf("message gives no fix: %s", ds[0].Message)
	}
	// A suite mapping the model to an endpoint silences it.
	if ds := ValidateWith(c, ValidateOptions{Models: []string{"dall-e-3"}}); len(ds) != 0 {
		t.Fatalf("diagnostics with a mapped model = %v", ds)
	}
}

func TestValidateLinesInYAML(t *testing.T) {
	src := "name: t\nschema_version: latest\nmetadata:\n  default_model: gpt-4\nprompts:\n  - name: a\n    input: x\n  - name: b\n    input: |\n      uses {{c.output}}\n  - name: c\n    input: y\n"
	c := mustParse(t, src)
	ds := Validate(c, nil)
	if len(ds) != 1 || ds[0].Line != 9 || ds[0].Prompt != "b" || ds[0].Code != CodeChainOrder {
		t.Fatalf("diagnostics = %+v", ds)
	}
}
