package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/history/historytest"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestHistoryPostgres: runs record into a PostgreSQL store named by
// --history or AIEVAL_HISTORY, `aieval history` reads it back by --db or
// the variable, and a store that cannot be reached costs a warning that
// never shows the password.
func TestHistoryPostgres(t *testing.T) {
	dsn := historytest.Schema(t, historytest.Start(t))
	dir := t.TempDir()
	write(t, dir, "cmp.aiconfig.json", cmpConfig)
	suite := write(t, dir, "cmp.eval.yaml", cmpSuite)
	t.Chdir(dir)

	cmpRun(t, dir, "run0.json", cmpBase, "--history", dsn)
	srv := fakeopenai.New(fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string { return cmpCalm[req.LastUser()] }))
	defer srv.Close()
	if o := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "AIEVAL_HISTORY", dsn).run("run", "--cache-mode", "off", suite); o.code != 0 {
		t.Fatalf("run with AIEVAL_HISTORY: exit %d\n%s", o.code, o.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".aieval")); err == nil {
		t.Error("a SQLite history was created beside the PostgreSQL one")
	}

	o := newCLI(t).run("history", "--db", dsn)
	lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
	if o.code != 0 || len(lines) != 3 || !slices.Contains(strings.Fields(lines[1]), "75.0%") || !slices.Contains(strings.Fields(lines[2]), "100.0%") {
		t.Fatalf("history --db URL: exit %d, want 2 runs at 75%% then 100%%:\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = newCLI(t, "AIEVAL_HISTORY", dsn).run("history", "--test", "gets fixed")
	lines = strings.Split(strings.TrimSpace(o.stdout), "\n")
	if o.code != 0 || len(lines) != 3 || !slices.Contains(strings.Fields(lines[1]), "fail") || !slices.Contains(strings.Fields(lines[2]), "pass") {
		t.Errorf("history --test with AIEVAL_HISTORY: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}

	// Port 1 on loopback: refused at once.
	const pw = "pw-LEAK-9f3"
	bad := "postgres://ci:" + pw + "@127.0.0.1:1/aieval?connect_timeout=2"
	o, _ = cmpRun(t, dir, "bad.json", cmpCalm, "--history", bad)
	if o.code != 0 || !strings.Contains(o.stderr, "warning: history") || !strings.Contains(o.stderr, "postgres://REDACTED@127.0.0.1:1/aieval") {
		t.Errorf("run with an unreachable store: exit %d, want 0 and a warning naming the redacted URL:\n%s", o.code, o.stderr)
	}
	h := newCLI(t).run("history", "--db", bad)
	if h.code != 2 {
		t.Errorf("history with an unreachable store: exit %d, want 2\n%s", h.code, h.stderr)
	}
	for _, out := range []string{o.stdout, o.stderr, h.stdout, h.stderr} {
		if strings.Contains(out, pw) {
			t.Errorf("the password leaked: %s", out)
		}
	}
}
