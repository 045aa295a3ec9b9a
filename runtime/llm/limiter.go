package llm

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Adaptive concurrency under rate limits. eval runs a fixed number of
// workers; below them, the transport asks one limiter per endpoint before
// every attempt and tells it how the attempt went, so a run slows to what
// the provider allows instead of alternating bursts and 429 storms:
//
//   - AIMD on the number of attempts in flight: from 8 (eval's default
//     worker count) until the first answer, and until then one more each
//     opening step than the step before (1, 2, 3...; see sawDial). A step
//     is four times the first connection's set-up time, at least a
//     millisecond, no less than a refused request takes to come back on a
//     new connection, so a rate limit's instant 429 ends the opening
//     before it overshoots by more than one step's few attempts; a local
//     server gets a pool of 50 in 9 steps, not after its first
//     (model-slow) answer. One without request budget
//     headers lifts the limit to the ceiling, so eval's worker pool (the
//     user's --concurrency) bounds the calls after one round trip; one with
//     them, to half the budget it shows left; and +1 per success until the
//     first 429 (doubling per round trip, as TCP's slow start). A 429 halves what was in flight, once per round trip;
//     after it, +1/limit per success while the limit is what holds callers
//     back (about +1 per round trip; a limit nobody reaches does not
//     grow).
//   - A pause for every caller of the endpoint, not only the one that got
//     the 429, for its retry-after-ms or, with an exhausted request budget,
//     one request's refill time (see retryHint).
//   - Pacing from the providers' rate-limit headers
//     (x-ratelimit-{limit,remaining,reset}-requests for OpenAI, Groq and
//     Azure; anthropic-ratelimit-requests-{limit,remaining,reset}): when
//     less than half the request budget is left (or less than twice the
//     most callers seen in flight), attempts are spaced at the server's
//     refill rate, (limit-remaining)/reset, so the budget stops shrinking
//     before it reaches zero. With plenty left nothing is paced.
//
//   - A server that sends no budget headers but answers 429: paced at 95%
//     of the success rate it served up to the 429 (the last 32 answers),
//     probing upwards by 0.05% per success (see learn).
//
// A server that sends none of these and never answers 429 gets the whole
// worker pool from its first answer on, unpaced.

// limitPolicy bounds the limiter.
type limitPolicy struct {
	initial, max float64       // in-flight limit at start and its ceiling
	maxPause     time.Duration // cap on one pause (the retry policy's MaxRetryAfter)
	timed        bool          // false: count only, never wait on the clock (tests with a fake Sleep)
}

type limiters struct {
	policy limitPolicy
	mu     sync.Mutex
	m      map[string]*limiter
}

func newLimiters(p limitPolicy) *limiters {
	if p.maxPause <= 0 {
		p.maxPause = DefaultRetry.MaxRetryAfter
	}
	return &limiters{policy: p, m: map[string]*limiter{}}
}

