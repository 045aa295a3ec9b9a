package llm

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BreakerPolicy configures the per-endpoint circuit breaker.
type BreakerPolicy struct {
	Threshold int           // consecutive connection failures that open it; 0 = 5, <0 = never open
	Cooldown  time.Duration // open time before one probe is let through; 0 = 5s
}

// DefaultBreaker is used for zero fields of BreakerPolicy.
var DefaultBreaker = BreakerPolicy{Threshold: 5, Cooldown: 5 * time.Second}

type breakers struct {
	policy BreakerPolicy
	mu     sync.Mutex
	m      map[string]*breaker
}

func newBreakers(p BreakerPolicy) *breakers {
	if p.Threshold == 0 {
		p.Threshold = DefaultBreaker.Threshold
	}
	if p.Cooldown <= 0 {
		p.Cooldown = DefaultBreaker.Cooldown
	}
	return &breakers{policy: p, m: map[string]*breaker{}}
}

func (b *breakers) get(endpoint string) *breaker {
	key := strings.TrimRight(endpoint, "/")
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.m[key]
	if br == nil {
		br = &breaker{policy: b.policy}
		br.healthy.Store(true)
		b.m[key] = br
	}
	return br
}

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// breaker opens after Threshold consecutive connection-level failures
// (refused, DNS, timeout). Any answer from the server, even a 429 or 500,
// proves it is up and closes it. Open, it fails calls at once; after the
// cooldown one probe goes through (half-open) and decides.
//
// Closed with no failure counted is every attempt's state on a healthy
// endpoint: healthy says so without the lock, so allow and success cost
// an atomic load there instead of two lock round trips on a mutex every
// caller of the endpoint shares.
type breaker struct {
	policy   BreakerPolicy
	healthy  atomic.Bool // state == closed && fails == 0; written under mu
	mu       sync.Mutex
	state    breakerState
	fails    int
	openedAt time.Time
	probing  bool
	last     string // last failure, for the error text
}

// allow reports whether an attempt may go out, and if not, why; now is
// read only when the breaker is not healthy.
func (b *breaker) allow(now func() time.Time) (bool, string) {
	if b.policy.Threshold < 0 || b.healthy.Load() {
		return true, ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case open:
		if now().Sub(b.openedAt) >= b.policy.Cooldown {
			b.state, b.probing = halfOpen, true
			return true, ""
		}
	case halfOpen:
		if !b.probing {
			b.probing = true
			return true, ""
		}
	default:
		return true, ""
	}
	return false, fmt.Sprintf("endpoint down after %d consecutive connection failures (last: %s); failing fast, next probe within %s",
		b.fails, b.last, b.policy.Cooldown)
}

// failure records a connection-level failure.
func (b *breaker) failure(now time.Time, why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.healthy.Store(false)
	b.fails++
	b.last = why
	if b.state == halfOpen || (b.state == closed && b.policy.Threshold > 0 && b.fails >= b.policy.Threshold) {
		b.state, b.openedAt, b.probing = open, now, false
	}
}

// success records that the server answered.
func (b *breaker) success() {
	if b.healthy.Load() {
		return // closed, nothing counted: nothing to reset
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.fails, b.probing = closed, 0, false
	b.healthy.Store(true)
}

// abort releases a probe that ended without a verdict (caller canceled).
func (b *breaker) abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == halfOpen {
		b.probing = false
	}
}

// isOpen is for tests and diagnostics.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != closed
}
