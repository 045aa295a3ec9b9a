package promptfoo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

func TestTemplate(t *testing.T) {
	for _, c := range []struct{ in, want, note string }{
		{"Hi {{name}}", "Hi {{{name}}}", ""},
		{"Hi {{ user.name }}!", "Hi {{{user.name}}}!", ""},
		{"{{- name -}}", "{{{name}}}", ""},
		{"{{ name | upper }}", "{{{name}}}", "filter |upper on name dropped"},
		{"{% if vip %}VIP{% else %}std{% endif %}", "{{#if vip}}VIP{{else}}std{{/if}}", ""},
		{"{% if not vip %}std{% endif %}", "{{#unless vip}}std{{/unless}}", ""},
		{"{% for x in xs %}{{x}}{% endfor %}", "{% for x in xs %}{{{x}}}{% endfor %}", "tag {% for x in xs %} is not converted"},
		{"{{ items[0] }}", "{{ items[0] }}", "expression {{ items[0] }} is not converted"},
		{"a {# note #}b", "a b", ""},
		{"no vars", "no vars", ""},
	} {
		im := &importer{path: "c.yaml"}
		got := im.template(c.in, "", 1, &yaml.Node{Line: 3}, "prompt p")
		if got != c.want {
			t.Errorf("template(%q) = %q, want %q", c.in, got, c.want)
		}
		notes := ""
		for _, n := range im.notes {
			notes += n.String() + "\n"
		}
		if c.note == "" && notes != "" || c.note != "" && !strings.Contains(notes, c.note) {
			t.Errorf("template(%q) notes %q, want %q", c.in, notes, c.note)
		}
		if c.note != "" && !strings.Contains(notes, "c.yaml:3:") {
			t.Errorf("template(%q): note without file:line: %q", c.in, notes)
		}
	}
}

func TestProviderIDs(t *testing.T) {
	for _, c := range []struct {
		id, config string
		key        string
		settings   map[string]any
	}{
		{"openai:gpt-4o-mini", "", "gpt-4o-mini", map[string]any{}},
		{"openai:chat:gpt-4o", "{temperature: 0.2, max_tokens: 10}", "gpt-4o", map[string]any{"temperature": 0.2, "max_tokens": 10}},
		{"openai:o3-mini", "", "o3-mini", map[string]any{}},
		{"openai:chat:my-finetune", "{apiBaseUrl: 'http://127.0.0.1:8000/v1', apiKeyEnvar: MY_KEY}", "my-finetune",
			map[string]any{"provider": "openai", "base_url": "http://127.0.0.1:8000/v1", "api_key_env": "MY_KEY"}},
		{"anthropic:messages:claude-3-5-sonnet-20241022", "{max_tokens: 256}", "claude-3-5-sonnet-20241022", map[string]any{"max_tokens": 256}},
		{"vertex:gemini-pro", "", "gemini-pro", map[string]any{}},
		{"google:gemini-1.5-pro", "{generationConfig: {temperature: 0, maxOutputTokens: 5}}", "gemini-1.5-pro", map[string]any{"temperature": 0, "max_tokens": 5}},
		{"ollama:chat:llama3", "", "llama3", map[string]any{"base_url": "http://127.0.0.1:11434/v1"}},
		{"ollama:llama3.1", "{apiBaseUrl: 'http://gpu:11434/v1'}", "llama3.1", map[string]any{"base_url": "http://gpu:11434/v1"}},
		{"azure:chat:prod-gpt4", "{apiHost: 'acme.openai.azure.com'}", "azure-prod-gpt4",
			map[string]any{"provider": "azure", "deployment": "prod-gpt4", "base_url": "https://acme.openai.azure.com"}},
		{"bedrock:anthropic.claude-3-haiku-20240307-v1:0", "", "anthropic.claude-3-haiku-20240307-v1:0", map[string]any{"provider": "bedrock"}},
		{"bedrock:converse:anthropic.claude-3-5-sonnet-20241022-v2:0", "", "anthropic.claude-3-5-sonnet-20241022-v2:0", map[string]any{"provider": "bedrock"}},
		{"groq:llama3-70b-8192", "", "llama3-70b-8192", map[string]any{"provider": "groq"}},
		{"mistral:mistral-large-latest", "", "mistral-large-latest", map[string]any{"base_url": "https://api.mistral.ai/v1", "api_key_env": "MISTRAL_API_KEY"}},
		{"echo", "", "echo", map[string]any{}},
	} {
		im := &importer{path: "c.yaml"}
		ms := &modelSet{byKey: map[string]map[string]any{}}
		var cfg *yaml.Node
		if c.config != "" {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(c.config), &doc); err != nil {
				t.Fatal(err)
			}
			cfg = doc.Content[0]
		}
		key, ok := im.provider(c.id, "", cfg, &yaml.Node{Line: 1}, ms)
		if !ok || key != c.key {
			t.Errorf("%s: key %q %v, want %q (notes %v)", c.id, key, ok, c.key, im.notes)
			continue
		}
		got, _ := json.Marshal(ms.byKey[key])
		want, _ := json.Marshal(c.settings)
		if string(got) != string(want) {
			t.Errorf("%s: settings %s, want %s", c.id, got, want)
		}
	}
	for _, id := range []string{"file://provider.js", "exec:python p.py", "https://api.example.com/chat", "bedrock:amazon.titan-text-express-v1", "openai:assistant:asst_1", "cohere:command-r", "openai:"} {
		im := &importer{path: "c.yaml"}
		if _, ok := im.provider(id, "", nil, &yaml.Node{Line: 4}, &modelSet{byKey: map[string]map[string]any{}}); ok || len(im.notes) != 1 || im.notes[0].Line != 4 {
			t.Errorf("%s: mapped %v, notes %v; want one note at line 4", id, ok, im.notes)
		}
	}
}

