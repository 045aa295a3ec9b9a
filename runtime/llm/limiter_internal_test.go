package llm

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestBudgetHeaders(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		h         http.Header
		limit     float64
		remaining float64
		reset     time.Duration
		ok        bool
	}{
		{"openai", hdr("x-ratelimit-limit-requests", "500", "x-ratelimit-remaining-requests", "499", "x-ratelimit-reset-requests", "120ms"), 500, 499, 120 * time.Millisecond, true},
		{"groq minutes", hdr("x-ratelimit-limit-requests", "14400", "x-ratelimit-remaining-requests", "14370", "x-ratelimit-reset-requests", "2m59.56s"), 14400, 14370, 2*time.Minute + 59560*time.Millisecond, true},
		{"anthropic", hdr("anthropic-ratelimit-requests-limit", "50", "anthropic-ratelimit-requests-remaining", "0", "anthropic-ratelimit-requests-reset", "2026-12-01T12:00:03Z"), 50, 0, 3 * time.Second, true},
		{"no limit header", hdr("x-ratelimit-remaining-requests", "3", "x-ratelimit-reset-requests", "1s"), 0, 3, time.Second, false},
		{"bad reset", hdr("x-ratelimit-limit-requests", "5", "x-ratelimit-remaining-requests", "3", "x-ratelimit-reset-requests", "soon"), 0, 0, 0, false},
		{"none", hdr(), 0, 0, 0, false},
	}
	for _, tt := range tests {
		lim, rem, reset, ok := budget(tt.h, now)
		if ok != tt.ok || ok && (lim != tt.limit || rem != tt.remaining || reset != tt.reset) {
			t.Errorf("%s: budget = %v %v %v %v", tt.name, lim, rem, reset, ok)
		}
	}
}

func TestRetryHintOrder(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{"ms wins", hdr("retry-after-ms", "250", "Retry-After", "1"), 250 * time.Millisecond, true},
		{"bare seconds are not shared", hdr("Retry-After", "2"), 0, false},
		{"exhausted budget: one request's refill", hdr("x-ratelimit-limit-requests", "10", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "1s"), 100 * time.Millisecond, true},
		{"budget left", hdr("x-ratelimit-limit-requests", "10", "x-ratelimit-remaining-requests", "4", "x-ratelimit-reset-requests", "1s"), 0, false},
		{"nothing", hdr(), 0, false},
	}
	for _, tt := range tests {
		if got, ok := retryHint(tt.h, now); ok != tt.ok || got != tt.want {
			t.Errorf("%s: retryHint = %v %v, want %v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func resp(code int, h http.Header) *http.Response { return &http.Response{StatusCode: code, Header: h} }

// TestLimiterAIMD: slow start while the answers show a low budget, until
// the first 429; one halving per round trip of what was in flight, however many 429s
// arrive in it; additive increase after, only while the limit holds
// callers back.
func TestLimiterAIMD(t *testing.T) {
	l := newLimiters(limitPolicy{initial: 8, max: 64}).get("e")
	ctx := context.Background()
	start := func() time.Time {
		s, err := l.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	low := hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "10", "X-Ratelimit-Reset-Requests", "1s")
	for i := 0; i < 8; i++ {
		l.done(start(), resp(200, low))
	}
	if l.limit != 16 {
		t.Fatalf("slow start: limit %v, want 16", l.limit)
	}
	var held []time.Time
	for i := 0; i < 12; i++ {
		held = append(held, start())
	}
	l.rtt = time.Hour // every 429 below falls in one round trip
	for i := 0; i < 3; i++ {
		l.done(held[i], resp(429, hdr()))
	}
	if l.limit != 6 {
		t.Fatalf("after a burst of 429s with 12 in flight: limit %v, want one halving of 12 to 6", l.limit)
	}
	held = held[3:] // 9 in flight: the limit of 6 is what holds callers back
	l.done(held[0], resp(200, hdr()))
	if l.limit != 6+1.0/6 {
		t.Fatalf("additive increase: limit %v", l.limit)
	}
	for _, s := range held[1:] {
		l.done(s, resp(200, hdr()))
	}
	grown := l.limit
	l.done(start(), resp(200, hdr())) // one in flight: the limit holds nobody back
	if l.limit != grown {
		t.Fatalf("a limit nobody reaches grew: %v, want %v", l.limit, grown)
	}
	for i := 0; i < 100; i++ {
		l.done(start(), resp(429, hdr()))
		l.lastCut = time.Time{}.Add(1) // a new round trip each time
	}
	if l.limit != 1 {
		t.Fatalf("floor: limit %v, want 1", l.limit)
	}
}

// TestLimiterOpens: an answer without budget headers lifts the limit to
// the ceiling (the worker pool bounds the calls); one with them, to half
// the budget left; a low budget keeps the slow start.
func TestLimiterOpens(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want float64
	}{
		{"no budget headers", hdr(), 64},
		{"half the budget left", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "50", "X-Ratelimit-Reset-Requests", "1s"), 25},
		{"a large budget", hdr("X-Ratelimit-Limit-Requests", "10000", "X-Ratelimit-Remaining-Requests", "9999", "X-Ratelimit-Reset-Requests", "6ms"), 64},
		{"a tenth left", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "10", "X-Ratelimit-Reset-Requests", "1s"), 9},
		{"anthropic, plenty", hdr("Anthropic-Ratelimit-Requests-Limit", "1000", "Anthropic-Ratelimit-Requests-Remaining", "999",
			"Anthropic-Ratelimit-Requests-Reset", time.Now().Add(time.Minute).UTC().Format(time.RFC3339)), 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiters(limitPolicy{initial: 8, max: 64}).get("e")
			s, err := l.acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			l.done(s, resp(200, tc.h))
			if l.limit != tc.want {
				t.Fatalf("limit %v after one answer, want %v", l.limit, tc.want)
			}
		})
	}
}

