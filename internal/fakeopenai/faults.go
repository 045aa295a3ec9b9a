package fakeopenai

import "strconv"

// Kind says how the server misbehaves for one request.
type Kind int

const (
	KindNone         Kind = iota // answer normally
	KindStatus                   // answer Fault.Code with an OpenAI error body
	KindHang                     // never answer; wait until the client gives up
	KindReset                    // hijack the connection and reset it (RST)
	KindCutStream                // send half the answer, then drop the connection
	KindMalformed                // 200 with a body that is not valid JSON
	KindEmptyChoices             // 200 with "choices": []
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindStatus:
		return "status"
	case KindHang:
		return "hang"
	case KindReset:
		return "reset"
	case KindCutStream:
		return "cut_stream"
	case KindMalformed:
		return "malformed"
	case KindEmptyChoices:
		return "empty_choices"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is what the server does with one request.
type Fault struct {
	Kind       Kind
	Code       int    // KindStatus: HTTP status
	RetryAfter string // KindStatus: Retry-After header value, "" for none
}

// The faults without parameters.
var (
	None         = Fault{Kind: KindNone}
	Hang         = Fault{Kind: KindHang}
	Reset        = Fault{Kind: KindReset}
	CutStream    = Fault{Kind: KindCutStream}
	Malformed    = Fault{Kind: KindMalformed}
	EmptyChoices = Fault{Kind: KindEmptyChoices}
)

// Status answers code, with a Retry-After header when retryAfter != "".
func Status(code int, retryAfter string) Fault {
	return Fault{Kind: KindStatus, Code: code, RetryAfter: retryAfter}
}

// FaultFunc picks the fault for request number n (1-based, in arrival order).
type FaultFunc func(n int64, req ChatRequest) Fault

// FaultFirst fails the first k requests with f, then answers normally:
// "passes after k retries".
func FaultFirst(k int64, f Fault) FaultFunc {
	return func(n int64, _ ChatRequest) Fault {
		if n <= k {
			return f
		}
		return None
	}
}

// FaultEvery fails every k-th request (k, 2k, ...) with f.
func FaultEvery(k int64, f Fault) FaultFunc {
	return func(n int64, _ ChatRequest) Fault {
		if k > 0 && n%k == 0 {
			return f
		}
		return None
	}
}

// FaultAlways fails every request with f.
func FaultAlways(f Fault) FaultFunc {
	return func(int64, ChatRequest) Fault { return f }
}

// FaultIf fails the requests for which match is true (e.g. by prompt text,
// which keeps a fault on one test whatever the arrival order).
func FaultIf(match func(ChatRequest) bool, f Fault) FaultFunc {
	return func(_ int64, req ChatRequest) Fault {
		if match(req) {
			return f
		}
		return None
	}
}

// Weighted is one entry of FaultRandom: fault F with probability P.
type Weighted struct {
	P float64
	F Fault
}

// FaultRandom picks a fault per request from a seeded generator keyed by the
// request number, so a given (seed, n) always gets the same fault: e.g.
// {0.25, Status(429, "1")}, {0.05, Status(500, "")} fails 25% and 5%.
func FaultRandom(seed uint64, faults ...Weighted) FaultFunc {
	return func(n int64, _ ChatRequest) Fault {
		u := float64(splitmix64(seed^uint64(n)*0x9E3779B97F4A7C15)>>11) / (1 << 53)
		for _, w := range faults {
			if u < w.P {
				return w.F
			}
			u -= w.P
		}
		return None
	}
}

// Chain returns the first fault that is not None.
func Chain(fns ...FaultFunc) FaultFunc {
	return func(n int64, req ChatRequest) Fault {
		for _, fn := range fns {
			if f := fn(n, req); f.Kind != KindNone {
				return f
			}
		}
		return None
	}
}

func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}