func TestTransformMapping(t *testing.T) {
	for in, want := range map[string]any{
		"JSON.parse(output).answer":          "$.answer",
		"JSON.parse(output)":                 "$",
		"return JSON.parse(output).a[0].b;":  "$.a[0].b",
		"JSON.parse(output)['the key']":      "$['the key']",
		"output.trim()":                      nil,
		"file://transform.js":                nil,
		"JSON.parse(output).items.map(x=>x)": nil,
	} {
		sw := &suiteWriter{im: &importer{path: "c.yaml"}}
		got := sw.transform(&yaml.Node{Kind: yaml.ScalarNode, Value: in, Line: 2})
		if got != want {
			t.Errorf("transform %q = %v, want %v", in, got, want)
		}
		if want == nil && len(sw.im.notes) != 1 {
			t.Errorf("transform %q: notes %v, want one", in, sw.im.notes)
		}
	}
}

func TestChatPrompts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sys.json", `[{"role":"system","content":"Be {{tone}}."},{"role":"user","content":"{{q}}"}]`)
	write("few.yaml", "- role: user\n  content: 2+2?\n- role: assistant\n  content: '4'\n- role: user\n  content: '{{q}}'\n")
	write("bad.json", `[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]`)
	write("multi.txt", "First {{a}}\n---\nSecond {{b | lower}}\n")
	im := &importer{path: filepath.Join(dir, "c.yaml"), dir: dir, out: dir}
	var doc yaml.Node
	src := "- file://sys.json\n- file://few.yaml\n- file://bad.json\n- file://multi.txt\n- '[{\"role\": \"user\", \"content\": \"inline {{q}}\"}]'\n- id: file://gen.js\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	got := im.prompts(doc.Content[0])
	want := []promptIn{
		{name: "sys", input: "{{{q}}}", settings: map[string]any{"system_prompt": "Be {{{tone}}}."}},
		{name: "few", input: "{{{q}}}", settings: map[string]any{"messages": []any{
			map[string]any{"role": "user", "content": "2+2?"}, map[string]any{"role": "assistant", "content": "4"}}}},
		{name: "multi_1", input: "First {{{a}}}"},
		{name: "multi_2", input: "Second {{{b}}}"},
		{name: "prompt_5", input: "inline {{{q}}}"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prompts:\n got %+v\nwant %+v", got, want)
	}
	var notes []string
	for _, n := range im.notes {
		notes = append(notes, n.String())
	}
	joined := strings.Join(notes, "\n")
	for _, w := range []string{`c.yaml:3: prompt bad (`, `the last message is "assistant"`, "c.yaml:6: prompt file gen.js is a .js function", "multi.txt:3: prompt multi_2: filter |lower on b dropped"} {
		if !strings.Contains(joined, w) {
			t.Errorf("notes lack %q:\n%s", w, joined)
		}
	}
}

func TestVarsExpand(t *testing.T) {
	got := expand(map[string]any{"a": []any{"x", "y"}, "b": []any{1, 2}, "c": "k"})
	if len(got) != 4 || got[0]["a"] != "x" || got[0]["b"] != 1 || got[3]["a"] != "y" || got[3]["b"] != 2 || got[2]["c"] != "k" {
		t.Errorf("expand = %v", got)
	}
	if got := expand(nil); len(got) != 1 || got[0] != nil {
		t.Errorf("expand(nil) = %v", got)
	}
}