func (ls *limiters) get(endpoint string) *limiter {
	if ls == nil {
		return nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[endpoint]
	if l == nil {
		l = &limiter{p: ls.policy, limit: ls.policy.initial, wake: make(chan struct{})}
		ls.m[endpoint] = l
	}
	return l
}

// limiter is one endpoint's state.
type limiter struct {
	p  limitPolicy
	mu sync.Mutex

	limit    float64 // AIMD in-flight limit
	inflight int
	peak     int     // most attempts seen in flight at once
	rate     float64 // the server's refill rate (requests/s) from its budget headers; 0: unknown
	learned  bool    // rate was learned from 429s (no budget headers), see learn
	succ     [32]time.Time
	nsucc    int // successes so far; succ holds the last len(succ) times
	lastCut  time.Time
	rtt      time.Duration // smoothed attempt time, the AIMD round trip

	answered atomic.Bool   // an attempt has ended: the opening is over (read without mu by opening)
	step     time.Duration // opening step before the first answer; 0: not known (no dial seen)
	openNext time.Time     // when the opening may add the next attempts
	opened   float64       // attempts the last opening step added

	pauseUntil time.Time     // no attempt starts before (a 429's retry hint)
	interval   time.Duration // pacing between starts, 0 = none
	next       time.Time     // earliest start under pacing

	wake    chan struct{} // closed when a slot frees or the pacing changes
	waiters bool          // someone holds wake: done must close it
}

// acquire waits until an attempt may start on l (nil: at once) and returns
// when it started, for done.
func (l *limiter) acquire(ctx context.Context) (time.Time, error) {
	if l == nil {
		return time.Time{}, nil
	}
	for {
		l.mu.Lock()
		now := time.Now()
		var wait time.Duration // > 0: wait on the clock; < 0: wait for a release
		switch {
		case l.p.timed && now.Before(l.pauseUntil):
			wait = l.pauseUntil.Sub(now)
		case l.p.timed && now.Before(l.next):
			wait = l.next.Sub(now)
		case float64(l.inflight) >= math.Floor(l.limit):
			wait = -1
			if l.p.timed && !l.answered.Load() && l.step > 0 && l.limit < l.p.max {
				if now.Before(l.openNext) {
					wait = l.openNext.Sub(now)
				} else {
					// One more each step than the last (1, 2, 3...): 50 in
					// flight after 9 steps, not 42, and past a rate
					// limit's burst by no more than one step's worth
					// before its 429 comes back.
					l.opened++
					l.limit = min(l.p.max, l.limit+l.opened)
					l.openNext = now.Add(l.step)
					l.wakeWaiters() // the others waiting on this step take its other slots
					wait = 0
				}
			}
		}
		if wait == 0 {
			l.inflight++
			l.peak = max(l.peak, l.inflight)
			if l.interval > 0 {
				l.next = now.Add(l.interval)
			}
			l.mu.Unlock()
			return now, nil
		}
		wake := l.wake
		l.waiters = true
		l.mu.Unlock()
		var t *time.Timer
		var timer <-chan time.Time
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
	}
}

// done ends an attempt that started at start: resp is its answer (nil on
// a transport error), read only for its status and headers.
func (l *limiter) done(start time.Time, resp *http.Response) {
	if l == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.answered.Store(true)
	took := now.Sub(start)
	if l.rtt == 0 {
		l.rtt = took
	} else {
		l.rtt = (7*l.rtt + took) / 8
	}
	if resp != nil {
		// The budget headers are read once an answer: the cut, the slow
		// start and the pacing below all use them.
		q := readQuota(resp.Header, now)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			// One cut per round trip: the attempts already in flight
			// were sent under the old limit and say nothing new.
			if now.Sub(l.lastCut) > l.rtt {
				// Half of what was in flight (this attempt too),
				// not of a limit above it.
				l.limit = max(1, min(l.limit, float64(l.inflight+1))/2)
				l.lastCut = now
			}
			if d, ok := retryHint(resp.Header, now); ok {
				if d > l.p.maxPause {
					d = l.p.maxPause
				}
				if at := now.Add(d); at.After(l.pauseUntil) {
					l.pauseUntil = at
				}
			}
			if !q.ok {
				l.learn(now)
			}
		case resp.StatusCode < 400:
			switch {
			case l.lastCut.IsZero() && l.limit < l.p.max:
				// Slow start, unless the answer shows room for more.
				l.limit = min(l.p.max, max(l.limit+1, q.room()))
			case float64(l.inflight+1) >= math.Floor(l.limit):
				l.limit = min(l.p.max, l.limit+1/l.limit)
			}
			l.succ[l.nsucc%len(l.succ)] = now
			l.nsucc++
			if l.learned {
				// Probe upwards slowly (+5% per hundred
				// successes), so a raised limit is found.
				l.rate *= 1.0005
				l.interval = time.Duration(float64(time.Second) / l.rate)
			}
		}
		l.pace(q)
	}
	l.wakeWaiters()
}

// wakeWaiters has every caller waiting in acquire look again (a slot
// freed, the pacing or the opening changed); l.mu is held. A new channel
// only when someone waits on this one: most attempts end with nobody
// waiting.
func (l *limiter) wakeWaiters() {
	if l.waiters {
		close(l.wake)
		l.wake = make(chan struct{})
		l.waiters = false
	}
}

// minOpenStep is the shortest opening step: a loopback server's 429
// comes back well within it.
const minOpenStep = time.Millisecond

// opening reports whether l still opens by the clock (no attempt has
// ended yet), for the transport to time its first connections.
func (l *limiter) opening() bool {
	return l != nil && l.p.timed && !l.answered.Load()
}

// sawDial takes the time a new connection to the endpoint took to set up
// (TCP, and TLS or a proxy's tunnel: one to three round trips to the
// server that answers) before any answer: the opening step is four of
// them, no less than a refused request on a new connection takes to come
// back, so a rate limit's 429 arrives before the opening has sent more
// than about one attempt past it.
func (l *limiter) sawDial(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.answered.Load() || l.step > 0 {
		return
	}
	l.step = max(minOpenStep, 4*d)
	l.openNext = time.Now().Add(l.step)
	l.wakeWaiters() // those waiting for a release now wait on the clock
}

