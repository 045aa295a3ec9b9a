package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// Recognisable fake keys: one from OPENAI_API_KEY, one from a variable a
// suite names with api_key_env.
const (
	secretKey  = "sk-aieval-SECRET-5f2c9e"
	secretTeam = "sk-aieval-TEAMKEY-7d1a3b"
)

const secretsConfig = `{
  "name": "shop",
  "schema_version": "latest",
  "metadata": {
    "parameters": {"item": "tea"},
    "models": {
      "gpt-4o-mini": {"model": "gpt-4o-mini", "temperature": 0},
      "team-model": {"model": "team-model"}
    },
    "default_model": "gpt-4o-mini"
  },
  "prompts": [
    {"name": "facts", "input": "List facts about {{item}}."},
    {"name": "pitch", "input": "Write a pitch for {{item}} using: {{facts.output}}", "metadata": {"model": "team-model"}}
  ]
}`

// secretsSuite maps team-model to BASE with its own key variable.
func secretsSuite(base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "description: secrets\nconfig: shop.aiconfig.json\nmodels:\n  team-model:\n    base_url: %s\n    api_key_env: AIEVAL_TEAM_KEY\ntests:\n", base)
	for i := range 8 {
		prompt, item := "facts", fmt.Sprintf("item%d", i)
		if i%2 == 1 {
			prompt = "pitch"
		}
		fmt.Fprintf(&b, "  - name: test %d\n    prompt: %s\n    params: {item: %s}\n    assert:\n      - type: icontains\n        value: %s\n", i, prompt, item, item)
	}
	b.WriteString("  - name: deliberately failing\n    prompt: facts\n    assert:\n      - type: equals\n        value: something else\n")
	return b.String()
}

