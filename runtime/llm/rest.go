package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// rest is what the hand-written JSON clients (Gemini, Azure, Hugging Face,
// Anthropic, Bedrock) share: the OpenAI client's retrying,
// circuit-breaking, rate-adapting HTTP client and its environment, reused
// as is, so every provider has one retry policy, one breaker and one
// limiter per endpoint and one way of scrubbing keys from errors.
type rest struct{ base *OpenAI }

func newRest(opts OpenAIOptions) rest { return rest{base: NewOpenAI(opts)} }

func (r rest) getenv(k string) string { return r.base.getenv(k) }

// firstEnv returns the first of names that is set, and its value; the
// first name when none is.
func (r rest) firstEnv(names ...string) (name, value string) {
	for _, n := range names {
		if v := r.getenv(n); v != "" {
			return n, v
		}
	}
	return names[0], ""
}

// keyNames are the variables to read for a request naming keyEnv: the
// provider's whole list when keyEnv is one of them (routing names the
// one that is set), else keyEnv alone.
func keyNames(keyEnv string, defaults []string) []string {
	if keyEnv == "" {
		return defaults
	}
	for _, d := range defaults {
		if d == keyEnv {
			return defaults
		}
	}
	return []string{keyEnv}
}

// circuitOpen reports whether calls to endpoint currently fail fast.
func (r rest) circuitOpen(endpoint string) bool {
	return r.base.tr.breakers.get(endpoint).isOpen()
}

// post sends body as JSON through the retrying transport; a returned
// response is a success (status < 400) whose body the caller closes.
func (r rest) post(ctx context.Context, url string, body []byte, hdr http.Header) (*http.Response, error) {
	req, err := newPost(ctx, url, body)
	if err != nil {
		return nil, &Error{Kind: KindClient, Msg: "bad endpoint URL: " + err.Error()}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return r.base.http.Do(req)
}

// call runs one model call with the OpenAI client's policy: a broken
// answer (cut stream, bad JSON) is retried once as a whole call, unless
// text already reached the caller.
func (r rest) call(ctx context.Context, st *callState, model string, onChunk ChunkFunc,
	once func(ctx context.Context, chunk ChunkFunc) (*Response, error)) (*Response, error) {
	ctx = withState(ctx, st)
	tries := 1
	if r.base.retry.MaxRetries > 0 {
		tries = 2
	}
	for i := 0; ; i++ {
		delivered := false
		chunk := onChunk
		if onChunk != nil {
			chunk = func(d string) { delivered = true; onChunk(d) }
		}
		resp, err := once(ctx, chunk)
		if err == nil {
			resp.Latency = time.Since(st.lastTry)
			return resp, nil
		}
		e := toError(ctx, err, st, model)
		if e.Kind == KindBadResponse && !delivered && i+1 < tries {
			continue
		}
		return nil, e
	}
}

// decodeJSON reads a whole JSON answer into v.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// readSSE calls fn with the data of each server-sent event in body; see
// readEvents.
func readSSE(body io.Reader, fn func(data []byte) error) error {
	return readEvents(body, func(_ string, data []byte) error { return fn(data) })
}

// readEvents calls fn with the name ("" when none) and data of each
// server-sent event in body. It takes LF and CRLF line ends (Gemini writes
// CRLF) and "data:" with or without the space (TGI writes none); "data:
// [DONE]" ends the stream, and so does fn returning errDone. It returns
// nil then, else fn's error or the read error that ended the body (io.EOF
// or io.ErrUnexpectedEOF when the body just stopped): whether that is a
// complete answer is for the caller's format to say.
func readEvents(body io.Reader, fn func(event string, data []byte) error) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var event string
	var data []byte
	has := false
	flush := func() error {
		if !has {
			return nil
		}
		ev, d := event, data
		event, data, has = "", data[:0], false
		if string(bytes.TrimSpace(d)) == "[DONE]" {
			return errDone
		}
		return fn(ev, d)
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 || err == nil {
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(line) == 0:
				if ferr := flush(); ferr != nil {
					return doneNil(ferr)
				}
			case line[0] == ':':
				// comment (keep-alive)
			default:
				field, value, _ := bytes.Cut(line, []byte(":"))
				value = bytes.TrimPrefix(value, []byte(" "))
				switch string(field) {
				case "event":
					event = string(value)
				case "data":
					if has {
						data = append(data, '\n')
					}
					data = append(data, value...)
					has = true
				}
			}
		}
		if err != nil {
			// A last event without its blank line still counts.
			if ferr := flush(); ferr != nil {
				return doneNil(ferr)
			}
			return err
		}
	}
}

var errDone = errors.New("[DONE]")

func doneNil(err error) error {
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

// streamEnded is the error for a stream whose body stopped before the
// format's last event; err is what the body returned.
func streamEnded(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Kind: KindBadResponse, Msg: "stream ended before " + what}
	}
	return &streamErr{err}
}

// missingKey is the error for a call made without its key.
func missingKey(endpoint, model string, names ...string) *Error {
	msg := "no API key: set $" + names[0]
	if len(names) > 1 {
		msg += " (or $" + strings.Join(names[1:], ", $") + ")"
	}
	return &Error{Kind: KindAuth, Endpoint: endpoint, Model: model, Msg: msg}
}

// unknownSetting rejects a setting the client does not map, naming it, the
// way the OpenAI client does, so a typo fails instead of being ignored.
func unknownSetting(provider, k string) error {
	return errors.New("setting " + k + ": not a " + provider + " parameter (remove it from the model settings)")
}
