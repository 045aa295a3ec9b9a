package eval

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// fastRetry keeps backoffs (and honoured Retry-After) in milliseconds.
var fastRetry = &llm.RetryPolicy{MaxRetries: 12, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}

// verdictSuite has n tests on "ask"; odd ones expect text the answer lacks.
func verdictSuite(t testing.TB, url string, n int) *Suite {
	var b strings.Builder
	for i := range n {
		want := fmt.Sprintf("question-%d", i)
		if i%2 == 1 {
			want = "never-said"
		}
		fmt.Fprintf(&b, "  - {name: t%03d, prompt: ask, params: {q: question-%d}, assert: [{type: contains, value: %s}]}\n", i, i, want)
	}
	return fakeSuite(t, url, "", b.String())
}

func TestRunSurvivesRateLimitsAndServerErrors(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultRandom(7,
		fakeopenai.Weighted{P: 0.25, F: fakeopenai.Status(429, "1")},
		fakeopenai.Weighted{P: 0.05, F: fakeopenai.Status(500, "")},
	)))
	defer srv.Close()
	const n = 200
	s := verdictSuite(t, srv.URL(), n)
	opts := testOpts(t)
	opts.Concurrency = 10
	opts.Retry = fastRetry
	res, tests := runAll(t, context.Background(), opts, s)
	if len(tests) != n {
		t.Fatalf("got %d results, want %d: nothing may be lost", len(tests), n)
	}
	for i, tr := range tests {
		want := results.StatusPass
		if i%2 == 1 {
			want = results.StatusFail
		}
		if tr.Status != want {
			t.Errorf("%s: %s (%s), want %s", tr.Name, tr.Status, tr.Reason, want)
		}
	}
	if srv.Faults() < n/5 {
		t.Errorf("only %d faults injected; the test proves nothing", srv.Faults())
	}
	if res.Summary.Passed != n/2 || res.Summary.Failed != n/2 || res.ExitCode() != results.ExitFailed {
		t.Errorf("summary %+v exit %d", res.Summary, res.ExitCode())
	}
}

func TestRunServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v1"
	ln.Close() // nothing listens there any more: connection refused
	const n = 200
	s := verdictSuite(t, url, n)
	opts := testOpts(t)
	opts.Concurrency = 10
	opts.Retry = &llm.RetryPolicy{MaxRetries: 3, BaseDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxRetryAfter: time.Second}
	start := time.Now()
	res, tests := runAll(t, context.Background(), opts, s)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a dead endpoint took %v; it must fail fast", d)
	}
	if len(tests) != n {
		t.Fatalf("got %d results, want %d", len(tests), n)
	}
	for _, tr := range tests {
		if tr.Status != results.StatusError || !strings.Contains(tr.Reason, `prompt "ask"`) || !strings.Contains(tr.Reason, ln.Addr().String()) {
			t.Errorf("%s: %s %q; want an error naming the prompt and the endpoint", tr.Name, tr.Status, tr.Reason)
			break
		}
	}
	if res.ExitCode() != results.ExitErrored || res.Summary.Errors != n {
		t.Errorf("exit %d summary %+v", res.ExitCode(), res.Summary)
	}
}

func TestRunModelAndAssertionErrors(t *testing.T) {
	srv := fakeopenai.New(fakeopenai.WithFault(fakeopenai.FaultIf(func(r fakeopenai.ChatRequest) bool {
		return r.LastUser() == "broken"
	}, fakeopenai.Status(400, ""))))
	defer srv.Close()
	s := fakeSuite(t, srv.URL(), "", `
  - {name: bad request, prompt: ask, params: {q: broken}}
  - name: command missing
    prompt: ask
    params: {q: fine}
    assert: [{type: contains, value: fine}, {type: exec, value: /nonexistent/aieval-checker}]
  - {name: fine, prompt: ask, params: {q: fine}, assert: [{type: contains, value: fine}]}
`)
	res, tests := runAll(t, context.Background(), testOpts(t), s)
	m := byName(tests)
	if tr := m["bad request"]; tr.Status != results.StatusError || !strings.Contains(tr.Reason, `prompt "ask"`) || !strings.Contains(tr.Reason, "400") {
		t.Errorf("bad request: %s %q", tr.Status, tr.Reason)
	}
	if tr := m["command missing"]; tr.Status != results.StatusError || !strings.Contains(tr.Reason, "assertion exec") || len(tr.Assertions) != 2 || !tr.Assertions[1].Error {
		t.Errorf("command missing: %s %q %+v", tr.Status, tr.Reason, tr.Assertions)
	}
	if m["fine"].Status != results.StatusPass || res.ExitCode() != results.ExitErrored {
		t.Errorf("fine: %s; exit %d", m["fine"].Status, res.ExitCode())
	}
}

