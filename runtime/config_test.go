package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/runtime/llm"
)

const brokenCorpusFile = "cookbooks__RAG-with-MongoDB__rag.aiconfig.json"

func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if filepath.Ext(f) != ".md" {
			out = append(out, f)
		}
	}
	if len(out) < 40 {
		t.Fatalf("corpus has %d files, want 40", len(out))
	}
	return out
}

// plain decodes a file independently of the loader, for comparisons.
func plain(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		err = yaml.Unmarshal(data, &v)
	} else {
		err = json.Unmarshal(data, &v)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	// Normalise numbers and map types through JSON.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorpusLoadsAndRoundTrips(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if filepath.Base(f) == brokenCorpusFile {
				if err == nil {
					t.Fatal("loaded a file with a trailing comma")
				}
				want := f + ":8: invalid JSON: trailing comma before } (remove the comma)"
				if err.Error() != want {
					t.Fatalf("error = %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			out := filepath.Join(t.TempDir(), filepath.Base(f))
			if err := c.Save(out); err != nil {
				t.Fatalf("save: %v", err)
			}
			if !reflect.DeepEqual(plain(t, f), plain(t, out)) {
				t.Fatal("saved document differs from the original")
			}
			c2, err := Load(out)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if !reflect.DeepEqual(c.PromptNames(), c2.PromptNames()) {
				t.Fatalf("prompt names %v != %v", c.PromptNames(), c2.PromptNames())
			}
			if strings.HasSuffix(f, ".json") && !reflect.DeepEqual(jsonKeys(t, f), jsonKeys(t, out)) {
				t.Fatal("key order changed")
			}
		})
	}
}

// jsonKeys lists every string token (keys and values) in document order:
// a moved key changes the sequence.
func jsonKeys(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var keys []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if s, ok := tok.(string); ok {
			keys = append(keys, s)
		}
	}
	return keys
}

func TestSetOutputSavesTheSDKWay(t *testing.T) {
	for _, ext := range []string{".json", ".yaml"} {
		t.Run(ext, func(t *testing.T) {
			src := "testdata/corpus/vscode-extension__static__example.aiconfig" + ext
			c, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SetOutput("prompt_1", &llm.Response{Text: "hello <world>", Model: "gpt-3.5-turbo-0613", FinishReason: "stop", Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}}); err != nil {
				t.Fatal(err)
			}
			calls := json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]`)
			if err := c.SetOutput("prompt_2", &llm.Response{ToolCalls: calls}); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.aiconfig"+ext)
			if err := c.Save(out); err != nil {
				t.Fatal(err)
			}
			got := plain(t, out).(map[string]any)
			want := plain(t, src).(map[string]any)
			prompts := got["prompts"].([]any)
			o1 := prompts[0].(map[string]any)["outputs"]
			wantO1 := []any{map[string]any{
				"output_type": "execute_result", "execution_count": 0.0, "data": "hello <world>",
				"metadata": map[string]any{"role": "assistant", "model": "gpt-3.5-turbo-0613", "finish_reason": "stop",
					"usage": map[string]any{"prompt_tokens": 3.0, "completion_tokens": 2.0, "total_tokens": 5.0}},
			}}
			if !reflect.DeepEqual(o1, wantO1) {
				t.Fatalf("outputs of prompt_1 = %#v", o1)
			}
			o2 := prompts[1].(map[string]any)["outputs"].([]any)[0].(map[string]any)
			data := o2["data"].(map[string]any)
			if data["kind"] != "tool_calls" || len(data["value"].([]any)) != 1 {
				t.Fatalf("tool call output = %#v", o2)
			}
			// Everything but outputs is unchanged.
			for _, m := range []map[string]any{got, want} {
				for _, p := range m["prompts"].([]any) {
					delete(p.(map[string]any), "outputs")
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatal("SetOutput changed more than outputs")
			}
			c2, err := Load(out)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			p, _ := c2.Prompt("prompt_1")
			if outputText(latestOutput(p)) != "hello <world>" {
				t.Fatalf("reloaded output text = %q", outputText(latestOutput(p)))
			}
		})
	}
}

func TestSetOutputUnknownPrompt(t *testing.T) {
	c := mustParse(t, `{"name":"x","schema_version":"latest","metadata":{},"prompts":[]}`)
	if err := c.SetOutput("nope", &llm.Response{}); err == nil {
		t.Fatal("no error for an unknown prompt")
	}
}

func TestBrokenInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unreadable := filepath.Join(dir, "missing.aiconfig.json")
	tests := []struct {
		name, path, want string
	}{
		{"bad json", write("a.aiconfig.json", "{\n  \"name\": \"x\",\n  \"prompts\": [\n    {\"name\" \"p\"}\n  ]\n}"), `a.aiconfig.json:4: invalid JSON: invalid character '"' after object key`},
		{"truncated json", write("b.aiconfig.json", "{\n  \"name\": \"x\",\n"), `b.aiconfig.json:2: invalid JSON: unexpected end of file`},
		{"bad yaml", write("c.aiconfig.yaml", "name: x\nprompts:\n  - name: p\n   input: [\n"), `c.aiconfig.yaml:2: invalid YAML: did not find expected`},
		{"not an object", write("d.aiconfig.json", "[1, 2]"), `d.aiconfig.json:1: top level is not an object`},
		{"schema missing field", write("e.aiconfig.json", "{\n \"name\": \"x\",\n \"schema_version\": \"latest\",\n \"metadata\": {},\n \"prompts\": [\n  {\n   \"name\": \"p\"\n  }\n ]\n}"), `e.aiconfig.json:6: schema: prompts.0: input is required (add the required field input)`},
		{"schema wrong type", write("f.aiconfig.yaml", "name: x\nschema_version: latest\nmetadata:\n  parameters: []\nprompts: []\n"), `f.aiconfig.yaml:4: schema: metadata.parameters: Invalid type. Expected: object, given: array (use an object here)`},
		{"empty name", write("g.aiconfig.json", `{"name":"x","schema_version":"latest","metadata":{},"prompts":[{"name":"","input":"hi"}]}`), `g.aiconfig.json:1: prompt 1 has an empty name`},
		{"empty yaml", write("h.aiconfig.yaml", ""), `h.aiconfig.yaml:1: empty document`},
		{"unreadable", unreadable, `missing.aiconfig.json: read aiconfig: no such file or directory (check the path and its permissions)`},
		{"trailing data", write("i.aiconfig.json", `{"name":"x"} {}`), `i.aiconfig.json:1: unexpected data after the top-level object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, filepath.Join(dir, "")) || !strings.Contains(msg, tt.want) {
				t.Fatalf("error = %q, want it to contain %q", msg, tt.want)
			}
			var d Diagnostic
			if !errors.As(err, &d) || d.File != tt.path {
				t.Fatalf("error is not a Diagnostic naming the file: %#v", err)
			}
		})
	}
}

