package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/secrets"
	openai "github.com/sashabaranov/go-openai"
)

// RetryPolicy bounds retries of one model call.
type RetryPolicy struct {
	MaxRetries    int           // retries after the first try; 0 = never retry
	BaseDelay     time.Duration // first backoff; doubled each retry, with jitter
	MaxDelay      time.Duration // cap of one backoff
	MaxRetryAfter time.Duration // cap on a server's Retry-After
}

// DefaultRetry is used when no policy is given.
var DefaultRetry = RetryPolicy{MaxRetries: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 20 * time.Second, MaxRetryAfter: 60 * time.Second}

// DefaultBaseURL is used when neither the request nor OPENAI_BASE_URL names one.
const DefaultBaseURL = "https://api.openai.com/v1"

// OpenAIOptions configure the OpenAI-compatible client.
type OpenAIOptions struct {
	HTTPClient *http.Client                               // nil: a default client
	Retry      *RetryPolicy                               // nil: DefaultRetry
	Timeout    time.Duration                              // per attempt; 0 = none
	Getenv     func(string) string                        // nil: os.Getenv (OPENAI_API_KEY, OPENAI_BASE_URL, APIKeyEnv)
	Sleep      func(context.Context, time.Duration) error // nil: real sleep; tests inject
	Breaker    BreakerPolicy                              // zero: DefaultBreaker
	Now        func() time.Time                           // nil: time.Now; drives the breaker's cooldown
}

// OpenAI talks to any OpenAI-compatible endpoint: streams, embeddings and
// Azure through go-openai, non-streamed chats with its types but its own
// encoder and reader (see chat).
type OpenAI struct {
	opts   OpenAIOptions
	retry  RetryPolicy
	getenv func(string) string
	now    func() time.Time
	http   *http.Client
	tr     *transport

	mu      sync.Mutex // serialises building clients
	clients sync.Map   // clientKey -> *cachedClient; read per call, rarely written
}

type clientKey struct{ endpoint, keyEnv string }

type cachedClient struct {
	keySum [32]byte // Azure's: the key is read per call; rebuild when it changed
	key    string   // the OpenAI client's (auth holds it anyway): compared, not hashed, per call
	c      *openai.Client
	auth   []string // the Authorization header's value; nil without a key
	// hdr is every JSON post's headers (Authorization, Accept,
	// Content-Type), shared by its requests: nothing writes a request's
	// headers once built, unless a cookie jar adds its cookies (postJSON).
	hdr http.Header
	// The endpoint's breaker and limiter, looked up once (the transport
	// would otherwise take two shared locks a call to find them).
	br  *breaker
	lim *limiter
}

