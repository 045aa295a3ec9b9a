package llm

import "fmt"

// ErrorKind classifies why a model call failed.
type ErrorKind string

const (
	KindRateLimited ErrorKind = "rate_limited" // 429 after retries
	KindServer      ErrorKind = "server"       // 5xx after retries
	KindTimeout     ErrorKind = "timeout"      // attempt timed out after retries
	KindNetwork     ErrorKind = "network"      // refused, reset, DNS
	KindCircuitOpen ErrorKind = "circuit_open" // endpoint judged down; failed fast
	KindBadResponse ErrorKind = "bad_response" // malformed JSON, empty choices, broken stream
	KindAuth        ErrorKind = "auth"         // 401/403
	KindClient      ErrorKind = "client"       // other 4xx
	KindUnsupported ErrorKind = "unsupported"  // a parser aieval cannot run
)

// Error is a failed model call. Its text never holds a credential.
type Error struct {
	Kind     ErrorKind
	Endpoint string // base URL, no credentials
	Model    string
	Status   int // HTTP status, 0 if none
	Attempts int
	Msg      string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Endpoint, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}
