package fakeanthropic

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStrict(t *testing.T) {
	s := New()
	defer s.Close()
	ok := `{"model":"claude-3-5-haiku-latest","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, body string
		hdr        map[string]string
		code       int
		msg        string
	}{
		{"ok", ok, nil, 200, `"type":"message"`},
		{"no key", ok, map[string]string{"X-Api-Key": ""}, 401, "authentication_error"},
		{"wrong key", ok, map[string]string{"X-Api-Key": "sk-other"}, 401, "invalid x-api-key"},
		{"no version", ok, map[string]string{"Anthropic-Version": ""}, 400, "anthropic-version"},
		{"no max_tokens", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "max_tokens: Field required"},
		{"max_tokens string", `{"model":"m","max_tokens":"10","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "max_tokens"},
		{"system role", `{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"},{"role":"user","content":"hi"}]}`, nil, 400, "top-level `system`"},
		{"not alternating", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}`, nil, 400, "alternate"},
		{"unknown field", `{"model":"m","max_tokens":1,"n":2,"messages":[{"role":"user","content":"a"}]}`, nil, 400, "n: Extra inputs"},
		{"empty text", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`, nil, 400, "non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", s.URL()+"/v1/messages", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Api-Key", DefaultKey)
			r.Header.Set("Anthropic-Version", Version)
			for k, v := range tt.hdr {
				r.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.msg) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, b, tt.code, tt.msg)
			}
		})
	}
}
