package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"syscall"

	openai "github.com/sashabaranov/go-openai"
)

var errEmptyChoices = errors.New("empty choices")

// streamErr marks an error met while reading a stream after it started.
type streamErr struct{ err error }

func (e *streamErr) Error() string { return e.err.Error() }
func (e *streamErr) Unwrap() error { return e.err }

func itoa(n int) string { return strconv.Itoa(n) }

// toError makes any failure of a call an *Error naming the fault. Text
// from the server or the network is scrubbed of the key.
func toError(ctx context.Context, err error, st *callState, model string) *Error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		out.Model = model
		if out.Endpoint == "" {
			out.Endpoint = st.endpoint
		}
		if out.Attempts == 0 {
			out.Attempts = st.attempts
		}
		out.Msg = scrub(out.Msg, st.key)
		return &out
	}
	if ctx.Err() != nil {
		return canceled(st.endpoint, model, st.attempts, ctx.Err())
	}
	mk := func(kind ErrorKind, status int, msg string) *Error {
		return &Error{Kind: kind, Endpoint: st.endpoint, Model: model, Status: status, Attempts: st.attempts, Msg: scrub(msg, st.key), err: err}
	}
	var se *streamErr
	inStream := errors.As(err, &se)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var api *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.Is(err, errEmptyChoices):
		return mk(KindBadResponse, 0, "empty choices")
	case errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		return mk(KindBadResponse, 0, "stream sent too many empty messages")
	case errors.As(err, &syn) || errors.As(err, &typ):
		return mk(KindBadResponse, 0, "malformed JSON in response: "+shorten(err.Error(), 120))
	case errors.As(err, &api):
		// An error event inside a 200 stream.
		return mk(KindServer, api.HTTPStatusCode, "server error in stream: "+shorten(api.Message, 200))
	case errors.As(err, &reqErr):
		return mk(KindBadResponse, reqErr.HTTPStatusCode, "unexpected answer: "+reqErr.HTTPStatus)
	case inStream && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		return mk(KindTimeout, 0, "stream stalled past the per-attempt timeout")
	case inStream && errors.Is(err, syscall.ECONNRESET):
		return mk(KindBadResponse, 0, "stream ended before [DONE]: connection reset")
	case inStream && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return mk(KindBadResponse, 0, "stream ended before [DONE]")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return mk(KindBadResponse, 0, "response body cut short")
	case inStream:
		return mk(KindBadResponse, 0, "stream broken: "+shorten(err.Error(), 120))
	}
	// go-openai's own request checks (e.g. o1 limits) land here.
	return mk(KindClient, 0, shorten(err.Error(), 200))
}
