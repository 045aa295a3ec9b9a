package viewer

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/history"
	"github.com/aieval/aieval/eval/results"
)

const suite = "s/trip.eval.yaml"

// runFixture is a small run: three tests on two models; head (second=true)
// turns "ordered" into a failure with another output, fixes "broken" and
// drops "gone".
func runFixture(second bool) *results.Results {
	r := &results.Results{Version: results.ResultsVersion, RunID: "base", StartedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Suites: []results.SuiteInfo{{Path: suite, Description: "Trip planner", Config: "s/trip.aiconfig.json"}}}
	req := &results.Request{
		Messages: []results.Message{
			{Role: "system", Content: "You are a travel agent."},
			{Role: "user", Content: "List sights in Paris"},
			{Role: "assistant", Content: "Louvre, Orsay"},
			{Role: "user", Content: "Order them by price"},
		},
		Settings: map[string]any{"temperature": 0.2, "max_tokens": 300},
	}
	tests := []results.TestResult{
		{Suite: suite, Name: "lists sights", Prompt: "sights", Model: "gpt-4o", Output: "Louvre, Orsay", Status: results.StatusPass, Score: 1, Cost: 0.002, LatencyMS: 900},
		{Suite: suite, Name: "ordered", Prompt: "order", Model: "gpt-4o", Output: "The cat sat on the mat", Status: results.StatusPass, Score: 0.9, Cost: 0.004, LatencyMS: 2000, Request: req, Input: "Order them by price",
			Assertions: []results.AssertionResult{{Type: "icontains", Pass: true, Score: 1, Reason: "ok"}}},
		{Suite: suite, Name: "broken", Prompt: "sights", Model: "claude-3", Output: "nope", Status: results.StatusFail, Score: 0, Cost: 0.001, LatencyMS: 300, Reason: "output does not contain <b>Louvre</b>"},
		{Suite: suite, Name: "gone", Prompt: "sights", Model: "claude-3", Output: "x", Status: results.StatusError, Reason: "provider unreachable"},
	}
	if second {
		r.RunID = "head"
		tests[1].Output, tests[1].Status, tests[1].Score, tests[1].Reason = "The dog sat on the mat", results.StatusFail, 0.2, "rubric: not ordered"
		tests[2].Output, tests[2].Status, tests[2].Score, tests[2].Reason = "Louvre", results.StatusPass, 1, ""
		tests = tests[:3]
		tests = append(tests, results.TestResult{Suite: suite, Name: "added", Prompt: "sights", Model: "gpt-4o", Output: "new", Status: results.StatusSkip, Reason: "later"})
	}
	for i := range tests {
		r.Tests = append(r.Tests, tests[i])
		r.Count(&tests[i])
	}
	return r
}

func writeRun(t *testing.T, dir, name string, r *results.Results) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixtureFiles is base.json (f1) and head.json (f2).
func fixtureFiles(t *testing.T) *Files {
	t.Helper()
	dir := t.TempDir()
	files, err := NewFiles([]string{writeRun(t, dir, "base.json", runFixture(false)), writeRun(t, dir, "head.json", runFixture(true))})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// newServer serves the fixture files, then extra sources.
func newServer(t *testing.T, extra ...Source) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(Options{}, append([]Source{fixtureFiles(t)}, extra...)...))
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp
}

func TestRunsList(t *testing.T) {
	srv := newServer(t)
	var runs []Run
	getJSON(t, srv.URL+"/api/runs", &runs)
	if len(runs) != 2 || runs[0].Key != "f1" || runs[1].Key != "f2" || !runs[0].Openable {
		t.Fatalf("runs %+v", runs)
	}
	if r := runs[1]; r.RunID != "head" || r.Total != 4 || r.Passed != 2 || r.Failed != 1 || r.Skipped != 1 || r.Cost != 0.007 {
		t.Errorf("head run %+v", r)
	}
}

