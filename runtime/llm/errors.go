package llm

import (
	"context"
	"errors"
	"fmt"

	"github.com/aieval/aieval/internal/secrets"
)

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
	KindCanceled    ErrorKind = "canceled"     // the caller's context ended the call
)

// Error is a failed model call. Its text never holds a credential.
type Error struct {
	Kind     ErrorKind
	Endpoint string // base URL, no credentials
	Model    string
	Status   int // HTTP status, 0 if none
	Attempts int
	Msg      string

	err error // cause for errors.Is (context errors); never shown
}

// Unwrap exposes the cause, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.err }

// Retryable reports whether a later call might succeed (rate limits,
// server and network faults), as opposed to a request that is wrong.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindRateLimited, KindServer, KindTimeout, KindNetwork, KindCircuitOpen, KindBadResponse:
		return true
	}
	return false
}

// canceled is the error for a call whose context ended: timeout when a
// deadline passed, canceled otherwise.
func canceled(endpoint, model string, attempts int, cause error) *Error {
	kind, msg := KindCanceled, "call canceled"
	if errors.Is(cause, context.DeadlineExceeded) {
		kind, msg = KindTimeout, "deadline exceeded"
	}
	return &Error{Kind: kind, Endpoint: endpoint, Model: model, Attempts: attempts, Msg: msg, err: cause}
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", secrets.RedactURL(e.Endpoint), e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return secrets.Scrub(s)
}