// NewOpenAI builds a client; it is safe for concurrent use.
func NewOpenAI(opts OpenAIOptions) *OpenAI {
	o := &OpenAI{opts: opts, retry: DefaultRetry, getenv: os.Getenv, now: time.Now}
	if opts.Retry != nil {
		o.retry = *opts.Retry
		o.retry.MaxRetries = max(o.retry.MaxRetries, 0)
	}
	if opts.Getenv != nil {
		o.getenv = opts.Getenv
	}
	if opts.Now != nil {
		o.now = opts.Now
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	hc := &http.Client{}
	var base http.RoundTripper
	if opts.HTTPClient != nil {
		*hc = *opts.HTTPClient
		base = opts.HTTPClient.Transport
	}
	if base == nil {
		// Many parallel calls go to one host: keep their connections.
		dt := http.DefaultTransport.(*http.Transport).Clone()
		dt.MaxIdleConnsPerHost = 256
		dt.MaxIdleConns = 1024
		base = dt
	}
	o.tr = &transport{base: base, policy: o.retry, timeout: opts.Timeout, sleep: sleep, now: o.now, breakers: newBreakers(opts.Breaker),
		limits: newLimiters(limitPolicy{initial: 8, max: 1024, maxPause: o.retry.MaxRetryAfter, timed: opts.Sleep == nil})}
	hc.Transport = o.tr
	o.http = hc
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Endpoint is the base URL a request goes to: req.BaseURL, else
// $OPENAI_BASE_URL, else DefaultBaseURL; without a trailing slash.
func (o *OpenAI) Endpoint(baseURL string) string {
	return o.endpoint(baseURL, "OPENAI_BASE_URL", DefaultBaseURL)
}

// endpoint is how every client picks its base URL: the request's, else
// the provider's variable env, else def; without a trailing slash.
func (o *OpenAI) endpoint(baseURL, env, def string) string {
	if baseURL == "" {
		baseURL = o.getenv(env)
	}
	if baseURL == "" {
		baseURL = def
	}
	return strings.TrimRight(baseURL, "/")
}

// CircuitOpen reports whether calls to the endpoint currently fail fast.
func (o *OpenAI) CircuitOpen(baseURL string) bool {
	return o.tr.breakers.get(o.Endpoint(baseURL)).isOpen()
}

// client returns the cached go-openai client for (endpoint, key env), and
// the key, read now so a changed environment is honoured.
func (o *OpenAI) client(endpoint, keyEnv string) (*openai.Client, string) {
	c, key := o.cached(endpoint, keyEnv)
	return c.c, key
}

func (o *OpenAI) cached(endpoint, keyEnv string) (*cachedClient, string) {
	key := o.getenv(keyVar(keyEnv))
	return o.cachedKey(endpoint, keyEnv, key), key
}

// keyVar is the variable holding a request's key.
func keyVar(keyEnv string) string {
	if keyEnv == "" {
		return "OPENAI_API_KEY"
	}
	return keyEnv
}

// cachedKey is cached with the key already read.
func (o *OpenAI) cachedKey(endpoint, keyEnv, key string) *cachedClient {
	k := clientKey{endpoint, keyEnv}
	if v, ok := o.clients.Load(k); ok {
		if c := v.(*cachedClient); c.key == key {
			return c // its key and its endpoint's URL secrets were registered with it
		}
	}
	secrets.Register(key) // scrubbed from everything written from now on
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.clients.Load(k); ok {
		if c := v.(*cachedClient); c.key == key {
			return c
		}
	}
	secrets.Default().RegisterURL(endpoint)
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = endpoint
	cfg.HTTPClient = o.http
	c := &cachedClient{key: key, c: openai.NewClientWithConfig(cfg),
		br: o.tr.breakers.get(endpoint), lim: o.tr.limits.get(endpoint)}
	if key != "" {
		c.auth = []string{"Bearer " + key}
	}
	c.hdr = http.Header{"Accept": jsonType, "Content-Type": jsonType}
	if c.auth != nil {
		c.hdr["Authorization"] = c.auth
	}
	o.clients.Store(k, c)
	return c
}

// CheckKeyHost refuses a call that would send a well-known key to a host
// other than its own (keyHomes): the default OPENAI_API_KEY goes only to
// OPENAI_BASE_URL's host, else api.openai.com, whether it is used by
// default or named with api_key_env. A base_url elsewhere (from a suite or
// an aiconfig, so possibly from a pull request) must name its own key
// variable. An unset variable has nothing to leak, so keyless local
// servers work as before. Callers may use it at load time (exit 2); every
// call checks it.
func (o *OpenAI) CheckKeyHost(baseURL, keyEnv, model string) error {
	name := keyVar(keyEnv)
	return o.checkKeyHost(o.Endpoint(baseURL), name, o.getenv(name), model)
}

// checkKeyHost is CheckKeyHost for a call's endpoint, with the key
// variable's name and value already read.
func (o *OpenAI) checkKeyHost(endpoint, name, key, model string) error {
	if key == "" {
		return nil
	}
	if name == "OPENAI_API_KEY" && origin(endpoint) == origin(o.Endpoint("")) {
		return nil // the usual case, decided without keyOrigins' list
	}
	origins, via, bound := o.keyOrigins(name)
	if !bound {
		return nil
	}
	for _, h := range origins {
		if origin(endpoint) == h {
			return nil
		}
	}
	where := "nowhere: it is not a model API key"
	if len(origins) > 0 {
		where = "only to " + strings.Join(origins, " or ")
		if via != "" {
			where += " (" + via + ")"
		}
	} else if via != "" {
		where = "only to the host of " + via + ", which is not set"
	}
	return &Error{Kind: KindClient, Endpoint: endpoint, Model: model,
		Msg: "model " + strconvQuote(model) + ": " + name + " goes " + where + ", not to base_url host " +
			origin(endpoint) + "; name this endpoint's own key variable with api_key_env (suite models: or aiconfig settings)"}
}

// origin is scheme://host[:port] of a URL, lowercased, without userinfo:
// the unit a key is bound to (http and https of one host differ). Every
// call checks its key's host, over a handful of endpoints: the answers
// are kept, not parsed again each time.
func origin(raw string) string {
	if v, ok := origins.Load(raw); ok {
		return v.(string)
	}
	out := parseOrigin(raw)
	if originsN.Add(1) <= maxOrigins {
		origins.Store(raw, out)
	}
	return out
}

var (
	origins    sync.Map // raw URL -> origin(raw)
	originsN   atomic.Int32
	maxOrigins = int32(256)
)

func parseOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return secrets.RedactURL(raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// Complete sends a chat completion, streamed when req.Stream.
func (o *OpenAI) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	// The endpoint and the key are read once a call (not once for the
	// host check and again for the client).
	endpoint := o.Endpoint(req.BaseURL)
	name := keyVar(req.APIKeyEnv)
	key := o.getenv(name)
	if err := o.checkKeyHost(endpoint, name, key, req.Model); err != nil {
		return nil, err
	}
	c := o.cachedKey(endpoint, req.APIKeyEnv, key)
	cc := c.c
	creq, extra, err := buildChat(req)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	sc := &stateCtx{Context: ctx, st: callState{endpoint: endpoint, keyEnv: req.APIKeyEnv, key: key, extra: extra, br: c.br, lim: c.lim}}
	st := &sc.st
	ctx = sc
	var body []byte
	if !req.Stream {
		// Encoded once, here, for every try and attempt (chatencode.go).
		if body, err = chatBody(&creq, extra); err != nil {
			return nil, toError(ctx, err, st, req.Model)
		}
	}
	// A broken answer (cut stream, bad JSON, no choices) is retried once as
	// a whole call, unless text already reached the caller.
	tries := 1
	if o.retry.MaxRetries > 0 {
		tries = 2
	}
	for i := 0; ; i++ {
		delivered := false
		chunk := onChunk
		if onChunk != nil {
			// Per chunk: a key split across two chunks is caught only in
			// the final text below.
			chunk = func(d string) { delivered = true; onChunk(secrets.Default().ScrubValues(d)) }
		}
		var resp *Response
		if req.Stream {
			resp, err = o.stream(ctx, cc, creq, chunk)
		} else {
			resp, err = o.chat(ctx, endpoint, c, body)
		}
		if err == nil {
			resp.Latency = time.Since(st.lastTry)
			// An endpoint echoing the key must not get it cached or
			// reported; only known values go, key-like examples stay.
			resp.Text = secrets.Default().ScrubValues(resp.Text)
			if len(resp.ToolCalls) > 0 {
				resp.ToolCalls = json.RawMessage(secrets.Default().ScrubValues(string(resp.ToolCalls)))
			}
			return resp, nil
		}
		e := toError(ctx, err, st, req.Model)
		if e.Kind == KindBadResponse && !delivered && i+1 < tries && !errors.As(e, new(errTooLarge)) {
			continue
		}
		return nil, e
	}
}

// complete is a non-streamed chat completion through go-openai (Azure's
// path: its client sets the api-key header and version query).
func (o *OpenAI) complete(ctx context.Context, cc *openai.Client, creq openai.ChatCompletionRequest) (*Response, error) {
	r, err := cc.CreateChatCompletion(ctx, creq)
	if err != nil {
		return nil, err
	}
	var a chatAnswer
	answerOf(&r, &a)
	return a.response()
}

// toolCallsJSON is the OpenAI tool_calls list; a legacy function_call is
// given in the same shape.
func toolCallsJSON(calls []openai.ToolCall, fn *openai.FunctionCall) json.RawMessage {
	if len(calls) == 0 && fn != nil {
		calls = []openai.ToolCall{{Type: openai.ToolTypeFunction, Function: *fn}}
	}
	if len(calls) == 0 {
		return nil
	}
	for i := range calls {
		calls[i].Index = nil
		if calls[i].Type == "" {
			calls[i].Type = openai.ToolTypeFunction
		}
	}
	b, _ := json.Marshal(calls)
	return b
}

// Embed calls /embeddings.
func (o *OpenAI) Embed(ctx context.Context, req *EmbedRequest) ([][]float64, error) {
	endpoint := o.Endpoint(req.BaseURL)
	if err := o.CheckKeyHost(req.BaseURL, req.APIKeyEnv, req.Model); err != nil {
		return nil, err
	}
	c, key := o.cached(endpoint, req.APIKeyEnv)
	st := &callState{endpoint: endpoint, keyEnv: req.APIKeyEnv, key: key}
	ctx = withState(ctx, st)
	data, err := o.embed(ctx, endpoint, c, req.Model, req.Input) // embed.go
	if err != nil {
		return nil, toError(ctx, err, st, req.Model)
	}
	if len(data) != len(req.Input) {
		return nil, &Error{Kind: KindBadResponse, Endpoint: endpoint, Model: req.Model, Attempts: st.attempts,
			Msg: "embeddings: got " + itoa(len(data)) + " vectors for " + itoa(len(req.Input)) + " inputs"}
	}
	sort.SliceStable(data, func(i, j int) bool { return data[i].Index < data[j].Index })
	out := make([][]float64, len(data))
	for i, d := range data {
		v := make([]float64, len(d.Embedding))
		for j, f := range d.Embedding {
			v[j] = float64(f)
		}
		out[i] = v
	}
	return out, nil
}

// WarmCodecs builds encoding/json's encoder and decoder for go-openai's
// chat types now (reflection over a few dozen struct types, ~1 ms in a new
// process), so that a caller with a spare core can take that off the
// first model call's path. A non-streamed chat encodes and decodes by hand
// (chatencode.go, chatdecode.go) but still uses them for free-form
// settings (tools, response_format) and answers the hand reader leaves;
// streams use them throughout.
func WarmCodecs() {
	_, _ = json.Marshal(openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{}}})
	var r openai.ChatCompletionResponse
	_ = json.Unmarshal([]byte(`{"choices":[{"message":{}}],"usage":{}}`), &r)
	var c openai.ChatCompletionStreamResponse
	_ = json.Unmarshal([]byte(`{"choices":[{"delta":{}}]}`), &c)
}