// TestLimiterWaits: the in-flight limit holds a caller until a release; a
// 429's Retry-After pauses every caller; a cancelled context ends a wait.
func TestLimiterWaits(t *testing.T) {
	l := newLimiters(limitPolicy{initial: 1, max: 1, maxPause: time.Minute, timed: true}).get("e")
	s, _ := l.acquire(context.Background())
	got := make(chan time.Time)
	go func() { s2, _ := l.acquire(context.Background()); got <- s2 }()
	select {
	case <-got:
		t.Fatal("a second caller started past the in-flight limit")
	case <-time.After(30 * time.Millisecond):
	}
	l.done(s, resp(429, hdr("retry-after-ms", "80")))
	s2 := <-got
	if d := s2.Sub(s); d < 80*time.Millisecond {
		t.Errorf("the next caller started %v after a 429 asking for 80ms", d)
	}
	l.done(s2, resp(200, hdr()))

	l.mu.Lock()
	l.pauseUntil = time.Now().Add(time.Hour)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(ctx); err == nil {
		t.Fatal("acquire outlived its context")
	}
}

// TestLimiterPacing: under half the budget left, starts are spaced at the
// server's refill rate; with plenty left, not at all.
func TestLimiterPacing(t *testing.T) {
	l := newLimiters(limitPolicy{initial: 8, max: 64, timed: true}).get("e")
	s, _ := l.acquire(context.Background())
	l.done(s, resp(200, hdr("x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "40", "x-ratelimit-reset-requests", "600ms")))
	if want := 10 * time.Millisecond; l.interval != want { // 60 spent over 600ms: 100/s
		t.Errorf("interval %v, want %v", l.interval, want)
	}
	s, _ = l.acquire(context.Background())
	l.done(s, resp(200, hdr("x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "10", "x-ratelimit-reset-requests", "900ms")))
	if l.interval <= 10*time.Millisecond {
		t.Errorf("low budget: interval %v, want a little over the 10ms refill", l.interval)
	}
	s, _ = l.acquire(context.Background())
	l.done(s, resp(200, hdr("x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "90", "x-ratelimit-reset-requests", "100ms")))
	if l.interval != 0 {
		t.Errorf("plenty left: interval %v, want none", l.interval)
	}
}

// TestLimiterLearns: with no budget headers, a 429 paces the endpoint at
// 95% of the rate it was answering at; headers, when they come, rule.
func TestLimiterLearns(t *testing.T) {
	l := newLimiters(limitPolicy{initial: 8, max: 64, timed: true}).get("e")
	now := time.Now()
	for i := 0; i < 40; i++ { // answers every 10 ms: 100/s
		l.succ[l.nsucc%len(l.succ)] = now.Add(time.Duration(i-39) * 10 * time.Millisecond)
		l.nsucc++
	}
	l.learn(now)
	if !l.learned || l.rate < 94 || l.rate > 96 {
		t.Fatalf("learned rate %v, want 95/s", l.rate)
	}
	l.pace(readQuota(hdr("x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "90", "x-ratelimit-reset-requests", "100ms"), now))
	if l.learned || l.interval != 0 {
		t.Errorf("budget headers did not take over: learned %v, interval %v", l.learned, l.interval)
	}
	l2 := newLimiters(limitPolicy{initial: 8, max: 64, timed: true}).get("e")
	l2.learn(now)
	if l2.learned {
		t.Error("learned from no answers")
	}
}

// TestLimiterOpeningSteps: before the first answer each opening step adds
// one attempt more than the last (8, 9, 11, 14, ...), so a pool of 50 is
// open after 9 steps, and every slot a step adds is taken at once.
func TestLimiterOpeningSteps(t *testing.T) {
	l := newLimiters(limitPolicy{initial: 8, max: 50, timed: true}).get("e")
	l.sawDial(0)
	ctx := context.Background()
	for range 8 {
		if _, err := l.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := 8.0
	for step := 1; want < 50; step++ {
		want = min(50, want+float64(step))
		l.mu.Lock()
		l.openNext = time.Now().Add(-time.Millisecond) // the step is due
		l.mu.Unlock()
		for l.inflight < int(want) {
			waitCtx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := l.acquire(waitCtx) // the step's first taker adds its slots, the rest take them without a wait
			cancel()
			if err != nil {
				t.Fatalf("step %d: attempt %d of %v waited: %v", step, l.inflight+1, want, err)
			}
			l.mu.Lock()
			l.openNext = time.Now().Add(time.Hour) // no further step within this one
			l.mu.Unlock()
		}
		if l.limit != want {
			t.Fatalf("after step %d the limit is %v, want %v", step, l.limit, want)
		}
		if step > 9 {
			t.Fatalf("a pool of 50 took %d opening steps, want 9", step)
		}
	}
}
