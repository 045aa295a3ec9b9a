package main

// The CI gate proved through the CLI, as a new user would use it: record and
// replay, cache prune, compare and baselines, history, GitHub integration,
// shards, the HTML report, init and validate.

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// gateConfig has a prompt (facts), a prompt chaining on it (pitch) and an
// independent one (slogan), so a change to facts must miss for facts and
// pitch only. slogan turns off the SDK's chat context, which would otherwise
// send the earlier prompts along and so depend on them too.
const gateConfig = `{
  "name": "gate",
  "schema_version": "latest",
  "metadata": {
    "parameters": {"item": "tea"},
    "models": {"gpt-4o-mini": {"model": "gpt-4o-mini", "temperature": 0}},
    "default_model": "gpt-4o-mini"
  },
  "prompts": [
    {"name": "facts", "input": "List facts about {{item}}."},
    {"name": "pitch", "input": "Write a pitch using: {{facts.output}}"},
    {"name": "slogan", "input": "Write a slogan for {{item}}.", "metadata": {"remember_chat_context": false}}
  ]
}`

const gateSuite = `description: Gate
config: gate.aiconfig.json
tests:
  - name: facts mention tea
    prompt: facts
    assert:
      - type: icontains
        value: tea
  - name: pitch uses the facts
    prompt: pitch
    assert:
      - type: icontains
        value: facts about tea
  - name: slogan is graded
    prompt: slogan
    assert:
      - type: llm-rubric
        value: It is a slogan
  - name: slogan repeated
    prompt: slogan
    repeat: 3
    pass_rate: 0.6
    assert:
      - type: icontains
        value: slogan
`

// gateGradingReply echoes prompts and answers grader requests with a passing
// grade.
func gateGradingReply(req fakeopenai.ChatRequest) string {
	for _, m := range req.Messages {
		if m.Role == "system" && strings.Contains(m.Content.String(), "grading") {
			return `{"pass": true, "score": 0.9, "reason": "reads as a slogan"}`
		}
	}
	return req.LastUser()
}

// gateProject writes the gate aiconfig and suite into a fresh directory and
// returns the suite path.
func gateProject(t *testing.T) (dir, suite string) {
	t.Helper()
	dir = t.TempDir()
	write(t, dir, "gate.aiconfig.json", gateConfig)
	return dir, write(t, dir, "gate.eval.yaml", gateSuite)
}

// runResults runs the CLI with --json into a temp file and returns the
// outcome and the parsed results.
func gateRun(t *testing.T, c *cli, args ...string) (outcome, *results.Results) {
	t.Helper()
	js := filepath.Join(t.TempDir(), "results.json")
	o := c.run(append([]string{"run", "--no-history", "--json", js}, args...)...)
	res, err := results.ReadFile(js)
	if err != nil {
		t.Fatalf("aieval %v: exit %d, no results: %v\nstdout: %s\nstderr: %s", args, o.code, err, o.stdout, o.stderr)
	}
	return o, res
}

type gateVerdict struct {
	Status results.Status
	Score  float64
}

func gateVerdicts(res *results.Results) map[string]gateVerdict {
	out := map[string]gateVerdict{}
	for _, tr := range res.Tests {
		out[tr.Name] = gateVerdict{tr.Status, tr.Score}
	}
	return out
}

