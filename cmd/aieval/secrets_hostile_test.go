package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestHostileSecretsNeverWritten: the ways a key reached reports before,
// each run through the CLI with every report, the cache and history, then
// every output and file written is searched for the secret (and for a
// long part of it, which a cut before scrubbing used to leave).
func TestHostileSecretsNeverWritten(t *testing.T) {
	const (
		urlPass  = "pw-in-url-Q7x9Z2"                  // userinfo of OPENAI_BASE_URL
		bodyKey  = "team-NOSHAPE-key-2f8e1c0b9a7d6e5f" // api_key_env value, echoed across the 200-byte cut of a 401
		echoKey  = "sk-aieval-ECHOED-3c4d5e6f"         // echoed by an endpoint in its answer
		judgeKey = "sk-aieval-JUDGE-9a8b7c6d"          // in the environment an exec judge inherited
	)
	t.Setenv("OPENAI_API_KEY", judgeKey) // the process env, which exec judges used to inherit
	root := t.TempDir()
	t.Setenv("TMPDIR", root)
	write(t, root, "shop.aiconfig.json", secretsConfig)
	out := func(tag string) []string {
		d := filepath.Join(root, "out", tag)
		os.MkdirAll(d, 0o755)
		return []string{"--junit", filepath.Join(d, "r.xml"), "--json", filepath.Join(d, "r.json"), "--html", filepath.Join(d, "r.html"),
			"--markdown", filepath.Join(d, "r.md"), "--history", filepath.Join(d, "h.db"), "--cache", filepath.Join(d, "cache"), "--retries", "0"}
	}
	suite := func(name, models, assert string) string {
		return write(t, root, name, "config: shop.aiconfig.json\n"+models+"tests:\n  - name: t\n    prompt: facts\n    assert:\n"+assert)
	}
	contains := "      - type: icontains\n        value: tea\n"
	var outputs []string
	run := func(what string, c *cli, want int, args ...string) {
		t.Helper()
		o := runDeadline(t, c, append([]string{"run", "--no-progress"}, args...)...)
		outputs = append(outputs, what+": "+o.stdout+o.stderr)
		if o.code != want {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, o.code, want, o.stdout, o.stderr)
		}
	}

	// Credentials in OPENAI_BASE_URL, on a call that fails.
	down := fakeopenai.New()
	downHost := strings.TrimPrefix(down.URL(), "http://")
	down.Close()
	run("url", newCLI(t, "OPENAI_API_KEY", echoKey, "OPENAI_BASE_URL", "http://alice:"+urlPass+"@"+downHost),
		3, append(out("url"), suite("url.eval.yaml", "", contains))...)

	// A 401 whose message holds the key past the 200-byte cut.
	unauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": strings.Repeat("x", 190) + " key " +
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "type": "invalid_request_error"}})
		w.Write(b)
	}))
	defer unauth.Close()
	run("401", newCLI(t, "AIEVAL_TEAM_KEY", bodyKey), 3, append(out("401"),
		suite("401.eval.yaml", fmt.Sprintf("models:\n  gpt-4o-mini:\n    base_url: %s/v1\n    api_key_env: AIEVAL_TEAM_KEY\n", unauth.URL), contains))...)

	// An endpoint that echoes the key in its answer, judged by an exec
	// judge that prints the key it would have inherited.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(map[string]any{"id": "c", "object": "chat.completion", "model": "gpt-4o-mini",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant",
				"content": "tea facts; your key is " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}}}})
		w.Write(b)
	}))
	defer echo.Close()
	judge := "      - type: exec\n        value: sh -c 'echo \"judge saw [$OPENAI_API_KEY]\"; exit 1'\n"
	run("echo+judge", newCLI(t, "OPENAI_API_KEY", echoKey, "OPENAI_BASE_URL", echo.URL+"/v1"), 1,
		append(out("echo"), suite("echo.eval.yaml", "", contains+judge))...)

	files := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			outputs = append(outputs, p+": "+string(b))
			files++
		}
		return nil
	})
	if files < 15 {
		t.Errorf("only %d files written; the search proved little", files)
	}
	for _, s := range []string{urlPass, "alice:", bodyKey, bodyKey[:14], echoKey, "ECHOED-3c4d", judgeKey, "JUDGE-9a8b"} {
		for _, o := range outputs {
			if i := strings.Index(o, s); i >= 0 {
				t.Errorf("%q written: %s", s, o[max(0, i-200):min(len(o), i+100)])
			}
		}
	}
	// The judge ran and saw nothing; the echoed answer kept its text.
	all := strings.Join(outputs, "\n")
	for _, want := range []string{"judge saw []", "your key is [redacted]"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q anywhere: the scenario did not run as meant", want)
		}
	}
}