func TestRunMaxCost(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "  - {name: t%d, prompt: ask, params: {q: word%d}}\n", i, i)
	}
	// $1 per token: the first call alone passes a $0.50 budget.
	s := fakeSuite(t, srv.URL(), "prices:\n  fake: {input: 1000000, output: 1000000}\n", b.String())
	opts := testOpts(t)
	opts.Concurrency = 1
	opts.MaxCost = 0.5
	res, tests := runAll(t, context.Background(), opts, s)
	if tests[0].Status != results.StatusPass || tests[0].Cost < 1 {
		t.Errorf("first test: %s cost %v", tests[0].Status, tests[0].Cost)
	}
	for _, tr := range tests[1:] {
		if tr.Status != results.StatusError || !strings.Contains(tr.Reason, "budget of $0.5 reached") {
			t.Errorf("%s: %s %q", tr.Name, tr.Status, tr.Reason)
		}
	}
	if srv.Requests() != 1 || res.Interrupted {
		t.Errorf("server saw %d requests (want 1); interrupted %v", srv.Requests(), res.Interrupted)
	}
}

func TestRunStopAndCancel(t *testing.T) {
	tests := []struct {
		name   string
		stop   bool // close Stop (drain) rather than cancel ctx
		status results.Status
	}{
		{"stop lets in-flight finish", true, results.StatusPass},
		{"cancel interrupts in-flight", false, results.StatusError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeopenai.New(fakeopenai.WithLatency(300 * time.Millisecond))
			defer srv.Close()
			var b strings.Builder
			for i := range 20 {
				fmt.Fprintf(&b, "  - {name: t%02d, prompt: ask, params: {q: q%d}}\n", i, i)
			}
			s := fakeSuite(t, srv.URL(), "", b.String())
			opts := testOpts(t)
			opts.Concurrency = 2
			stop := make(chan struct{})
			opts.Stop = stop
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, func() {
				if tt.stop {
					close(stop)
				} else {
					cancel()
				}
			})
			start := time.Now()
			res, got := runAll(t, ctx, opts, s)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("run took %v after an interrupt", d)
			}
			if len(got) != 20 || !res.Interrupted || res.ExitCode() != results.ExitErrored {
				t.Fatalf("results %d interrupted %v exit %d", len(got), res.Interrupted, res.ExitCode())
			}
			for i, tr := range got {
				switch {
				case i < 2 && tr.Status != tt.status:
					t.Errorf("in-flight %s: %s %q, want %s", tr.Name, tr.Status, tr.Reason, tt.status)
				case i >= 2 && (tr.Status != results.StatusError || tr.Reason != reasonInterrupted):
					t.Errorf("unstarted %s: %s %q", tr.Name, tr.Status, tr.Reason)
				}
			}
		})
	}
}

func TestRunOfflineMiss(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	s := fakeSuite(t, srv.URL(), "", "  - {name: a, prompt: ask, params: {q: hello}}\n")
	opts := testOpts(t)
	opts.CacheMode = "read-only"
	opts.CacheDir = t.TempDir()
	opts.Offline = true
	res, tests := runAll(t, context.Background(), opts, s)
	if tr := tests[0]; tr.Status != results.StatusError || !strings.Contains(tr.Reason, `prompt "ask"`) || !strings.Contains(tr.Reason, "no cached output") {
		t.Errorf("offline miss: %s %q", tr.Status, tr.Reason)
	}
	if srv.Requests() != 0 || res.ExitCode() != results.ExitErrored {
		t.Errorf("offline run made %d requests; exit %d", srv.Requests(), res.ExitCode())
	}
}

func TestRunRecordThenReplay(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	s := verdictSuite(t, srv.URL(), 10)
	dir := t.TempDir()
	opts := testOpts(t)
	opts.CacheMode, opts.CacheDir = "read-write", dir
	first, _ := runAll(t, context.Background(), opts, s)
	calls := srv.Requests()
	opts.CacheMode, opts.Offline = "read-only", true
	var used *cache.Cache
	opts.OnCacheDone = func(c *cache.Cache) { used = c }
	second, tests := runAll(t, context.Background(), opts, s)
	if used == nil || len(used.Used()) != 10 {
		t.Errorf("OnCacheDone: cache %v", used)
	}
	if srv.Requests() != calls {
		t.Errorf("replay called the server %d times", srv.Requests()-calls)
	}
	if first.Summary.Passed != second.Summary.Passed || second.Summary.Failed != 5 || second.Summary.Cached != 10 || !tests[0].Cached {
		t.Errorf("record %+v, replay %+v", first.Summary, second.Summary)
	}
}
