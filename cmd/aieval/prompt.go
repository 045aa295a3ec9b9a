package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/reporters"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

func cmdPrompt(ctx context.Context, args []string, st *state) error {
	fl := newFlags("prompt", st)
	params := kvFlag{}
	models := kvFlag{}
	fl.Var(params, "param", "set a parameter (`KEY=VALUE`, repeatable; highest precedence)")
	fl.Var(models, "model", "run prompts of model A on model B (`A=B`, repeatable)")
	stream := fl.Bool("stream", false, "stream the output as it arrives (--stream=false: never, even when the settings say stream: true)")
	save := fl.Bool("save", false, "write the outputs back into the aiconfig file")
	var mf monitorFlags
	mf.register(fl, st)
	dry := fl.Bool("dry-run", false, "print the resolved request(s) as JSON lines and call no model")
	cacheDir := fl.String("cache", st.getenv("AIEVAL_CACHE_DIR"), "with --dry-run: cache `DIR` to read dependencies' recorded outputs from (default: the nearest .aieval/cache, else the user cache dir)")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return inputErr(errors.New("usage: aieval prompt CONFIG PROMPT [--param k=v]... [--stream[=false]] [--save] [--dry-run [--cache DIR]]"))
	}
	streamSet := false
	fl.Visit(func(f *flag.Flag) {
		if f.Name == "stream" {
			streamSet = true
		}
	})
	if *dry && *save {
		return inputErr(errors.New("--dry-run calls no model, so it has no output to --save"))
	}
	mon, err := startMonitor(ctx, st, mf)
	if err != nil {
		return err
	}
	defer mon.close(ctx)
	// The key and endpoint come from the state's environment, like run's.
	// The key and endpoint come from the state's environment, like run's.
	rt := runtime.New(runtime.Options{ModelMap: map[string]string(models), Getenv: st.getenv,
		Parsers: runtime.Parsers(llm.OpenAIOptions{Getenv: st.getenv}), Callbacks: mon.cbs})
	cfg, err := rt.Load(ctx, pos[0])
	if err != nil {
		return inputErr(err)
	}
	if _, ok := cfg.Prompt(pos[1]); !ok {
		return inputErr(fmt.Errorf("%s: no prompt %q (prompts: %v)", pos[0], pos[1], cfg.PromptNames()))
	}
	opts := runtime.RunOptions{Params: map[string]any{}, Stream: *stream, NoStream: streamSet && !*stream}
	for k, v := range params {
		opts.Params[k] = v
	}
	if *dry {
		dir := *cacheDir
		if dir == "" {
			if dir = findProjectPath(filepath.Dir(pos[0]), "cache"); dir == "" {
				dir, _ = cache.DefaultDir()
			}
		}
		return dryRun(ctx, st, rt, cfg, pos[1], opts, dir)
	}
	if st.getenv("GITHUB_ACTIONS") == "true" {
		// The model's text is printed as it is: inert for the runner.
		defer reporters.StopCommands(st.stdout)()
	}
	streamed := false
	if *stream {
		opts.OnChunk = func(delta string) {
			streamed = true
			fmt.Fprint(st.stdout, delta)
		}
	}
	res, err := rt.Run(ctx, cfg, pos[1], opts)
	if err != nil {
		return &exitError{code: results.ExitErrored, err: fmt.Errorf("prompt %s: %w", pos[1], err)}
	}
	for _, w := range res.Warnings {
		warn(st, w)
	}
	if streamed {
		fmt.Fprintln(st.stdout)
	} else {
		fmt.Fprintln(st.stdout, res.Output)
	}
	if *save {
		if err := saveOutputs(ctx, rt, cfg, res); err != nil {
			return &exitError{code: results.ExitErrored, err: err}
		}
	}
	return nil
}

// saveOutputs records the run's outputs (dependencies first) and writes
// the file back, as config.save() does after config.run().
func saveOutputs(ctx context.Context, rt *runtime.Runtime, cfg *runtime.Config, res *runtime.Result) error {
	var set func(r *runtime.Result) error
	set = func(r *runtime.Result) error {
		for _, d := range r.Deps {
			if err := set(d); err != nil {
				return err
			}
		}
		return cfg.SetOutput(r.Prompt, r.Response)
	}
	if err := set(res); err != nil {
		return fmt.Errorf("save %s: %w", cfg.Path, err)
	}
	if err := rt.Save(ctx, cfg, cfg.Path); err != nil {
		return fmt.Errorf("save %s: %w", cfg.Path, err)
	}
	return nil
}

// DryRequest is one line of `--dry-run` output: a request as it would be
// sent, without credentials.
type DryRequest struct {
	Suite     string          `json:"suite,omitempty"` // run --dry-run: the suite and
	Tests     []string        `json:"tests,omitempty"` // the tests that send this request
	Prompt    string          `json:"prompt"`
	Provider  string          `json:"provider"`
	Endpoint  string          `json:"endpoint,omitempty"`    // full URL, no userinfo or secret query values
	APIKeyEnv string          `json:"api_key_env,omitempty"` // the variable's name, never its value
	Model     string          `json:"model"`
	Messages  json.RawMessage `json:"messages"`
	Settings  json.RawMessage `json:"settings"` // every other member of the body
	Stream    bool            `json:"stream"`
	Sample    int             `json:"sample,omitempty"`
	CacheKey  string          `json:"cache_key"` // "" when not exact
	Exact     bool            `json:"exact"`
	Output    string          `json:"output,omitempty"` // a dependency's output source: recorded, local, placeholder
	Note      string          `json:"note,omitempty"`
}