func TestNameAndSHA(t *testing.T) {
	c := mustParse(t, `{"name":"","schema_version":"latest","metadata":{},"prompts":[]}`)
	if c.Name() != "mem" {
		t.Fatalf("Name() = %q, want the file's base name", c.Name())
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(c.SHA256()) {
		t.Fatalf("SHA256() = %q", c.SHA256())
	}
}

func TestYAMLAliasesAndLines(t *testing.T) {
	src := "name: x\nschema_version: latest\nmetadata:\n  models:\n    gpt-4: &base\n      temperature: 0.5\n    gpt-4o: *base\nprompts:\n  - name: a\n    input: hi\n    metadata:\n      model: gpt-4o\n"
	c, err := Parse([]byte(src), "a.aiconfig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Metadata().Models["gpt-4o"]["temperature"]; got != 0.5 {
		t.Fatalf("alias not resolved: %v", got)
	}
	p, _ := c.Prompt("a")
	if p.Line != 9 {
		t.Fatalf("prompt line = %d, want 9", p.Line)
	}
}

// Aliases may reuse blocks, not multiply a small file into a huge one: a
// six-line bomb of 9^6 values is refused at once (it used to load after
// ~0.4 s, and its validation and saving took seconds more).
func TestYAMLAliasExpansionIsBounded(t *testing.T) {
	head := "name: x\nschema_version: latest\nmetadata: {}\nprompts: []\n"
	level := func(name, ref string) string {
		return name + ": &" + name + " [" + strings.TrimSuffix(strings.Repeat(ref+", ", 9), ", ") + "]\n"
	}
	bomb := head + level("a", "x")
	for _, l := range []string{"b", "c", "d", "e", "f"} {
		bomb += level(l, "*"+string(rune(l[0]-1)))
	}
	reuse := head + level("a", "x") + level("b", "*a") + level("c", "*b") // 729 values: fine
	tests := []struct {
		name, src string
		wantErr   bool
	}{
		{"reuse", reuse, false},
		{"bomb", bomb, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "a.aiconfig.yaml")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "too many values") {
				t.Errorf("error %q does not say why", err)
			}
		})
	}
}

func mustParse(t testing.TB, src string) *Config {
	t.Helper()
	path := "mem.aiconfig.json"
	if !strings.HasPrefix(strings.TrimSpace(src), "{") {
		path = "mem.aiconfig.yaml"
	}
	c, err := Parse([]byte(src), path)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}