func TestGridRowsByTestColumnsByModel(t *testing.T) {
	srv := newServer(t)
	var g Grid
	getJSON(t, srv.URL+"/api/runs/f1", &g)
	if strings.Join(g.Models, ",") != "gpt-4o,claude-3" {
		t.Errorf("models %v, want gpt-4o,claude-3 in first-seen order", g.Models)
	}
	if len(g.Rows) != 4 {
		t.Fatalf("%d rows, want 4", len(g.Rows))
	}
	row := g.Rows[1]
	c := row.Cells["gpt-4o"]
	if row.Name != "ordered" || row.SuiteName != "Trip planner" || c == nil || c.Idx != 1 || c.Status != results.StatusPass || c.Score != 0.9 || c.Output != "The cat sat on the mat" || c.LatencyMS != 2000 {
		t.Errorf("row %+v cell %+v", row, c)
	}
	if _, ok := row.Cells["claude-3"]; ok {
		t.Error("a test run on one model has a cell in another model's column")
	}
}

func TestTestDetailHasFullRequest(t *testing.T) {
	srv := newServer(t)
	var d struct {
		Output  string           `json:"output"`
		Request *results.Request `json:"request"`
	}
	getJSON(t, srv.URL+"/api/runs/f1/tests/1", &d)
	if d.Request == nil || len(d.Request.Messages) != 4 || d.Request.Messages[0].Role != "system" || d.Request.Messages[2].Content != "Louvre, Orsay" {
		t.Fatalf("request %+v", d.Request)
	}
	if d.Request.Settings["temperature"] != 0.2 || d.Output != "The cat sat on the mat" {
		t.Errorf("settings %v output %q", d.Request.Settings, d.Output)
	}
}

func TestCompareUsesCompareClassification(t *testing.T) {
	srv := newServer(t)
	var c Comparison
	getJSON(t, srv.URL+"/api/compare?base=f1&head=f2", &c)
	var kinds []string
	for _, p := range c.Pairs {
		kinds = append(kinds, p.Name+"="+p.Kind)
	}
	// compare's order: regression, fixed, new, removed; then unchanged.
	if got := strings.Join(kinds, " "); got != "ordered=regression broken=fixed added=new gone=removed lists sights=unchanged" {
		t.Errorf("pairs %s", got)
	}
	if c.Headline != "1 regression, 1 fixed, 1 new, 1 removed; 1 unchanged" || c.Counts["regression"] != 1 {
		t.Errorf("headline %q counts %v", c.Headline, c.Counts)
	}
	p := c.Pairs[0]
	if p.Base == nil || p.Head == nil || p.Base.Idx != 1 || p.ScoreDelta != -0.7 {
		t.Fatalf("regression pair %+v", p)
	}
	want := [][2]any{{0.0, "The "}, {-1.0, "cat"}, {1.0, "dog"}, {0.0, " sat on the mat"}}
	if len(p.Ops) != len(want) {
		t.Fatalf("diff %v, want %v", p.Ops, want)
	}
	for i := range want {
		if p.Ops[i] != want[i] {
			t.Errorf("diff op %d: %v, want %v", i, p.Ops[i], want[i])
		}
	}
	if c.Pairs[2].Base != nil || c.Pairs[3].Head != nil || c.Pairs[4].Ops != nil {
		t.Errorf("new has a base, removed a head, or unchanged a diff: %+v %+v %+v", c.Pairs[2], c.Pairs[3], c.Pairs[4])
	}
}

func TestErrorsAndHeaders(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/runs/f9", 404},
		{"/api/runs/x", 404},
		{"/api/runs/f1/tests/99", 404},
		{"/api/runs/f1/tests/-1", 404},
		{"/api/compare?base=f1&head=nope", 404},
		{"/assets/secret.txt", 404},
		{"/nothing", 404},
		{"/", 200},
		{"/assets/common.js", 200},
		{"/assets/report.css", 200},
		{"/assets/view.js", 200},
	} {
		resp := getJSON(t, srv.URL+tc.path, nil)
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
	}
	resp, err := http.Post(srv.URL+"/api/runs", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
	if ct := getJSON(t, srv.URL+"/assets/view.js", nil).Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("view.js content type %q", ct)
	}
}