// dryRun prints the requests of prompt as JSON lines, dependencies first.
func dryRun(ctx context.Context, st *state, rt *runtime.Runtime, cfg *runtime.Config, prompt string, opts runtime.RunOptions, cacheDir string) error {
	var recorded func(context.Context, *llm.Request) (*llm.Response, bool)
	if cacheDir != "" {
		if c, err := cache.Open(cacheDir, cache.ReadOnly, cache.Options{Offline: true, Endpoint: cache.EndpointOf(st.getenv)}); err == nil {
			recorded = cacheLookup(c)
		}
	}
	lines, err := DryRequests(ctx, rt, cfg, prompt, runtime.PlanOptions{RunOptions: opts, Recorded: recorded}, st.getenv)
	if err != nil {
		return inputErr(fmt.Errorf("prompt %s: cannot resolve: %w", prompt, err))
	}
	enc := json.NewEncoder(st.stdout)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
	}
	return nil
}

// cacheLookup answers from a read-only, offline cache: never a model call.
func cacheLookup(c *cache.Cache) func(context.Context, *llm.Request) (*llm.Response, bool) {
	cl := c.Wrap(noCall{})
	return func(ctx context.Context, req *llm.Request) (*llm.Response, bool) {
		resp, err := cl.Complete(ctx, req, nil)
		return resp, err == nil && resp != nil
	}
}

type noCall struct{}

func (noCall) Complete(context.Context, *llm.Request, llm.ChunkFunc) (*llm.Response, error) {
	return nil, errors.New("dry run: no model call")
}

// DryRequests turns prompt (and the prompts it depends on) into the
// requests a run would send, calling no model: the shared core of
// `aieval prompt --dry-run` and `aieval run --dry-run`. getenv resolves
// the default endpoint (OPENAI_BASE_URL); no key is read.
func DryRequests(ctx context.Context, rt *runtime.Runtime, cfg *runtime.Config, prompt string, opts runtime.PlanOptions, getenv func(string) string) ([]DryRequest, error) {
	planned, err := rt.Requests(ctx, cfg, prompt, opts)
	if err != nil {
		return nil, err
	}
	out := make([]DryRequest, 0, len(planned))
	for _, pl := range planned {
		d, err := dryRequest(pl, getenv)
		if err != nil {
			return nil, fmt.Errorf("prompt %q: %w", pl.Prompt, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func dryRequest(pl runtime.Planned, getenv func(string) string) (DryRequest, error) {
	req := pl.Request
	d := DryRequest{Prompt: pl.Prompt, Provider: req.Provider, Model: req.Model, Stream: req.Stream,
		Sample: req.Sample, Exact: pl.Exact, Output: pl.Output}
	if pl.Exact {
		d.CacheKey = cache.KeyWith(req, cache.EndpointOf(getenv))
	} else {
		d.Note = "holds a placeholder for the output of " + strings.Join(pl.Placeholders, ", ") +
			" (no recorded output; only a model call gives it), so this request and its cache key are not exact"
	}
	if pl.Output == "placeholder" {
		d.Note = strings.TrimSpace(d.Note + " later requests use " + strconvQuote(runtime.PlaceholderOutput(pl.Prompt)) + " for its output")
	}
	switch req.Provider {
	case runtime.ParserOpenAI:
		o := llm.NewOpenAI(llm.OpenAIOptions{Getenv: getenv})
		d.Endpoint = safeURL(o.Endpoint(req.BaseURL), "/chat/completions")
		d.APIKeyEnv = req.APIKeyEnv
		if d.APIKeyEnv == "" {
			d.APIKeyEnv = "OPENAI_API_KEY"
		}
		body, err := llm.ChatBody(req)
		if err != nil {
			return d, err
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(body, &members); err != nil {
			return d, fmt.Errorf("decode request body: %w", err)
		}
		d.Messages = members["messages"]
		for _, k := range []string{"model", "messages", "stream", "stream_options"} {
			delete(members, k)
		}
		b, err := json.Marshal(members)
		if err != nil {
			return d, err
		}
		d.Settings = b
	default:
		msgs, err := marshalNoEscape(req.Messages)
		if err != nil {
			return d, err
		}
		d.Messages = msgs
		settings := req.Settings
		if settings == nil {
			settings = map[string]any{}
		}
		if d.Settings, err = marshalNoEscape(settings); err != nil {
			return d, err
		}
	}
	return d, nil
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

func strconvQuote(s string) string {
	b, _ := marshalNoEscape(s)
	return string(b)
}

// safeURL drops userinfo and the values of query parameters that may hold
// a secret (key, token, signature...) from an endpoint before it is shown.
func safeURL(raw, suffix string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an endpoint that is not a valid URL)"
	}
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/") + suffix
	u.RawPath = ""
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range []string{"key", "token", "secret", "sig", "password", "auth"} {
				if strings.Contains(lk, s) {
					q.Set(k, "REDACTED")
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
