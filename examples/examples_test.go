// Package examples checks that the example suites replay offline from the
// committed cache with the verdicts the README promises, and re-records that
// cache from the hand-written fixtures with -record.
package examples

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
)

var record = flag.Bool("record", false, "re-record examples/.aieval/cache from fixtures.yaml")

const cacheDir = ".aieval/cache"

// want is every example test's expected status: the support classifier's
// recorded output is deliberately imperfect.
var want = map[string]results.Status{
	"travel/travel.eval.yaml::lists ten attractions":                      results.StatusPass,
	"travel/travel.eval.yaml::itinerary ordered by price":                 results.StatusPass,
	"travel/travel.eval.yaml::itinerary by location (prompt default)":     results.StatusPass,
	"extraction/extraction.eval.yaml::simple invoice in euros":            results.StatusPass,
	"extraction/extraction.eval.yaml::dollar invoice with three items":    results.StatusPass,
	"support/support.eval.yaml::classifies a refund ticket":               results.StatusFail,
	"support/support.eval.yaml::outage ticket is an outage":               results.StatusPass,
	"support/support.eval.yaml::refund reply is polite and within policy": results.StatusPass,
	// Llama 3 lists eight attractions and orders by price backwards;
	// select-best picks Claude's itinerary.
	"matrix/matrix.eval.yaml::lists ten attractions [gpt-4o]":                 results.StatusPass,
	"matrix/matrix.eval.yaml::lists ten attractions [claude-3-5-sonnet]":      results.StatusPass,
	"matrix/matrix.eval.yaml::lists ten attractions [llama3]":                 results.StatusFail,
	"matrix/matrix.eval.yaml::itinerary ordered by price [gpt-4o]":            results.StatusFail,
	"matrix/matrix.eval.yaml::itinerary ordered by price [claude-3-5-sonnet]": results.StatusPass,
	"matrix/matrix.eval.yaml::itinerary ordered by price [llama3]":            results.StatusFail,
}

func suitePaths(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*/*.eval.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example suites: %v", err)
	}
	return paths
}

func loadAll(t *testing.T) []*eval.Suite {
	t.Helper()
	var suites []*eval.Suite
	for _, p := range suitePaths(t) {
		s, err := eval.LoadSuite(p)
		if err != nil {
			t.Fatal(err)
		}
		suites = append(suites, s)
	}
	return suites
}

func TestExamplesReplayOffline(t *testing.T) {
	if *record {
		recordCache(t)
	}
	res, err := eval.Run(context.Background(), loadAll(t), eval.Options{
		Concurrency: 4,
		CacheDir:    cacheDir,
		CacheMode:   "read-only",
		Offline:     true,
		Getenv:      func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]results.Status{}
	err = res.Each(func(tr *results.TestResult) error {
		got[tr.ID()] = tr.Status
		if tr.Status == results.StatusError {
			t.Errorf("%s: error: %s", tr.ID(), tr.Reason)
		}
		if !tr.Cached {
			t.Errorf("%s: not replayed from the cache", tr.ID())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("%s: status %q, want %q", id, got[id], st)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ran %d tests, want %d: %v", len(got), len(want), got)
	}
}

type fixture struct {
	Match  []string `yaml:"match"`
	Model  string   `yaml:"model"` // only requests of this API model
	Grader bool     `yaml:"grader"`
	Output string   `yaml:"output"`
}

// recordCache replaces the committed cache with one recorded from the
// hand-written fixtures, served by a local OpenAI-compatible server.
func recordCache(t *testing.T) {
	data, err := os.ReadFile("fixtures.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []fixture
	if err := yaml.Unmarshal(data, &fixtures); err != nil {
		t.Fatal(err)
	}
	// A typical hosted-model latency, so recorded latencies look like real ones.
	srv := fakeopenai.New(fakeopenai.WithLatency(900*time.Millisecond), fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
		var all strings.Builder
		for _, m := range req.Messages {
			all.WriteString(m.Content.String())
			all.WriteString("\n")
		}
		text := all.String()
		best, bestN := -1, 0
		for i, f := range fixtures {
			if f.Model != "" && f.Model != req.Model {
				continue
			}
			n := 0
			for _, m := range f.Match {
				if strings.Contains(text, m) {
					n++
				}
			}
			if n < len(f.Match) {
				continue
			}
			if f.Model != "" {
				n++
			}
			if n > bestN {
				best, bestN = i, n
			}
		}
		if best < 0 {
			t.Errorf("no fixture matches request: %.200q", text)
			return ""
		}
		return strings.TrimRight(fixtures[best].Output, "\n")
	}))
	defer srv.Close()
	if err := os.RemoveAll(cacheDir); err != nil {
		t.Fatal(err)
	}
	// The cache key holds the endpoint: record as the hosted default that
	// a user replays against, with the calls sent to the fixture server.
	env := map[string]string{"OPENAI_API_KEY": "fixture", "OPENROUTER_API_KEY": "fixture"}
	fixtureURL, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Run(context.Background(), loadAll(t), eval.Options{
		HTTPClient:  &http.Client{Transport: redirect{to: fixtureURL}},
		Concurrency: 4,
		CacheDir:    cacheDir,
		CacheMode:   "read-write",
		CacheNote:   "hand-written fixture (examples/fixtures.yaml), not a real model output",
		Getenv:      func(k string) string { return env[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d requests for %d tests", srv.Requests(), res.Summary.Total)
}

// redirect sends every request to one server, keeping its path.
type redirect struct{ to *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = r.to.Scheme, r.to.Host
	// Whatever the endpoint's prefix (/v1, /api/v1), the API path after it.
	rest := req.URL.Path
	if i := strings.LastIndex(rest, "/v1/"); i >= 0 {
		rest = rest[i+len("/v1"):]
	}
	out.URL.Path = strings.TrimSuffix(r.to.Path, "/") + rest
	out.Host = r.to.Host
	return http.DefaultTransport.RoundTrip(out)
}
