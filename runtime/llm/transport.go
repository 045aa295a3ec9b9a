package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aieval/aieval/internal/secrets"
)

// callState travels in the request context from Complete/Embed to the
// transport, which records what the caller cannot see through go-openai.
type callState struct {
	endpoint string
	keyEnv   string
	key      string // only to scrub it from error text
	extra    []byte // JSON members go-openai would drop (zero values), spliced into the body
	attempts int    // HTTP attempts over the whole call
	lastTry  time.Time
	// retryHint reads a provider's own rate-limit headers (e.g.
	// anthropic-ratelimit-*-reset) when a 429 has no Retry-After; nil: none.
	retryHint func(h http.Header, now time.Time) (time.Duration, bool)
	// The endpoint's breaker and limiter when the caller knows them
	// (cachedClient); nil: the transport looks them up.
	br  *breaker
	lim *limiter
}

type stateKey struct{}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// stateCtx is withState's context and its state in one allocation, for
// the chat path that makes one per call.
type stateCtx struct {
	context.Context
	st callState
}

func (c *stateCtx) Value(k any) any {
	if k == (stateKey{}) {
		return &c.st
	}
	return c.Context.Value(k)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// transport is the one place where retries, per-attempt timeouts and the
// circuit breaker live. It sits under go-openai, which hides response
// headers (Retry-After) and status codes of streams from its callers.
type transport struct {
	base     http.RoundTripper
	policy   RetryPolicy
	timeout  time.Duration
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	breakers *breakers
	limits   *limiters // adaptive concurrency per endpoint (limiter.go); nil: none
}

// maxBody caps one answer's body, streamed or not: a chat answer is never
// this large, and a hostile endpoint must not cost more memory than this
// (a var so tests can lower it).
var maxBody int64 = 64 << 20

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := stateFrom(req.Context())
	if st == nil {
		st = &callState{endpoint: req.URL.Scheme + "://" + req.URL.Host}
	}
	var body []byte
	if p, ok := req.Body.(*payload); ok {
		body = p.b // built by aieval, final: sent as is
	} else {
		var err error
		body, err = replayable(req, st.extra)
		body = restoreContent(body)
		if err != nil {
			return nil, &Error{Kind: KindClient, Endpoint: st.endpoint, Msg: "read request body: " + err.Error()}
		}
	}
	br, lim := st.br, st.lim
	if br == nil {
		br = t.breakers.get(st.endpoint)
	}
	if lim == nil {
		lim = t.limits.get(st.endpoint)
	}
	parent := req.Context()
	for try := 0; ; try++ {
		if ok, why := br.allow(t.now); !ok {
			return nil, &Error{Kind: KindCircuitOpen, Endpoint: st.endpoint, Attempts: st.attempts, Msg: why}
		}
		started, lerr := lim.acquire(parent)
		if lerr != nil {
			return nil, canceled(st.endpoint, "", st.attempts, lerr)
		}
		st.attempts++
		st.lastTry = time.Now()
		r := req
		if lim.opening() {
			r = traceDial(req, lim)
		}
		resp, cancel, err := t.attempt(r, body)
		lim.done(started, resp)
		last := try >= t.policy.MaxRetries
		if parent.Err() != nil {
			cancel()
			br.abort()
			return nil, canceled(st.endpoint, "", st.attempts, parent.Err())
		}
		if tl := (errTooLarge{}); errors.As(err, &tl) {
			cancel()
			br.success()
			return nil, &Error{Kind: KindBadResponse, Endpoint: st.endpoint, Attempts: st.attempts, Msg: tl.Error(), err: tl}
		}
		if err != nil {
			cancel()
			kind, msg, down := classifyNetErr(err)
			if down {
				br.failure(t.now(), msg)
			} else {
				br.success()
			}
			if last {
				return nil, &Error{Kind: kind, Endpoint: st.endpoint, Attempts: st.attempts, Msg: scrub(msg, st.key), err: err}
			}
			if err := t.sleep(parent, t.backoff(try)); err != nil {
				return nil, canceled(st.endpoint, "", st.attempts, err)
			}
			continue
		}
		br.success()
		code := resp.StatusCode
		if code < 400 {
			cancel() // a stream keeps its own timer, released on Close
			return resp, nil
		}
		// 529 is Anthropic's "overloaded".
		retryable := code == 429 || code == 500 || code == 502 || code == 503 || code == 504 || code == 529
		if !retryable || last {
			e := statusError(resp, st)
			cancel()
			return nil, e
		}
		wait := t.backoff(try)
		ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now())
		if !ok && st.retryHint != nil {
			ra, ok = st.retryHint(resp.Header, t.now())
		}
		if ok {
			wait = min(ra, t.policy.MaxRetryAfter)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		cancel()
		if err := t.sleep(parent, wait); err != nil {
			return nil, canceled(st.endpoint, "", st.attempts, err)
		}
	}
}

