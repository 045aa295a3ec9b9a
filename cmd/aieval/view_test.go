package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestViewRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "bad.json", "{")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"view", "--addr", "0.0.0.0:8484", bad}, "not a loopback address"},
		{[]string{"view", "--addr", ":8484", bad}, "--public"},
		{[]string{"view", bad}, "bad.json"},
		{[]string{"view", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"view", "--history", filepath.Join(dir, "none.db")}, "none.db"},
	} {
		o := newCLI(t).run(tc.args...)
		if o.code != 2 || !strings.Contains(o.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, o.code, o.stderr, tc.want)
		}
	}
}

// TestViewOverExampleRuns: three runs of the travel example (the second
// with gpt-4o replaced by echo, offline) served by `aieval view`; the
// comparison of the first two lists the regressions, the grid holds the
// full request with its system prompt.
func TestViewOverExampleRuns(t *testing.T) {
	dir := t.TempDir()
	suite := "../../examples/travel/travel.eval.yaml"
	var files []string
	for i, extra := range [][]string{nil, {"--model", "gpt-4o=echo"}, nil} {
		f := filepath.Join(dir, "r"+string(rune('1'+i))+".json")
		args := append([]string{"run", "--no-history", "--offline", "--quiet", "--no-progress", "--json", f}, extra...)
		newCLI(t).run(append(args, suite)...)
		files = append(files, f)
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	st := &state{stdout: out, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"view", "--addr", "127.0.0.1:0", "--no-history"}, files...), st)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`http://\S+/`).FindString(out.String()); m != "" {
			url = m
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no address printed: %q (exit %d)", out.String(), <-code)
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(url + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
	}
	var runs []struct{ Key string }
	get("/api/runs", &runs)
	if len(runs) != 3 {
		t.Errorf("%d runs, want 3", len(runs))
	}
	var cmp struct {
		Counts map[string]int
		Pairs  []struct {
			Name, Kind string
			Diff       [][2]any
		}
	}
	get("/api/compare?base=f1&head=f2", &cmp)
	if cmp.Counts["regression"] != 2 || cmp.Pairs[0].Kind != "regression" || len(cmp.Pairs[0].Diff) == 0 {
		t.Errorf("compare r1 r2: %+v", cmp)
	}
	var d struct {
		Request struct {
			Messages []struct{ Role, Content string }
		}
	}
	get("/api/runs/f1/tests/1", &d)
	if m := d.Request.Messages; len(m) < 2 || m[0].Role != "system" || !strings.Contains(m[0].Content, "travel coordinator") {
		t.Errorf("request of the itinerary test: %+v", d.Request)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("view exits %d after the context ends", c)
	}
}