func TestAssertionMapping(t *testing.T) {
	src := `
- {type: icontains-any, value: "Paris, Lyon"}
- {type: not-similar:cosine, value: x, threshold: 0.9}
- {type: llm-rubric, value: "mentions {{city}}", rubricPrompt: [{role: system, content: judge}], provider: openai:gpt-4o}
- {type: python, value: file://check.py}
- {type: classifier, value: x}
- {type: equals, value: a, contextTransform: x}
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	im := &importer{path: "c.yaml", types: map[string]bool{"icontains-any": true, "similar": true, "llm-rubric": true, "equals": true}}
	sw := &suiteWriter{im: im, models: &modelSet{byKey: map[string]map[string]any{}}}
	got := sw.fillAsserts(sw.asserts(doc.Content[0]), map[string]any{"city": "Paris"}, nil)
	if len(got) != 4 {
		t.Fatalf("%d assertions, want 4: %+v", len(got), got)
	}
	if l, ok := got[0].Value.([]any); !ok || len(l) != 2 || l[1] != "Lyon" {
		t.Errorf("comma list: %#v", got[0].Value)
	}
	if got[1].Type != "not-similar" || *got[1].Threshold != 0.9 {
		t.Errorf("similar:cosine: %+v", got[1])
	}
	if got[2].Value != "mentions Paris" || got[2].RubricPrompt != `[{"content":"judge","role":"system"}]` || got[2].Provider != "gpt-4o" {
		t.Errorf("llm-rubric: %+v", got[2])
	}
	var notes []string
	for _, n := range im.notes {
		notes = append(notes, n.String())
	}
	joined := strings.Join(notes, "\n")
	for _, w := range []string{"c.yaml:5: assertion python: not mapped: use an exec assertion", "c.yaml:6: assertion classifier: not mapped: aieval has no classifier type", "c.yaml:7: assertion equals: contextTransform not mapped"} {
		if !strings.Contains(joined, w) {
			t.Errorf("notes lack %q:\n%s", w, joined)
		}
	}
}

// Several providers are promptfoo's prompts × providers grid: one suite
// per prompt, with matrix: listing the providers' models (each defined in
// the aiconfig with its settings); one provider writes no matrix.
// A value quoted in a note is folded as every message of aieval's is
// (text.OneLine): control characters replaced, one line, cut to 80 runes
// with "…".
func TestNoteQuotesOneLine(t *testing.T) {
	in := "output.trim()\n\x1b]0;pwned\x07" + strings.Repeat(" + x", 40)
	sw := &suiteWriter{im: &importer{path: "c.yaml"}}
	if got := sw.transform(&yaml.Node{Kind: yaml.ScalarNode, Value: in, Line: 2}); got != nil {
		t.Fatalf("transform %q = %v, want nil (JavaScript)", in, got)
	}
	if len(sw.im.notes) != 1 {
		t.Fatalf("notes %v, want one", sw.im.notes)
	}
	msg := sw.im.notes[0].Msg
	start := strings.Index(msg, `"`)
	end := strings.LastIndex(msg, `"`)
	quoted, err := strconv.Unquote(msg[start : end+1])
	if err != nil {
		t.Fatalf("note %q: %v", msg, err)
	}
	if strings.ContainsAny(quoted, "\n\x1b\x07") || utf8.RuneCountInString(quoted) > 80 || !strings.HasSuffix(quoted, "…") {
		t.Errorf("quoted value %q: want one sanitized line of at most 80 runes, cut with …", quoted)
	}
}

func TestImportProvidersMatrix(t *testing.T) {
	for _, c := range []struct {
		name, providers string
		matrix          []string
	}{
		{"one", "[openai:gpt-4o-mini]", nil},
		{"several", "[openai:gpt-4o-mini, {id: 'ollama:llama3', config: {temperature: 0.5}}, {id: 'openai:chat:gpt-4o', label: local, config: {apiBaseUrl: 'http://127.0.0.1:8000/v1'}}]",
			[]string{"gpt-4o-mini", "llama3", "local"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "c.yaml")
			src := "prompts: ['Say {{x}}', {id: 'Shout {{x}}', label: loud}]\nproviders: " + c.providers + "\ntests: [{vars: {x: hi}}]\n"
			if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Import(cfg, Options{Types: []string{"contains"}})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{filepath.Join(dir, "c.prompt_1.eval.yaml"), filepath.Join(dir, "c.loud.eval.yaml")}
			if !reflect.DeepEqual(res.Suites, want) {
				t.Fatalf("suites %v, want %v", res.Suites, want)
			}
			for i, p := range res.Suites {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				var s struct {
					Matrix   []string `yaml:"matrix"`
					Defaults struct{ Prompt string }
				}
				if err := yaml.Unmarshal(b, &s); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(s.Matrix, c.matrix) {
					t.Errorf("%s: matrix %q, want %q", p, s.Matrix, c.matrix)
				}
				if wantPrompt := []string{"prompt_1", "loud"}[i]; s.Defaults.Prompt != wantPrompt {
					t.Errorf("%s: prompt %q, want %q", p, s.Defaults.Prompt, wantPrompt)
				}
			}
			b, err := os.ReadFile(res.Config)
			if err != nil {
				t.Fatal(err)
			}
			var ac aiconfigOut
			if err := json.Unmarshal(b, &ac); err != nil {
				t.Fatal(err)
			}
			if len(ac.Prompts) != 2 || ac.Prompts[0].Metadata.Model.Name != "gpt-4o-mini" || ac.Prompts[1].Name != "loud" {
				t.Errorf("aiconfig prompts %+v: want one per prompt, on the first provider", ac.Prompts)
			}
			for _, m := range c.matrix {
				if _, ok := ac.Metadata.Models[m]; !ok {
					t.Errorf("matrix model %s is not in the aiconfig's models %v", m, ac.Metadata.Models)
				}
			}
			if c.matrix != nil && (ac.Metadata.Models["llama3"]["temperature"] != 0.5 || ac.Metadata.Models["local"]["base_url"] != "http://127.0.0.1:8000/v1") {
				t.Errorf("model settings lost: %v", ac.Metadata.Models)
			}
		})
	}
}