// traceDial times the set-up of the new connection req opens (TCP, and
// TLS or a proxy's tunnel), for the limiter's opening step; only before
// the endpoint's first answer (a trace costs allocations a request).
func traceDial(req *http.Request, lim *limiter) *http.Request {
	var began atomic.Int64 // dials to several addresses may race (happy eyeballs)
	trace := &httptrace.ClientTrace{
		ConnectStart: func(string, string) { began.CompareAndSwap(0, time.Now().UnixNano()) },
		GotConn: func(info httptrace.GotConnInfo) {
			if b := began.Load(); !info.Reused && b != 0 {
				lim.sawDial(time.Duration(time.Now().UnixNano() - b))
			}
		},
	}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
}

// attempt sends one try under the per-attempt timeout. A non-streamed body
// is read here, so a timeout or cut while reading it is retried like any
// transport error; a stream is handed on with its timer still running.
func (t *transport) attempt(req *http.Request, body []byte) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	// A shallow copy, not a Clone (a header map and a URL per attempt): a
	// RoundTripper must not change the request it is given, and the ones
	// that set headers clone first (Bedrock's signer below, Azure's api-key
	// above), so the headers and URL can be shared.
	r := req.WithContext(ctx)
	if body != nil {
		// A *bytes.Reader (behind NopCloser), not a payload: net/http
		// writes the headers and a body it knows to be in memory in one
		// write; any other body type gets its headers flushed first, a
		// second syscall on both ends (measured: +18 µs a call here).
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		// net/http resends through GetBody (a request on a reused
		// connection that closed): the same final bytes, which newPost's
		// GetBody already gives.
		if _, ok := req.Body.(*payload); !ok || req.GetBody == nil {
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, cancel, err
	}
	if isStreamType(resp.Header.Get("Content-Type")) && resp.StatusCode < 400 {
		tail := make([]byte, 1, 2*len(doneMarker)+1)
		tail[0] = '\n'
		resp.Body = &streamBody{rc: resp.Body, cancel: cancel, tail: tail}
		return resp, func() {}, nil
	}
	rb, n, err := readCapped(resp.Body, resp.ContentLength, maxBody)
	resp.Body.Close()
	if err != nil {
		return nil, cancel, err
	}
	if p, ok := rb.(*payload); ok {
		resp.Body = p // the chat path reads its bytes without a copy
	} else {
		resp.Body = io.NopCloser(rb)
	}
	resp.ContentLength = n
	return resp, cancel, nil
}

// isStreamType reports whether a response body is a stream to hand on
// unread: SSE, or the AWS binary event stream (Bedrock's converse-stream).
func isStreamType(ct string) bool {
	return strings.HasPrefix(ct, "text/event-stream") || strings.HasPrefix(ct, "application/vnd.amazon.eventstream")
}

// errTooLarge is an answer past maxBody.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return "response body over " + strconv.FormatInt(e.limit>>20, 10) + " MiB; refused"
}

// readCapped reads r whole, failing as soon as it passes limit, and
// returns a reader over what it read: the body costs about its own size
// once (no copy), and a huge one is dropped at the cap before any decoding
// starts. hint is the declared Content-Length (-1 when unknown): a body of
// that size is read into one buffer of exactly that size; otherwise chunks
// start at 4 KiB and double up to 1 MiB, so a small answer does not pay for
// a 1 MiB buffer (zeroing it was a fifth of a run's CPU) and a large one
// still lands in few pieces.
func readCapped(r io.Reader, hint, limit int64) (io.Reader, int64, error) {
	const first, chunk = 4 << 10, 1 << 20
	size := int64(first)
	if hint >= 0 && hint < chunk {
		size = hint + 1 // the extra byte sees EOF in the same read
	}
	var parts [][]byte // beyond the first buffer: a large body is rare
	var n int64
	for {
		size = min(size, limit+1-n)
		buf := make([]byte, size)
		m, err := io.ReadFull(r, buf)
		n += int64(m)
		if m > 0 {
			parts = append(parts, buf[:m])
		}
		if n > limit {
			return nil, n, errTooLarge{limit}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			switch len(parts) {
			case 0:
				return newPayload(nil), n, nil
			case 1:
				return newPayload(parts[0]), n, nil
			}
			rs := make([]io.Reader, len(parts))
			for i, p := range parts {
				rs[i] = bytes.NewReader(p)
			}
			return io.MultiReader(rs...), n, nil
		}
		if err != nil {
			return nil, n, err
		}
		size = min(2*size, chunk)
	}
}

// payload is a body that is bytes already: a request body aieval built
// (sent and resent as is, never read into a copy), or an answer read
// whole by attempt (whose bytes the chat decoder takes directly).
type payload struct {
	b []byte
	r bytes.Reader
}

// newPost is a POST of body, which the transport sends as is (no copy,
// no splice of extra members); a redirect that resends it (307, 308)
// gets the same bytes.
func newPost(ctx context.Context, url string, body []byte) (*http.Request, error) {
	if len(body) == 0 {
		return http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, newPayload(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return newPayload(body), nil }
	return req, nil
}

func newPayload(b []byte) *payload {
	p := &payload{b: b}
	p.r.Reset(b)
	return p
}

func (p *payload) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *payload) Close() error               { return nil }