// echoKeyServer answers every call with status code and an OpenAI-style
// error whose message repeats the Authorization header, as some providers
// do, counting the calls that carried a key.
func echoKeyServer(t *testing.T, code int) (*httptest.Server, *atomic.Int64) {
	var withKey atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if strings.Contains(auth, "sk-aieval-") {
			withKey.Add(1)
		}
		key := strings.TrimPrefix(auth, "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		msg := fmt.Sprintf("Incorrect API key provided: %s (header %s). You can find your API key at https://platform.openai.com/account/api-keys.", key, auth)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": "invalid_api_key"}})
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &withKey
}

// TestSecretsNeverWritten runs every command with recognisable keys and
// checks that neither appears in any output or any file written, while the
// servers did receive them (so the keys were really used).
func TestSecretsNeverWritten(t *testing.T) {
	root := t.TempDir()
	spoolRoot := t.TempDir()
	// The run's spool (and prune's) go under TMPDIR; a snapshot of them is
	// taken from inside the fake server while tests are running, since the
	// run removes them at its end.
	t.Setenv("TMPDIR", spoolRoot)
	var mu sync.Mutex
	var spooled strings.Builder
	snapshot := func() {
		mu.Lock()
		defer mu.Unlock()
		_ = filepath.WalkDir(spoolRoot, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil {
					spooled.Write(b)
				}
			}
			return nil
		})
	}
	// Long replies make the spool's buffer reach the disk mid-run.
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		snapshot()
		return req.LastUser() + strings.Repeat(" and more", 3000)
	}))
	defer srv.Close()
	unauthorized, got401 := echoKeyServer(t, http.StatusUnauthorized)
	broken, got500 := echoKeyServer(t, http.StatusInternalServerError)
	down := fakeopenai.New()
	downURL := down.URL()
	down.Close()

	var outputs []string
	check := func(what string, o outcome, wantCode ...int) {
		t.Helper()
		outputs = append(outputs, what+" stdout: "+o.stdout, what+" stderr: "+o.stderr)
		for _, c := range wantCode {
			if o.code == c {
				return
			}
		}
		t.Errorf("%s: exit %d, want one of %v\nstdout: %s\nstderr: %s", what, o.code, wantCode, o.stdout, o.stderr)
	}
	env := func(base string, extra ...string) *cli {
		kv := append([]string{"OPENAI_API_KEY", secretKey, "AIEVAL_TEAM_KEY", secretTeam, "OPENAI_BASE_URL", base}, extra...)
		return newCLI(t, kv...)
	}
	out := func(name string) string { return filepath.Join(root, "out", name) }

	write(t, root, "shop.aiconfig.json", secretsConfig)
	suite := write(t, root, "shop.eval.yaml", secretsSuite(srv.URL()))
	hist := filepath.Join(root, "history.db")
	cacheDir := filepath.Join(root, "cache")
	gha := []string{"GITHUB_ACTIONS", "true", "GITHUB_STEP_SUMMARY", out("summary.md"), "GITHUB_OUTPUT", out("gh-output.txt")}
	if err := os.MkdirAll(filepath.Join(root, "out"), 0o755); err != nil {
		t.Fatal(err)
	}

	// A full run: every report, history, cache, GitHub mode.
	c := env(srv.URL(), gha...)
	report := func(tag string) []string {
		return []string{"--junit", out(tag + ".xml"), "--json", out(tag + ".json"), "--html", out(tag + ".html"), "--markdown", out(tag + ".md")}
	}
	check("run", c.run(append([]string{"run", "--concurrency", "1", "--history", hist, "--cache", cacheDir, suite}, report("run")...)...), 1)
	check("run replay", c.run(append([]string{"run", "--history", hist, "--cache", cacheDir, "--offline", suite}, report("replay")...)...), 1)
	check("run shard 1", c.run("run", "--cache", cacheDir, "--offline", "--no-history", "--shard", "1/2", "--json", out("shard1.json"), suite), 0, 1)
	check("run shard 2", c.run("run", "--cache", cacheDir, "--offline", "--no-history", "--shard", "2/2", "--json", out("shard2.json"), suite), 0, 1)

	// Faults: a 401 and a 500 that echo the key, and an endpoint that is down.
	for _, f := range []struct{ tag, base string }{{"401", unauthorized.URL + "/v1"}, {"500", broken.URL + "/v1"}, {"down", downURL}} {
		s := write(t, root, "fault-"+f.tag+".eval.yaml", secretsSuite(f.base))
		check("run "+f.tag, env(f.base, gha...).run(append([]string{"run", "--cache-mode", "off", "--retries", "1", "--no-history", s}, report(f.tag)...)...), 3)
	}

	// prompt: streamed and saved, then against the echoing 401.
	// Here team-model's endpoint and key variable are in the aiconfig's
	// own settings, as a production aiconfig would have them.
	cfg := write(t, root, "saved/shop.aiconfig.json", strings.Replace(secretsConfig, `"team-model": {"model": "team-model"}`,
		fmt.Sprintf(`"team-model": {"model": "team-model", "base_url": %q, "api_key_env": "AIEVAL_TEAM_KEY"}`, srv.URL()), 1))
	check("prompt", c.run("prompt", cfg, "pitch", "--stream", "--save", "--param", "item=coffee"), 0)
	check("prompt 401", env(unauthorized.URL+"/v1").run("prompt", cfg, "facts"), 3)
	check("prompt 401 stream", env(unauthorized.URL+"/v1").run("prompt", cfg, "facts", "--stream"), 3)

	// Everything that reads results, history and caches.
	check("validate", c.run("validate", suite, filepath.Join(root, "shop.aiconfig.json")), 0)
	check("compare", c.run("compare", out("run.json"), out("401.json"), "--markdown", out("compare.md"), "--json", out("compare.json")), 0, 1)
	check("report", c.run("report", out("run.json"), "--html", out("report.html"), "--junit", out("report.xml"), "--markdown", out("report.md")), 0, 1)
	check("merge", c.run("merge", out("shard1.json"), out("shard2.json"), "--json", out("merged.json"), "--junit", out("merged.xml")), 0, 1)
	check("history", c.run("history", "--db", hist), 0)
	check("history test", c.run("history", "--db", hist, "--test", "test 1"), 0)
	check("cache prune", c.run("cache", "prune", "--cache", cacheDir, suite), 0)
	check("init", c.run("init", "--dir", filepath.Join(root, "init")), 0)

	// The keys were used: by the endpoint of OPENAI_API_KEY, by the suite's
	// api_key_env endpoint, and by the servers that echoed them.
	auths := srv.Authorizations()
	for _, k := range []string{secretKey, secretTeam} {
		if auths["Bearer "+k] == 0 {
			t.Errorf("the server never received key %s: %v", k, auths)
		}
	}
	if got401.Load() == 0 || got500.Load() == 0 {
		t.Errorf("the echoing servers got the key %d and %d times; want both > 0", got401.Load(), got500.Load())
	}
	if leaks := srv.Leaks(secretKey); len(leaks) > 0 {
		t.Errorf("key sent outside the Authorization header: %v", leaks)
	}
	if spooled.Len() == 0 {
		t.Error("no spool content was seen during the run; the spool check proved nothing")
	}

	// Nowhere: outputs, spool, and every file under the temp dirs.
	for _, k := range []string{secretKey, secretTeam, "SECRET-5f2c9e", "TEAMKEY-7d1a3b"} {
		for _, o := range outputs {
			if strings.Contains(o, k) {
				t.Errorf("%s leaked in %s", k, firstLine(o))
			}
		}
		if strings.Contains(spooled.String(), k) {
			t.Errorf("%s leaked into a results spool file", k)
		}
	}
	files := 0
	for _, dir := range []string{root, spoolRoot} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, k := range []string{"SECRET-5f2c9e", "TEAMKEY-7d1a3b"} {
				if strings.Contains(string(b), k) {
					t.Errorf("key %s found in %s", k, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Sanity: the walk saw the artifacts it is meant to check.
	for _, p := range []string{out("run.xml"), out("run.json"), out("run.html"), out("run.md"), out("401.json"), out("summary.md"),
		out("gh-output.txt"), hist, out("report.html"), out("merged.json"), cfg} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("expected artifact missing: %v", err)
		}
	}
	if n := len(cacheFiles(t, cacheDir)); n == 0 {
		t.Error("no cache entry was written")
	}
	if saved, _ := os.ReadFile(cfg); !strings.Contains(string(saved), "execute_result") {
		t.Errorf("prompt --save wrote no outputs:\n%s", saved)
	}
	t.Logf("checked %d files, %d outputs, %d bytes of spool", files, len(outputs), spooled.Len())
}

