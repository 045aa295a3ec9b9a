package llm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakebedrock"
	"github.com/aieval/aieval/runtime/llm"
)

const bedrockModel = "anthropic.claude-3-5-sonnet-20241022-v2:0"

func newBedrock(t *testing.T, env map[string]string, opts ...fakebedrock.Option) (*fakebedrock.Server, *llm.Bedrock, *[]time.Duration) {
	t.Helper()
	srv := fakebedrock.New(opts...)
	t.Cleanup(srv.Close)
	base := map[string]string{
		"AWS_REGION": fakebedrock.Region, "AWS_ACCESS_KEY_ID": fakebedrock.AccessKeyID, "AWS_SECRET_ACCESS_KEY": fakebedrock.SecretAccessKey,
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": srv.URL, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"ANTHROPIC_API_KEY": "sk-ant-must-not-travel", "OPENAI_API_KEY": "sk-openai-must-not-travel",
	}
	for k, v := range env {
		base[k] = v
	}
	var sleeps []time.Duration
	c := llm.NewBedrock(llm.OpenAIOptions{Retry: &quick, Getenv: func(k string) string { return base[k] },
		Sleep: func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return ctx.Err() }})
	return srv, c, &sleeps
}

func bedrockReq(settings map[string]any) *llm.Request {
	r := claudeReq(settings)
	r.Provider, r.Model = llm.ProviderBedrock, bedrockModel
	return r
}

func TestBedrockComplete(t *testing.T) {
	toolReply := fakebedrock.WithReply(func(fakebedrock.Request) fakebedrock.Reply {
		return fakebedrock.Reply{Text: "Checking.", ToolUses: []fakebedrock.ToolUse{{ID: "tooluse_1", Name: "get_weather", Input: map[string]any{"city": "New York"}}}}
	})
	calls := `[{"id":"tooluse_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"New York\"}"}}]`
	tests := []struct {
		name       string
		opt        fakebedrock.Option
		settings   map[string]any
		stream     bool
		wantText   string
		wantFinish string
		wantCalls  string
		wantUsage  llm.Usage
	}{
		{name: "plain", wantText: "plan a day in NYC", wantFinish: "stop", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 5, TotalTokens: 13}},
		{name: "stream", stream: true, wantText: "plan a day in NYC", wantFinish: "stop", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 5, TotalTokens: 13}},
		{name: "max tokens", opt: fakebedrock.WithReply(func(fakebedrock.Request) fakebedrock.Reply {
			return fakebedrock.Reply{Text: "cut", StopReason: "max_tokens"}
		}),
			wantText: "cut", wantFinish: "length", wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 1, TotalTokens: 9}},
		{name: "tools", opt: toolReply, settings: weatherTool, wantText: "Checking.", wantFinish: "tool_calls", wantCalls: calls,
			wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 11, TotalTokens: 19}},
		{name: "tools stream", opt: toolReply, settings: weatherTool, stream: true, wantText: "Checking.", wantFinish: "tool_calls", wantCalls: calls,
			wantUsage: llm.Usage{PromptTokens: 8, CompletionTokens: 11, TotalTokens: 19}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []fakebedrock.Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			srv, c, _ := newBedrock(t, nil, opts...)
			req := bedrockReq(tt.settings)
			req.Stream = tt.stream
			var chunks []string
			resp, err := c.Complete(context.Background(), req, func(d string) { chunks = append(chunks, d) })
			if err != nil {
				t.Fatalf("%v (server saw %+v)", err, srv.Seen())
			}
			if resp.Text != tt.wantText || resp.FinishReason != tt.wantFinish || resp.Role != "assistant" || resp.Model != bedrockModel {
				t.Errorf("resp = %+v", resp)
			}
			if string(resp.ToolCalls) != tt.wantCalls {
				t.Errorf("tool_calls = %s\nwant %s", resp.ToolCalls, tt.wantCalls)
			}
			if resp.Usage != tt.wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, tt.wantUsage)
			}
			if tt.stream && strings.Join(chunks, "") != tt.wantText {
				t.Errorf("chunks %q", chunks)
			}
			got := srv.Requests()[0]
			if got.ModelID != bedrockModel || got.Stream != tt.stream || got.SystemText() != "You are terse." ||
				got.InferenceConfig == nil || *got.InferenceConfig.MaxTokens != llm.ClaudeDefaultMaxTokens {
				t.Errorf("server got %s %s", srv.Seen()[0].Path, got.Raw)
			}
			if p := srv.Seen()[0].Path; !strings.Contains(p, "v2%3A0/converse") {
				t.Errorf("path %q: the model id's colon must be escaped", p)
			}
			for _, secret := range []string{fakebedrock.SecretAccessKey, "sk-ant-must-not-travel", "sk-openai-must-not-travel"} {
				if l := srv.Leaks(secret); len(l) > 0 {
					t.Errorf("secret sent: %v", l)
				}
			}
		})
	}
}

func TestBedrockSettings(t *testing.T) {
	srv, c, _ := newBedrock(t, nil)
	s := map[string]any{"max_tokens_to_sample": 500, "temperature": 0, "top_p": 0.5, "top_k": 40, "stop_sequences": []any{"END"},
		"tools": weatherTool["tools"], "tool_choice": "required"}
	if _, err := c.Complete(context.Background(), bedrockReq(s), nil); err != nil {
		t.Fatal(err)
	}
	got := string(srv.Requests()[0].Raw)
	for _, want := range []string{`"inferenceConfig":{"maxTokens":500,"temperature":0,"topP":0.5,"stopSequences":["END"]}`,
		`"additionalModelRequestFields":{"top_k":40}`, `"toolChoice":{"any":{}}`,
		`"toolSpec":{"name":"get_weather","description":"Weather in a city","inputSchema":{"json":{"properties":{"city":{"type":"string"}},"type":"object"}}}`} {
		if !strings.Contains(got, want) {
			t.Errorf("body lacks %s:\n%s", want, got)
		}
	}
}

func TestBedrockErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		fault    fakebedrock.FaultFunc
		stream   bool
		wantKind llm.ErrorKind
		wantMsg  string
		requests int // valid requests the server saw
	}{
		{name: "429 then ok", fault: fakebedrock.FaultFirst(2, fakebedrock.Fault{Kind: fakebedrock.KindStatus, Code: 429}), requests: 3},
		{name: "503 stream then ok", fault: fakebedrock.FaultFirst(1, fakebedrock.Fault{Kind: fakebedrock.KindStatus, Code: 503}), stream: true, requests: 2},
		{name: "500 always", fault: fakebedrock.FaultAlways(fakebedrock.Fault{Kind: fakebedrock.KindStatus, Code: 500}),
			wantKind: llm.KindServer, wantMsg: "(HTTP 500): server error: fake fault", requests: 4},
		{name: "400 not retried", fault: fakebedrock.FaultAlways(fakebedrock.Fault{Kind: fakebedrock.KindStatus, Code: 400}),
			wantKind: llm.KindClient, wantMsg: "request rejected", requests: 1},
		{name: "wrong secret", env: map[string]string{"AWS_SECRET_ACCESS_KEY": "wrongSecretKey0123456789"},
			wantKind: llm.KindAuth, wantMsg: "check $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_SESSION_TOKEN or $AWS_PROFILE", requests: 0},
		{name: "wrong region", env: map[string]string{"AWS_REGION": "eu-west-3"}, wantKind: llm.KindAuth, wantMsg: "scoped to a valid region", requests: 0},
		{name: "cut body then ok", fault: fakebedrock.FaultFirst(1, fakebedrock.Fault{Kind: fakebedrock.KindCutStream}), requests: 2},
		{name: "cut stream", fault: fakebedrock.FaultAlways(fakebedrock.Fault{Kind: fakebedrock.KindCutStream}), stream: true,
			wantKind: llm.KindBadResponse, wantMsg: "stream ended before messageStop", requests: 2},
		{name: "exception in stream", fault: fakebedrock.FaultAlways(fakebedrock.Fault{Kind: fakebedrock.KindException}), stream: true,
			wantKind: llm.KindRateLimited, wantMsg: "throttlingException: Too many requests", requests: 1},
		{name: "bad checksum", fault: fakebedrock.FaultAlways(fakebedrock.Fault{Kind: fakebedrock.KindBadCRC}), stream: true,
			wantKind: llm.KindBadResponse, wantMsg: "message checksum mismatch", requests: 2},
		{name: "no region", env: map[string]string{"AWS_REGION": ""}, wantKind: llm.KindClient, wantMsg: "no AWS region: set $AWS_REGION"},
		{name: "default region", env: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": fakebedrock.Region}, requests: 1},
		{name: "no credentials", env: map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			wantKind: llm.KindAuth, wantMsg: "no AWS credentials: set $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []fakebedrock.Option
			if tt.fault != nil {
				opts = append(opts, fakebedrock.WithFault(tt.fault))
			}
			srv, c, _ := newBedrock(t, tt.env, opts...)
			req := bedrockReq(nil)
			req.Stream = tt.stream
			resp, err := c.Complete(context.Background(), req, nil)
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("server accepted %d requests, want %d: %+v", n, tt.requests, srv.Seen())
			}
			if tt.wantKind == "" {
				if err != nil || resp.Text != "plan a day in NYC" {
					t.Fatalf("err %v, resp %+v", err, resp)
				}
				return
			}
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want kind %s with %q", err, tt.wantKind, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "ecretKey") {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
}

func TestBedrockSessionTokenAndProfile(t *testing.T) {
	t.Run("session token", func(t *testing.T) {
		srv, c, _ := newBedrock(t, map[string]string{"AWS_SESSION_TOKEN": "FwoGZXIvYXdzEFAKE"},
			fakebedrock.WithCredentials(fakebedrock.AccessKeyID, fakebedrock.SecretAccessKey, "FwoGZXIvYXdzEFAKE", fakebedrock.Region))
		if _, err := c.Complete(context.Background(), bedrockReq(nil), nil); err != nil {
			t.Fatalf("%v %+v", err, srv.Seen())
		}
	})
	t.Run("profile from shared files", func(t *testing.T) {
		dir := t.TempDir()
		cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
		os.WriteFile(cfg, []byte("[profile ci]\nregion = "+fakebedrock.Region+"\n"), 0o600)
		os.WriteFile(creds, []byte("[ci]\naws_access_key_id = AKIAPROFILE000000000\naws_secret_access_key = profileSecret0123456789\n"), 0o600)
		srv, c, _ := newBedrock(t, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "",
			"AWS_PROFILE": "ci", "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": creds},
			fakebedrock.WithCredentials("AKIAPROFILE000000000", "profileSecret0123456789", "", fakebedrock.Region))
		if os.Getenv("AWS_ACCESS_KEY_ID") != "" || os.Getenv("AWS_PROFILE") != "" {
			t.Skip("the process environment has AWS credentials, which the SDK's chain prefers")
		}
		if _, err := c.Complete(context.Background(), bedrockReq(nil), nil); err != nil {
			t.Fatalf("%v %+v", err, srv.Seen())
		}
		if l := srv.Leaks("profileSecret0123456789"); len(l) > 0 {
			t.Errorf("secret sent: %v", l)
		}
	})
}