// cacheFiles lists the cache entries (regular files, .gitkeep aside).
func gateCacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && d.Name() != ".gitkeep" {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestRecordReplay(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
	defer srv.Close()
	dir, suite := gateProject(t)
	cacheDir := filepath.Join(dir, "cache")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "sk-test")

	o, rec := gateRun(t, c, "--cache", cacheDir, suite)
	if o.code != 0 {
		t.Fatalf("record: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	recorded := srv.Requests()
	// facts, pitch (facts is shared), slogan, 2 more slogan samples, 1 grade.
	if recorded != 6 {
		t.Errorf("record made %d requests, want 6", recorded)
	}
	entries := gateCacheFiles(t, cacheDir)
	if int64(len(entries)) != recorded {
		t.Errorf("record wrote %d cache files for %d requests", len(entries), recorded)
	}
	want := gateVerdicts(rec)
	if len(want) != 4 {
		t.Fatalf("want 4 tests, got %v", want)
	}

	o, rep := gateRun(t, c, "--offline", "--cache", cacheDir, suite)
	if o.code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	if n := srv.Requests() - recorded; n != 0 {
		t.Errorf("offline replay made %d requests, want 0", n)
	}
	if got := gateVerdicts(rep); !maps.Equal(got, want) {
		t.Errorf("replay verdicts %v, recorded %v", got, want)
	}
	for _, tr := range rep.Tests {
		if !tr.Cached {
			t.Errorf("%s: replayed but not marked cached", tr.Name)
		}
	}

	// Change facts: facts and pitch (chained on facts) miss, slogan replays.
	write(t, dir, "gate.aiconfig.json", strings.Replace(gateConfig, "List facts about", "Name three facts about", 1))
	o, miss := gateRun(t, c, "--offline", "--cache", cacheDir, suite)
	if o.code != 3 {
		t.Errorf("offline with a changed prompt: exit %d, want 3\n%s", o.code, o.stderr)
	}
	if n := srv.Requests() - recorded; n != 0 {
		t.Errorf("offline run made %d requests, want 0", n)
	}
	for _, tr := range miss.Tests {
		switch tr.Prompt {
		case "facts", "pitch":
			if tr.Status != results.StatusError || !strings.Contains(tr.Reason, "facts") {
				t.Errorf("%s: status %s, reason %q; want an error naming prompt facts", tr.Name, tr.Status, tr.Reason)
			}
		default:
			if tr.Status != results.StatusPass || !tr.Cached {
				t.Errorf("%s: status %s cached %v; want a pass from cache (%s)", tr.Name, tr.Status, tr.Cached, tr.Reason)
			}
		}
	}
	if s := miss.Summary; s.Errors != 2 || s.Passed != 2 {
		t.Errorf("summary %+v, want 2 errors and 2 passes", s)
	}
	if !strings.Contains(o.stdout, "facts") {
		t.Errorf("console does not name the missed prompt:\n%s", o.stdout)
	}
}

// TestCacheModes: what each --cache-mode calls and writes, starting from a
// recorded cache or an empty one; errors are never cached.
func TestCacheModes(t *testing.T) {
	// One server records and answers (the endpoint is part of the cache
	// key); faulty turns its faults on after the recording.
	var faulty atomic.Bool
	always500 := fakeopenai.WithFault(func(int64, fakeopenai.ChatRequest) fakeopenai.Fault {
		if faulty.Load() {
			return fakeopenai.Status(500, "")
		}
		return fakeopenai.None
	})
	tests := []struct {
		name         string
		recorded     bool // start from a recorded cache
		fault        bool // the server answers 500 to everything
		args         []string
		wantCode     int
		wantRequests int64
		wantFiles    int // cache entries after the run
		wantCached   int // tests replayed from the cache
	}{
		{"read-write records", false, false, []string{"--cache-mode", "read-write"}, 0, 6, 6, 0},
		{"read-write replays", true, false, []string{"--cache-mode", "read-write"}, 0, 0, 6, 4},
		{"read-only replays", true, false, []string{"--cache-mode", "read-only"}, 0, 0, 6, 4},
		{"read-only never writes", false, false, []string{"--cache-mode", "read-only"}, 0, 6, 0, 0},
		{"refresh re-calls everything", true, false, []string{"--cache-mode", "refresh"}, 0, 6, 6, 0},
		{"off never writes", false, false, []string{"--cache-mode", "off"}, 0, 6, 0, 0},
		{"off ignores a recorded cache", true, false, []string{"--cache-mode", "off"}, 0, 6, 6, 0},
		{"errors are never cached", false, true, []string{"--cache-mode", "read-write", "--retries", "0"}, 3, 6, 0, 0},
		{"refresh keeps entries on errors", true, true, []string{"--cache-mode", "refresh", "--retries", "0"}, 3, 6, 6, 0},
		{"offline misses everything", false, false, []string{"--offline"}, 3, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, suite := gateProject(t)
			cacheDir := filepath.Join(t.TempDir(), "cache")
			faulty.Store(false)
			srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply), always500)
			defer srv.Close()
			var recorded int64
			if tt.recorded {
				o := newCLI(t, "OPENAI_BASE_URL", srv.URL()).run("run", "--no-history", "--cache", cacheDir, suite)
				if o.code != 0 || len(gateCacheFiles(t, cacheDir)) != 6 {
					t.Fatalf("record: exit %d, %d files\n%s", o.code, len(gateCacheFiles(t, cacheDir)), o.stderr)
				}
				recorded = srv.Requests()
			}
			faulty.Store(tt.fault)
			before := gateCacheFiles(t, cacheDir)
			c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "sk-test")
			o, res := gateRun(t, c, append(append([]string{"--cache", cacheDir}, tt.args...), suite)...)
			if o.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", o.code, tt.wantCode, o.stderr)
			}
			// With faults, the grader and later samples may not be reached:
			// only count the requests that always happen.
			if got := srv.Requests() - recorded; (!tt.fault && got != tt.wantRequests) || (tt.fault && got < 3) {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			after := gateCacheFiles(t, cacheDir)
			if len(after) != tt.wantFiles {
				t.Errorf("%d cache files after the run, want %d: %v", len(after), tt.wantFiles, after)
			}
			if tt.recorded && !tt.fault && tt.args[1] == "refresh" {
				if !slices.Equal(before, after) {
					t.Errorf("refresh changed the set of entries:\nbefore %v\nafter  %v", before, after)
				}
			}
			if res.Summary.Cached != tt.wantCached {
				t.Errorf("%d cached tests, want %d", res.Summary.Cached, tt.wantCached)
			}
			if tt.fault {
				for _, f := range after {
					data, _ := os.ReadFile(f)
					if strings.Contains(string(data), "500") && strings.Contains(strings.ToLower(string(data)), "error") {
						t.Errorf("an error was cached in %s:\n%s", f, data)
					}
				}
			}
		})
	}
}