// learn paces a server that sends no budget headers at a little under the
// success rate it served up to a 429: a rate limit shows as the rate at
// which answers stop coming.
func (l *limiter) learn(now time.Time) {
	n := min(l.nsucc, len(l.succ))
	if n < 8 {
		return
	}
	oldest := l.succ[(l.nsucc-n)%len(l.succ)]
	newest := l.succ[(l.nsucc-1)%len(l.succ)]
	if span := newest.Sub(oldest); span > 0 && now.Sub(newest) < time.Second {
		l.rate = 0.95 * float64(n-1) / span.Seconds()
		l.learned = true
		l.interval = min(time.Duration(float64(time.Second)/l.rate), l.p.maxPause)
	}
}

// quota is an answer's request budget headers, read by budget.
type quota struct {
	limit, remaining float64
	reset            time.Duration
	ok               bool
}

func readQuota(h http.Header, now time.Time) quota {
	var q quota
	q.limit, q.remaining, q.reset, q.ok = budget(h, now)
	return q
}

// pace sets the spacing of starts from a response's request budget.
func (l *limiter) pace(q quota) {
	limit, remaining, reset, ok := q.limit, q.remaining, q.reset, q.ok
	if !ok || limit <= 0 {
		return
	}
	l.learned = false // the server says its budget: no guessing
	// The server refills limit-remaining requests over reset: that is
	// its rate, learned whenever the budget is not full.
	if spent := limit - remaining; spent >= 1 && reset > 0 {
		// Smoothed: remaining is whole requests, so one answer's
		// estimate is off by up to one request's worth.
		if r := spent / reset.Seconds(); l.rate == 0 {
			l.rate = r
		} else {
			l.rate = 0.8*l.rate + 0.2*r
		}
	}
	// Plenty left, even if every caller started at once: no pacing.
	low := max(limit/2, 2*float64(l.peak))
	if l.rate <= 0 || remaining >= low {
		l.interval = 0
		return
	}
	// Spend at the refill rate, steering the budget towards half full: a
	// little under the rate below a quarter, so it grows back instead of
	// reaching zero; a little over above half (it is paced there only
	// because many callers could start at once).
	iv := time.Duration(float64(time.Second) / l.rate)
	switch {
	case remaining < limit/4:
		iv = iv * 10 / 9
	case remaining >= limit/2:
		iv = iv * 9 / 10
	}
	l.interval = min(iv, l.p.maxPause)
}

// room is how many attempts an answer shows an endpoint has room for:
// half the request budget it says is left (the rest is for the pacing to
// spend), or no bound without budget headers (nothing to pace by: a local
// server, or one that only ever answers 429).
func (q quota) room() float64 {
	if !q.ok {
		return math.Inf(1)
	}
	return math.Floor(q.remaining / 2)
}

// budget reads the request budget headers: OpenAI's (also Groq's and
// Azure's) x-ratelimit-*-requests, with a Go-style duration reset ("1s",
// "6m0s", "120ms"), or Anthropic's anthropic-ratelimit-requests-*, whose
// reset is an RFC 3339 time.
func budget(h http.Header, now time.Time) (limit, remaining float64, reset time.Duration, ok bool) {
	// Every answer is read here: canonical names (no canonicalising copy)
	// and no parse of an absent header (no error value built).
	get := func(k string) (float64, bool) {
		v := strings.TrimSpace(h.Get(k))
		if v == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil && f >= 0
	}
	if r, okR := get("X-Ratelimit-Remaining-Requests"); okR {
		lim, okL := get("X-Ratelimit-Limit-Requests")
		d, err := time.ParseDuration(strings.TrimSpace(h.Get("X-Ratelimit-Reset-Requests")))
		return lim, r, d, okL && err == nil
	}
	if r, okR := get("Anthropic-Ratelimit-Requests-Remaining"); okR {
		lim, okL := get("Anthropic-Ratelimit-Requests-Limit")
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get("Anthropic-Ratelimit-Requests-Reset")))
		return lim, r, at.Sub(now), okL && err == nil
	}
	return 0, 0, 0, false
}

// retryHint is how long a 429 asks every caller to wait: retry-after-ms
// (OpenAI's and Azure's), else, for an exhausted request budget, the time
// one request takes to refill (the reset headers give the time to refill
// all of it). A bare Retry-After is not shared: in whole seconds it is far
// coarser than a rate limit's refill, and pausing every caller for it
// would idle the run (measured: 0.12 of R); the caller that got it waits
// it in the transport, and the AIMD cut slows the rest.
func retryHint(h http.Header, now time.Time) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms >= 0 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	if limit, remaining, reset, ok := budget(h, now); ok && remaining < 1 && limit >= 1 && reset > 0 {
		return time.Duration(float64(reset) / limit), true
	}
	return 0, false
}
