package main

// aieval github comment against a fake GitHub REST API that speaks its wire
// format: bearer auth, the API version header, per_page/page pagination
// with Link headers, 201 on create, GitHub's error bodies.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

const ghToken = "ghs_FAKE0123456789abcdefSECRET"

type ghComment struct {
	ID   int64
	Body string
	User string
}

type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	comments    []*ghComment // of pull request 7 of o/r
	nextID      int64
	readOnly    bool // the token lacks pull-requests: write
	listPages   []int
	creates     int
	updates     int
	sawRequests int
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, nextID: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) ghError(w http.ResponseWriter, code int, msg, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": doc, "status": strconv.Itoa(code)})
}

func (f *fakeGitHub) commentJSON(c *ghComment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "body": c.Body,
		"html_url":   fmt.Sprintf("https://github.com/o/r/pull/7#issuecomment-%d", c.ID),
		"user":       map[string]any{"login": c.User, "type": "Bot"},
		"created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
		"author_association": "NONE",
	}
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sawRequests++
	if r.Header.Get("Authorization") != "Bearer "+ghToken {
		f.ghError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.github") || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
		f.t.Errorf("%s %s: Accept %q, X-GitHub-Api-Version %q", r.Method, r.URL.Path, r.Header.Get("Accept"), r.Header.Get("X-GitHub-Api-Version"))
	}
	const list = "/repos/o/r/issues/7/comments"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == list:
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per <= 0 {
			per = 30
		}
		per = min(per, 100)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		f.listPages = append(f.listPages, page)
		last := max(1, (len(f.comments)+per-1)/per)
		link := func(p int, rel string) string {
			return fmt.Sprintf("<%s%s?per_page=%d&page=%d>; rel=%q", f.srv.URL, list, per, p, rel)
		}
		var links []string
		if page < last {
			links = append(links, link(page+1, "next"), link(last, "last"))
		}
		if page > 1 {
			links = append(links, link(1, "first"), link(page-1, "prev"))
		}
		if len(links) > 0 {
			w.Header().Set("Link", strings.Join(links, ", "))
		}
		out := []map[string]any{}
		for i := (page - 1) * per; i < min(page*per, len(f.comments)); i++ {
			out = append(out, f.commentJSON(f.comments[i]))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(out)
	case (r.Method == http.MethodPost && r.URL.Path == list) ||
		(r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/o/r/issues/comments/")):
		if f.readOnly {
			f.ghError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
			return
		}
		var req struct {
			Body *string `json:"body"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Body == nil || *req.Body == "" {
			f.ghError(w, http.StatusUnprocessableEntity, "Invalid request: body is required", "")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method == http.MethodPost {
			f.creates++
			f.nextID++
			c := &ghComment{ID: f.nextID, Body: *req.Body, User: "github-actions[bot]"}
			f.comments = append(f.comments, c)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(f.commentJSON(c))
			return
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/repos/o/r/issues/comments/"), 10, 64)
		for _, c := range f.comments {
			if c.ID == id {
				f.updates++
				c.Body = *req.Body
				json.NewEncoder(w).Encode(f.commentJSON(c))
				return
			}
		}
		f.ghError(w, http.StatusNotFound, "Not Found", "")
	default:
		f.ghError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

// ghEnv is the Actions environment of a pull_request run of workflow "eval".
func ghEnv(t *testing.T, f *fakeGitHub, dir string) []string {
	event := write(t, dir, "event.json", `{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"ref":"feature"}}}`)
	return []string{"GITHUB_ACTIONS", "true", "GITHUB_API_URL", f.srv.URL, "GITHUB_REPOSITORY", "o/r",
		"GITHUB_EVENT_PATH", event, "GITHUB_TOKEN", ghToken, "GITHUB_WORKFLOW", "eval",
		"GITHUB_SERVER_URL", "https://github.com", "GITHUB_RUN_ID", "4242"}
}

func ghResults(t *testing.T) (dir, base, head string) {
	t.Helper()
	dir = t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	_, base = cmpRun(t, dir, "base.json", cmpBase)
	_, head = cmpRun(t, dir, "head.json", cmpHead)
	return dir, base, head
}

func TestGitHubCommentCreateThenUpdate(t *testing.T) {
	dir, base, head := ghResults(t)
	f := newFakeGitHub(t)
	f.comments = []*ghComment{{ID: 1, Body: "LGTM", User: "alice"}}
	c := newCLI(t, ghEnv(t, f, dir)...)

	o := c.run("github", "comment", head, "--baseline", base)
	if o.code != 0 || f.creates != 1 || f.updates != 0 {
		t.Fatalf("first run: exit %d, %d creates, %d updates\n%s\n%s", o.code, f.creates, f.updates, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stdout, "commented on o/r#7: https://github.com/o/r/pull/7#issuecomment-") {
		t.Errorf("stdout: %q", o.stdout)
	}
	body := f.comments[1].Body
	gateInOrder(t, "comment", body, []string{"<!-- aieval-comment workflow=eval -->", "1 regression", "| tests |",
		"#### Regressions (1)", "regresses", "```diff", "[-alpha-]{+omega+}", "#### Fixed (1)", "gets fixed",
		"[Workflow run](https://github.com/o/r/actions/runs/4242)"})

	// The next push: the same comment is updated, none added.
	o = c.run("github", "comment", head)
	if o.code != 0 || f.creates != 1 || f.updates != 1 || len(f.comments) != 2 {
		t.Fatalf("second run: exit %d, %d creates, %d updates, %d comments\n%s", o.code, f.creates, f.updates, len(f.comments), o.stderr)
	}
	if f.comments[0].Body != "LGTM" || strings.Contains(f.comments[1].Body, "Regressions") || !strings.Contains(f.comments[1].Body, "Failed and errored tests") {
		t.Errorf("after the update:\n%s", f.comments[1].Body)
	}
	// Another workflow has its own comment.
	o = c.run("github", "comment", head, "--workflow", "nightly")
	if o.code != 0 || f.creates != 2 || len(f.comments) != 3 {
		t.Errorf("other workflow: exit %d, %d creates\n%s", o.code, f.creates, o.stderr)
	}
	for _, cm := range f.comments {
		if strings.Contains(cm.Body, ghToken) {
			t.Error("the token is in a comment")
		}
	}
	if strings.Contains(o.stdout+o.stderr, ghToken) {
		t.Error("the token is in the output")
	}
}