// withoutTest returns the gate suite with the test called name removed.
func gateWithoutTest(t *testing.T, name string) string {
	t.Helper()
	parts := strings.Split(gateSuite, "\n  - name: ")
	var keep []string
	for i, p := range parts {
		if i > 0 && strings.HasPrefix(p, name+"\n") {
			continue
		}
		keep = append(keep, p)
	}
	if len(keep) != len(parts)-1 {
		t.Fatalf("no test %q in the gate suite", name)
	}
	return strings.Join(keep, "\n  - name: ")
}

// TestCachePrune: after a test leaves the suite, prune removes exactly the
// entries nothing uses any more, and the rest still replays offline.
func TestCachePrune(t *testing.T) {
	tests := []struct {
		remove      string
		wantRemoved int
	}{
		{"facts mention tea", 0},    // facts is still run by pitch's chain
		{"pitch uses the facts", 1}, // pitch
		{"slogan is graded", 1},     // the grader's call
		{"slogan repeated", 2},      // samples 2 and 3 (sample 1 is the graded test's call)
	}
	for _, tt := range tests {
		t.Run(tt.remove, func(t *testing.T) {
			srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
			defer srv.Close()
			dir, suite := gateProject(t)
			cacheDir := filepath.Join(dir, ".aieval", "cache")
			c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
			if o := c.run("run", "--no-history", "--cache", cacheDir, suite); o.code != 0 {
				t.Fatalf("record: exit %d\n%s", o.code, o.stderr)
			}
			before := gateCacheFiles(t, cacheDir)
			write(t, dir, "gate.eval.yaml", gateWithoutTest(t, tt.remove))

			o := c.run("cache", "prune", "--dry-run", "--cache", cacheDir, suite)
			if o.code != 0 || len(gateCacheFiles(t, cacheDir)) != len(before) {
				t.Fatalf("dry run: exit %d, %d files left of %d\n%s", o.code, len(gateCacheFiles(t, cacheDir)), len(before), o.stderr)
			}
			// No --cache: prune finds the project's .aieval/cache itself.
			o = c.run("cache", "prune", suite)
			if o.code != 0 {
				t.Fatalf("prune: exit %d\n%s", o.code, o.stderr)
			}
			after := gateCacheFiles(t, cacheDir)
			if got := len(before) - len(after); got != tt.wantRemoved {
				t.Errorf("prune removed %d entries, want %d (stdout %q)", got, tt.wantRemoved, o.stdout)
			}
			if want := "removed " + strconv.Itoa(tt.wantRemoved) + " unused"; !strings.Contains(o.stdout, want) {
				t.Errorf("prune says %q, want %q", o.stdout, want)
			}
			for _, f := range after {
				if !slices.Contains(before, f) {
					t.Errorf("prune created %s", f)
				}
			}
			if o := c.run("cache", "prune", suite); !strings.Contains(o.stdout, "removed 0 unused") {
				t.Errorf("second prune: %q, want nothing removed", o.stdout)
			}
			reqs := srv.Requests()
			o, res := gateRun(t, c, "--offline", "--cache", cacheDir, suite)
			if o.code != 0 || srv.Requests() != reqs || res.Summary.Passed != 3 {
				t.Errorf("replay after prune: exit %d, %d new requests, %+v\n%s", o.code, srv.Requests()-reqs, res.Summary, o.stderr)
			}
		})
	}
}