// whole is the body when none of it was read yet.
func (p *payload) whole() ([]byte, bool) {
	return p.b, p.r.Len() == len(p.b)
}

// replayable returns the request body as bytes, with extra members spliced
// in after the opening brace, so every attempt can resend it.
func replayable(req *http.Request, extra []byte) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(extra) > 0 {
		if i := bytes.IndexByte(b, '{'); i >= 0 {
			sep := []byte(",")
			if rest := bytes.TrimSpace(b[i+1:]); len(rest) > 0 && rest[0] == '}' {
				sep = nil
			}
			nb := make([]byte, 0, len(b)+len(extra)+1)
			nb = append(append(append(append(nb, b[:i+1]...), extra...), sep...), b[i+1:]...)
			b = nb
		}
	}
	return b, nil
}

// backoff is exponential with full jitter: uniform in [0, min(max, base*2^try)].
func (t *transport) backoff(try int) time.Duration {
	ceil := t.policy.BaseDelay << min(try, 30)
	if ceil <= 0 || ceil > t.policy.MaxDelay {
		ceil = t.policy.MaxDelay
	}
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 {
			return 0, true
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// classifyNetErr names a transport failure; down reports whether it says
// the endpoint is unreachable (counts toward opening the circuit).
func classifyNetErr(err error) (kind ErrorKind, msg string, down bool) {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return KindTimeout, "no answer within the per-attempt timeout", true
	case errors.As(err, &dns):
		return KindNetwork, "DNS lookup failed for " + dns.Name, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindNetwork, "connection refused", true
	case errors.As(err, &op) && op.Op == "dial":
		return KindNetwork, "cannot connect: " + op.Err.Error(), true
	case errors.Is(err, syscall.ECONNRESET):
		return KindNetwork, "connection reset", false
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return KindNetwork, "connection closed before the response was complete", false
	}
	return KindNetwork, "transport error: " + err.Error(), false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// statusError turns a final HTTP error answer into an *Error, keeping the
// server's message (scrubbed) since it usually says what to fix.
func statusError(resp *http.Response, st *callState) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"` // AWS: {"message": "..."}
	}
	detail := ""
	if json.Unmarshal(b, &body) == nil {
		detail = body.Error.Message
		if detail == "" {
			detail = body.Message
		}
	}
	code := resp.StatusCode
	e := &Error{Endpoint: st.endpoint, Status: code, Attempts: st.attempts}
	keyEnv := st.keyEnv
	if keyEnv == "" {
		keyEnv = "OPENAI_API_KEY"
	}
	switch {
	case code == 429:
		e.Kind, e.Msg = KindRateLimited, "rate limited"
	case code >= 500:
		e.Kind, e.Msg = KindServer, "server error"
	case code == 401 || code == 403:
		e.Kind, e.Msg = KindAuth, "rejected the API key (check $"+keyEnv+")"
	case code == 404:
		e.Kind, e.Msg = KindClient, "not found (check the model name and base_url)"
	default:
		e.Kind, e.Msg = KindClient, "request rejected"
	}
	if detail != "" {
		// Scrubbed whole, then cut: a key across the cut must not leak in part.
		e.Msg += ": " + shorten(scrub(detail, st.key), 200)
	}
	e.Msg = scrub(e.Msg, st.key)
	return e
}

// streamBody ends the attempt's timer when the stream is closed and turns a
// clean end of body without "data: [DONE]" into io.ErrUnexpectedEOF, since
// go-openai cannot tell a cut stream from a finished one.
type streamBody struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	tail   []byte // last bytes seen, to find a marker split across reads
	done   bool
	read   int64 // bytes so far; past maxBody the stream is refused
}

var doneMarker = []byte("\ndata: [DONE]")

func (s *streamBody) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	if s.read += int64(n); s.read > maxBody {
		return 0, errTooLarge{maxBody}
	}
	if n > 0 && !s.done {
		chunk := p[:n]
		edge := append(s.tail, chunk[:min(n, len(doneMarker))]...)
		if bytes.Contains(chunk, doneMarker) || bytes.Contains(edge, doneMarker) {
			s.done = true
		}
		if n >= len(doneMarker) {
			edge = append(edge[:0], chunk[n-len(doneMarker):]...)
		} else if len(edge) > len(doneMarker) {
			edge = append(edge[:0], edge[len(edge)-len(doneMarker):]...)
		}
		s.tail = edge
	}
	if err == io.EOF && !s.done {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (s *streamBody) Close() error {
	s.cancel()
	return s.rc.Close()
}

// scrub removes the call's key, every secret aieval knows, and anything
// shaped like a provider key (servers echo masked keys in 401 messages).
func scrub(s, key string) string {
	if len(key) >= 4 {
		s = strings.ReplaceAll(s, key, secrets.Redacted)
	}
	return secrets.Scrub(s)
}

// shorten makes s one line of at most n bytes, scrubbed before the cut.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(secrets.Scrub(s)), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