// Moderate calls /moderations through the same transport as chats
// (retries, the breaker, key-to-host binding, scrubbing).
func (o *OpenAI) Moderate(ctx context.Context, req *ModerationRequest) (*ModerationResult, error) {
	endpoint := o.Endpoint(req.BaseURL)
	if err := o.CheckKeyHost(req.BaseURL, req.APIKeyEnv, req.Model); err != nil {
		return nil, err
	}
	_, key := o.client(endpoint, req.APIKeyEnv)
	st := &callState{endpoint: endpoint, keyEnv: req.APIKeyEnv, key: key}
	ctx = withState(ctx, st)
	body, err := json.Marshal(map[string]string{"model": req.Model, "input": req.Input})
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: "encode moderation request: " + err.Error()}
	}
	hreq, err := newPost(ctx, endpoint+"/moderations", body)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if key != "" {
		hreq.Header.Set("Authorization", "Bearer "+key)
	}
	hresp, err := o.http.Do(hreq)
	if err != nil {
		return nil, toError(ctx, err, st, req.Model)
	}
	defer hresp.Body.Close()
	var out struct {
		Results []ModerationResult `json:"results"`
	}
	if err := json.NewDecoder(io.LimitReader(hresp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, &Error{Kind: KindBadResponse, Endpoint: endpoint, Model: req.Model, Attempts: st.attempts, Msg: "moderation: decode the answer: " + scrub(err.Error(), key)}
	}
	if len(out.Results) == 0 {
		return nil, &Error{Kind: KindBadResponse, Endpoint: endpoint, Model: req.Model, Attempts: st.attempts, Msg: "moderation: the answer has no results"}
	}
	return &out.Results[0], nil
}