// TestGitHubCommentPagination: the comment to update is on page 2.
func TestGitHubCommentPagination(t *testing.T) {
	dir, _, head := ghResults(t)
	f := newFakeGitHub(t)
	for i := range 130 {
		f.comments = append(f.comments, &ghComment{ID: int64(i + 1), Body: fmt.Sprintf("review %d", i), User: "bob"})
	}
	// The earlier run's comment, 131st, on page 2 at 100 a page.
	f.comments = append(f.comments, &ghComment{ID: 131, Body: "<!-- aieval-comment workflow=eval -->\nold", User: "github-actions[bot]"})
	f.comments = append(f.comments, &ghComment{ID: 132, Body: "quoting:\n<!-- aieval-comment workflow=eval -->", User: "mallory"})
	c := newCLI(t, ghEnv(t, f, dir)...)
	o := c.run("github", "comment", head)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
	if f.creates != 0 || f.updates != 1 || !strings.Contains(f.comments[130].Body, "| tests |") {
		t.Errorf("%d creates, %d updates; comment 131:\n%s", f.creates, f.updates, f.comments[130].Body)
	}
	if f.comments[131].Body != "quoting:\n<!-- aieval-comment workflow=eval -->" {
		t.Error("a comment quoting the marker was changed")
	}
	if fmt.Sprint(f.listPages) != "[1 2]" {
		t.Errorf("pages read: %v, want [1 2]", f.listPages)
	}
}