// TestReplayEveryCallKind: chat, grader (llm-rubric) and embeddings
// (similar) calls all record and replay: a replay makes 0 requests of any
// kind, --offline passes, and the endpoint is in the key (normalised:
// another spelling of the same URL hits, another endpoint misses).
func TestReplayEveryCallKind(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "gate.aiconfig.json", gateConfig)
	suite := write(t, dir, "kinds.eval.yaml", `config: gate.aiconfig.json
tests:
  - name: all kinds
    prompt: slogan
    assert:
      - {type: similar, value: "Write a slogan for tea.", threshold: 0.9}
      - {type: llm-rubric, value: It is a slogan}
`)
	cacheDir := filepath.Join(dir, "cache")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	if o, res := gateRun(t, c, "--cache", cacheDir, suite); o.code != 0 || srv.Requests() != 2 || srv.EmbedRequests() != 1 {
		t.Fatalf("record: exit %d, %d chats, %d embeddings\n%s\n%+v", o.code, srv.Requests(), srv.EmbedRequests(), o.stderr, res.Tests)
	}
	for _, args := range [][]string{{"--cache-mode", "read-only"}, {"--offline"}} {
		o, res := gateRun(t, c, append(append([]string{"--cache", cacheDir}, args...), suite)...)
		if o.code != 0 || srv.Requests() != 2 || srv.EmbedRequests() != 1 || !res.Tests[0].Cached {
			t.Errorf("replay %v: exit %d, %d chats, %d embeddings (want 2, 1: none new)\n%s", args, o.code, srv.Requests(), srv.EmbedRequests(), o.stderr)
		}
	}
	// The same endpoint spelled otherwise (scheme case, trailing slash).
	same := strings.Replace(srv.URL(), "http://", "HTTP://", 1) + "/"
	if o, _ := gateRun(t, newCLI(t, "OPENAI_BASE_URL", same), "--offline", "--cache", cacheDir, suite); o.code != 0 {
		t.Errorf("replay from %s: exit %d\n%s", same, o.code, o.stderr)
	}
	// Another endpoint does not get the first one's answers.
	other := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
	defer other.Close()
	if o, _ := gateRun(t, newCLI(t, "OPENAI_BASE_URL", other.URL()), "--cache-mode", "read-only", "--cache", cacheDir, suite); o.code != 0 || other.Requests() != 2 || other.EmbedRequests() != 1 {
		t.Errorf("another endpoint: exit %d, %d chats, %d embeddings (want its own calls)\n%s", o.code, other.Requests(), other.EmbedRequests(), o.stderr)
	}
}