// TestHostCheck: a page on another domain that rebinds its name to
// 127.0.0.1 sends its own Host; the viewer refuses it unless public.
func TestHostCheck(t *testing.T) {
	h := New(Options{}, &Files{})
	pub := New(Options{Public: true}, &Files{})
	for _, tc := range []struct {
		host   string
		public bool
		code   int
	}{
		{"127.0.0.1:8484", false, 200}, {"localhost:8484", false, 200}, {"[::1]:8484", false, 200}, {"LOCALHOST", false, 200},
		{"evil.example:8484", false, 403}, {"127.0.0.1.evil.example", false, 403}, {"10.0.0.5:8484", false, 403},
		{"evil.example:8484", true, 200},
	} {
		req := httptest.NewRequest("GET", "/api/runs", nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		if tc.public {
			pub.ServeHTTP(rec, req)
		} else {
			h.ServeHTTP(rec, req)
		}
		if rec.Code != tc.code {
			t.Errorf("Host %s (public %v): %d, want %d", tc.host, tc.public, rec.Code, tc.code)
		}
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8484": true, "localhost:0": true, "[::1]:80": true, "127.0.0.2:1": true,
		":8484": false, "0.0.0.0:8484": false, "192.168.1.2:80": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if got := IsLoopbackAddr(addr); got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestNewFilesFailsClosed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	for _, p := range []string{filepath.Join(dir, "missing.json"), bad} {
		if _, err := NewFiles([]string{p}); err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
			t.Errorf("NewFiles(%s): %v, want an error naming the file", p, err)
		}
	}
}

// TestFilesRereadOnChange: a rerun that rewrites the file shows without
// restarting the viewer.
func TestFilesRereadOnChange(t *testing.T) {
	dir := t.TempDir()
	p := writeRun(t, dir, "r.json", runFixture(false))
	f, err := NewFiles([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	writeRun(t, dir, "r.json", runFixture(true))
	future := time.Now().Add(time.Minute)
	os.Chtimes(p, future, future)
	r, err := f.Open("f1")
	if err != nil || r.RunID != "head" {
		t.Fatalf("after rewrite: %v, run %v", err, r)
	}
}

type lister struct{ rows []history.RunRow }

func (l lister) Runs(int) ([]history.RunRow, error) { return l.rows, nil }

type reader struct {
	lister
	r *results.Results
}

func (r reader) Results(id int64) (*results.Results, error) {
	if id != 7 {
		return nil, errors.New("no run")
	}
	return r.r, nil
}

// TestHistorySource: a store that only lists runs shows them, not
// openable, with why; one that reads them back opens and compares them.
func TestHistorySource(t *testing.T) {
	rows := []history.RunRow{{ID: 7, RunID: "h7", Total: 4, Passed: 2}}
	srv := newServer(t, NewHistory(lister{rows}))
	var runs []Run
	getJSON(t, srv.URL+"/api/runs", &runs)
	if len(runs) != 3 || runs[2].Key != "h7" || runs[2].Openable || !strings.Contains(runs[2].Note, "cannot read") {
		t.Fatalf("runs %+v", runs)
	}
	var e struct{ Error string }
	if resp := getJSON(t, srv.URL+"/api/runs/h7", &e); resp.StatusCode != 500 || !strings.Contains(e.Error, "cannot read one back") {
		t.Errorf("open a listed-only run: %d %q", resp.StatusCode, e.Error)
	}

	srv = newServer(t, NewHistory(reader{lister{rows}, runFixture(true)}))
	runs = nil
	getJSON(t, srv.URL+"/api/runs", &runs)
	if !runs[2].Openable || runs[2].Note != "" {
		t.Errorf("readable history run %+v", runs[2])
	}
	var c Comparison
	getJSON(t, srv.URL+"/api/compare?base=f1&head=h7", &c)
	if c.Head.Key != "h7" || c.Counts["regression"] != 1 {
		t.Errorf("compare with a history run: %+v", c)
	}
}