// TestGitHubCommentForbidden: without pull-requests: write GitHub answers
// 403; the gate is not failed unless --fail-on-error.
func TestGitHubCommentForbidden(t *testing.T) {
	dir, _, head := ghResults(t)
	f := newFakeGitHub(t)
	f.readOnly = true
	c := newCLI(t, ghEnv(t, f, dir)...)
	o := c.run("github", "comment", head)
	if o.code != 0 {
		t.Errorf("exit %d without --fail-on-error\n%s", o.code, o.stderr)
	}
	want := "the job's token needs `permissions: pull-requests: write`"
	if !strings.Contains(o.stderr, want) || !strings.Contains(o.stderr, "403") {
		t.Errorf("stderr lacks %q:\n%s", want, o.stderr)
	}
	if !strings.Contains(o.stdout, "::warning title=aieval comment::") {
		t.Errorf("no workflow warning:\n%s", o.stdout)
	}
	o = c.run("github", "comment", head, "--fail-on-error")
	if o.code != 1 || !strings.Contains(o.stderr, want) {
		t.Errorf("--fail-on-error: exit %d\n%s", o.code, o.stderr)
	}
	if strings.Count(strings.TrimSpace(o.stderr), "\n") != 0 {
		t.Errorf("not one line:\n%s", o.stderr)
	}
	if strings.Contains(o.stdout+o.stderr, ghToken) {
		t.Error("the token is in the output")
	}
}

func TestGitHubCommentInputs(t *testing.T) {
	dir, _, head := ghResults(t)
	f := newFakeGitHub(t)
	env := ghEnv(t, f, dir)
	set := func(k, v string) []string {
		out := append([]string(nil), env...)
		for i := 0; i+1 < len(out); i += 2 {
			if out[i] == k {
				out[i+1] = v
			}
		}
		return out
	}
	push := write(t, dir, "push.json", `{"ref":"refs/heads/main","commits":[]}`)
	issueComment := write(t, dir, "ic.json", `{"action":"created","issue":{"number":7,"pull_request":{"url":"x"}},"comment":{"body":"/eval"}}`)
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		stderr   string
		requests bool
	}{
		{"no results file", env, []string{"github", "comment", filepath.Join(dir, "missing.json")}, 2, "missing.json", false},
		{"bad baseline", env, []string{"github", "comment", head, "--baseline", filepath.Join(dir, "cmp.eval.yaml")}, 2, "cmp.eval.yaml", false},
		{"no subcommand", env, []string{"github"}, 2, "usage: aieval github comment", false},
		{"push event", set("GITHUB_EVENT_PATH", push), []string{"github", "comment", head}, 0, "not a pull request", false},
		{"push event with --pr", set("GITHUB_EVENT_PATH", push), []string{"github", "comment", head, "--pr", "7"}, 0, "", true},
		{"comment on a pull request", set("GITHUB_EVENT_PATH", issueComment), []string{"github", "comment", head}, 0, "", true},
		{"no token", set("GITHUB_TOKEN", ""), []string{"github", "comment", head, "--fail-on-error"}, 1, "GITHUB_TOKEN is not set", false},
		{"bad token", set("GITHUB_TOKEN", "ghs_wrong0123456789"), []string{"github", "comment", head}, 0, "401", true},
		{"bad repository", set("GITHUB_REPOSITORY", "o"), []string{"github", "comment", head}, 0, "want OWNER/REPO", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.sawRequests
			o := newCLI(t, tt.env...).run(tt.args...)
			if o.code != tt.code || !strings.Contains(o.stderr, tt.stderr) {
				t.Errorf("exit %d (want %d), stderr:\n%s", o.code, tt.code, o.stderr)
			}
			if got := f.sawRequests > before; got != tt.requests {
				t.Errorf("requests made: %v, want %v", got, tt.requests)
			}
			if strings.Contains(o.stdout+o.stderr, "ghs_wrong0123456789") {
				t.Error("the token is in the output")
			}
		})
	}
}

// TestGitHubCommentRedacts: a model that echoes a credential does not get
// it into the comment.
func TestGitHubCommentRedacts(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	write(t, dir, "cmp.eval.yaml", cmpSuite)
	leak := map[string]string{"one": "the key is " + ghToken, "two": "gamma two", "three": "red", "four": "four"}
	_, head := cmpRun(t, dir, "head.json", leak)
	f := newFakeGitHub(t)
	o := newCLI(t, ghEnv(t, f, dir)...).run("github", "comment", head)
	if o.code != 0 || len(f.comments) != 1 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
	if strings.Contains(f.comments[0].Body, ghToken) || !strings.Contains(f.comments[0].Body, "[redacted GITHUB_TOKEN]") {
		t.Errorf("comment:\n%s", f.comments[0].Body)
	}
}

