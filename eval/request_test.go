package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/llm"
)

// TestRunRecordsFullRequest: a chained prompt's record carries the system
// prompt, the chat context of the prompt before it and the settings, not
// only the last user message that Input keeps.
func TestRunRecordsFullRequest(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	dir := writeFiles(t, map[string]string{
		"c.aiconfig.json": `{"name": "c", "schema_version": "latest",
  "metadata": {"models": {"fake": {"model": "fake", "temperature": 0.5, "system_prompt": "You are terse."}}, "default_model": "fake"},
  "prompts": [
    {"name": "base", "input": "Facts about {{topic}}"},
    {"name": "chain", "input": "Answer {{q}} using {{base.output}}"}
  ]}`,
		"s.eval.yaml": "config: c.aiconfig.json\nparams: {q: why, topic: cats}\n" +
			"models:\n  fake: {base_url: \"" + srv.URL() + "\", api_key_env: FAKE_KEY}\ntests:\n  - {name: chained, prompt: chain}\n",
	})
	s, err := LoadSuite(dir + "/s.eval.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, tests := runAll(t, context.Background(), testOpts(t), s)
	tr := byName(tests)["chained"]
	if tr.Request == nil {
		t.Fatalf("no request recorded: %+v", tr)
	}
	var roles []string
	for _, m := range tr.Request.Messages {
		roles = append(roles, m.Role)
	}
	msgs := tr.Request.Messages
	if got := strings.Join(roles, ","); got != "system,user,assistant,user" {
		t.Fatalf("roles %s, want system,user,assistant,user: %+v", got, msgs)
	}
	if msgs[0].Content != "You are terse." || msgs[1].Content != "Facts about cats" || msgs[3].Content != tr.Input {
		t.Errorf("messages %+v (input %q)", msgs, tr.Input)
	}
	if tr.Request.Settings["temperature"] != 0.5 {
		t.Errorf("settings %v, want temperature 0.5", tr.Request.Settings)
	}
}

func TestRequestRecord(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name string
		in   *llm.Request
		want func(t *testing.T, got string, n int)
	}{
		{"nil", nil, func(t *testing.T, got string, n int) {
			if n != -1 {
				t.Errorf("want nil record")
			}
		}},
		{"empty", &llm.Request{Model: "m"}, func(t *testing.T, got string, n int) {
			if n != -1 {
				t.Errorf("want nil record for no messages and no settings")
			}
		}},
		{"parts", &llm.Request{Messages: []llm.Message{{Role: "user", Parts: []llm.Part{{Type: "text", Text: "see"}, {Type: "image_url", ImageURL: "https://x/y.png"}}}}},
			func(t *testing.T, got string, n int) {
				if got != "see\n[image https://x/y.png]" {
					t.Errorf("content %q", got)
				}
			}},
		{"capped", &llm.Request{Messages: []llm.Message{{Role: "system", Content: long}}}, func(t *testing.T, got string, n int) {
			if len(got) > 64<<10 || !strings.Contains(got, "bytes omitted") {
				t.Errorf("content of %d bytes not capped", len(got))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := requestRecord(tc.in)
			if r == nil {
				tc.want(t, "", -1)
				return
			}
			tc.want(t, r.Messages[0].Content, len(r.Messages))
		})
	}
}