// TestSecretsNotInErrorsOrEvents: through the Go API, neither the error of
// a call whose server echoes the key (at any depth of its chain) nor any
// callback event holds the key.
func TestSecretsNotInErrorsOrEvents(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusInternalServerError} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d stream=%v", code, stream), func(t *testing.T) {
				srv, got := echoKeyServer(t, code)
				getenv := func(k string) string {
					return map[string]string{"OPENAI_API_KEY": secretKey, "OPENAI_BASE_URL": srv.URL + "/v1"}[k]
				}
				var mu sync.Mutex
				var events []runtime.Event
				cbs := &runtime.CallbackManager{}
				cbs.Add(func(_ context.Context, ev runtime.Event) {
					mu.Lock()
					events = append(events, ev)
					mu.Unlock()
				})
				openai := llm.NewOpenAI(llm.OpenAIOptions{Getenv: getenv, Retry: &llm.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
				rt := runtime.New(runtime.Options{Callbacks: cbs, Parsers: map[string]llm.Client{runtime.ParserOpenAI: openai}})
				path := write(t, t.TempDir(), "shop.aiconfig.json", secretsConfig)
				ctx := context.Background()
				cfg, err := rt.Load(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				_, err = rt.Run(ctx, cfg, "facts", runtime.RunOptions{Stream: stream, OnChunk: func(string) {}})
				if err == nil {
					t.Fatal("the call succeeded against a failing server")
				}
				if got.Load() == 0 {
					t.Fatal("the server never received the key")
				}
				for e := err; e != nil; e = errors.Unwrap(e) {
					for _, s := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
						if strings.Contains(s, "SECRET-5f2c9e") {
							t.Errorf("key in error chain (%T): %s", e, s)
						}
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if len(events) == 0 {
					t.Fatal("no callback events")
				}
				b, err := json.Marshal(events)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b)+fmt.Sprintf("%+v", events), "SECRET-5f2c9e") {
					t.Errorf("key in callback events: %s", b)
				}
			})
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