// TestGitHubCommentFromBaselineRef: the action's path. run --baseline-ref
// keeps the baseline's results (--baseline-out), and the comment compares
// with them as run did.
func TestGitHubCommentFromBaselineRef(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	srv := fakeopenai.New(fakeopenai.WithReply(gateGradingReply))
	defer srv.Close()
	dir, _ := gateProject(t)
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL())
	gateGit(t, dir, "init", "-q", "-b", "main")
	write(t, dir, ".aieval/cache/.gitkeep", "")
	t.Chdir(dir)
	if o := c.run("run", "--no-history", "gate.eval.yaml"); o.code != 0 {
		t.Fatalf("record: exit %d\n%s", o.code, o.stderr)
	}
	gateGit(t, dir, "add", "-A")
	gateGit(t, dir, "commit", "-q", "-m", "suite and recorded cache")
	gateGit(t, dir, "checkout", "-q", "-b", "coffee")
	write(t, dir, "gate.aiconfig.json", strings.Replace(gateConfig, "List facts about {{item}}.", "List facts about coffee.", 1))
	gateGit(t, dir, "commit", "-q", "-am", "facts about coffee")

	out := t.TempDir()
	head, base := filepath.Join(out, "results.json"), filepath.Join(out, "baseline.json")
	o := c.run("run", "--no-history", "--json", head, "--baseline-ref", "main", "--baseline-out", base, "--cache-mode", "read-only", "gate.eval.yaml")
	if o.code != 1 {
		t.Fatalf("run: exit %d, want 1\n%s", o.code, o.stderr)
	}
	b, err := results.ReadFile(base)
	if err != nil || b.Summary.Total == 0 || b.Summary.Failed != 0 {
		t.Fatalf("--baseline-out: %v, %+v", err, b)
	}
	f := newFakeGitHub(t)
	gh := newCLI(t, ghEnv(t, f, out)...)
	if o := gh.run("github", "comment", head, "--baseline", base); o.code != 0 || len(f.comments) != 1 {
		t.Fatalf("comment: exit %d\n%s", o.code, o.stderr)
	}
	gateInOrder(t, "comment", f.comments[0].Body, []string{"❌ 2 regressions", "#### Regressions (2)", "facts mention tea", "pitch uses the facts"})
}

// TestActionCommentStep runs the action's comment step (comment: true) as
// GitHub would, with the binary the install step left in RUNNER_TEMP.
func TestActionCommentStep(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	script := gateActionScript(t, "Comment on the pull request")
	runner := gateBuildAieval(t)
	dir, base, head := ghResults(t)
	out := filepath.Join(dir, "aieval-results")
	for src, dst := range map[string]string{head: "results.json", base: "baseline.json"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(t, out, dst, string(data))
	}
	f := newFakeGitHub(t)
	env := ghEnv(t, f, dir)
	step := func(outDir string) (string, int) {
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(gateCleanEnv(), "RUNNER_TEMP="+runner, "OUT="+outDir)
		for i := 0; i+1 < len(env); i += 2 {
			cmd.Env = append(cmd.Env, env[i]+"="+env[i+1])
		}
		b, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(b), code
	}
	o, code := step("aieval-results")
	if code != 0 || len(f.comments) != 1 || !strings.Contains(f.comments[0].Body, "#### Regressions (1)") {
		t.Fatalf("step exit %d, %d comments\n%s", code, len(f.comments), o)
	}
	// A run that stopped before its reports: a warning, no comment.
	o, code = step(filepath.Join(dir, "none"))
	if code != 0 || !strings.Contains(o, "::warning title=aieval comment::") || f.creates != 1 {
		t.Errorf("no results: exit %d, %d creates\n%s", code, f.creates, o)
	}
}
