package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// runState is one Run: its view of the config and the prompts already run,
// so each dependency runs at most once.
type runState struct {
	file    string
	view    *runView
	own     runView // view's storage: one allocation per Run, not two
	results map[int]*Result
	dry     *dryState // set by Requests: build requests, call nothing
	// top is the prompt Run was asked for: nothing runs after it, so its
	// result is not recorded for later prompts.
	top *Prompt
}

func (r *Runtime) newState(c *Config) (*runState, error) {
	if c == nil {
		return nil, errors.New("run prompt: no aiconfig")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	// The maps are made when a prompt is recorded (record): reading a nil
	// map is fine, and a test's run of one prompt needs them only then.
	// The prompts slice is shared: Config never changes it in place.
	st := &runState{file: c.Path}
	st.own = runView{meta: c.meta, prompts: c.prompts}
	st.view = &st.own
	return st, nil
}

// record keeps p's result and response for the prompts run after it.
func (st *runState) record(p *Prompt, res *Result, resp *llm.Response) {
	if p == st.top {
		return
	}
	if st.results == nil {
		st.results = map[int]*Result{}
		st.view.fresh = map[int]*llm.Response{}
	}
	st.view.fresh[p.Index] = resp
	st.results[p.Index] = res
}

func (st *runState) find(name string) (*Prompt, error) {
	for _, p := range st.view.prompts {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(st.view.prompts))
	for i, p := range st.view.prompts {
		names[i] = p.Name
	}
	return nil, fmt.Errorf("%s: no prompt named %q (prompts: %s)", st.file, name, strings.Join(names, ", "))
}

// Run resolves and runs prompt, running the earlier prompts it references
// first with the same params (the SDK's run_with_dependencies).
func (r *Runtime) Run(ctx context.Context, c *Config, prompt string, opts RunOptions) (*Result, error) {
	st, err := r.newState(c)
	if err != nil {
		return nil, err
	}
	p, err := st.find(prompt)
	if err != nil {
		return nil, fmt.Errorf("run prompt: %w", err)
	}
	st.top = p
	return r.runPrompt(ctx, st, p, opts, true)
}

// Resolve builds the request for prompt without calling a model for it
// (dependencies referenced by {{x.output}} are still run).
func (r *Runtime) Resolve(ctx context.Context, c *Config, prompt string, opts RunOptions) (*llm.Request, error) {
	st, err := r.newState(c)
	if err != nil {
		return nil, err
	}
	p, err := st.find(prompt)
	if err != nil {
		return nil, fmt.Errorf("resolve prompt: %w", err)
	}
	res, err := r.runPrompt(ctx, st, p, opts, false)
	if err != nil {
		return nil, err
	}
	return res.Request, nil
}

func (r *Runtime) runPrompt(ctx context.Context, st *runState, p *Prompt, opts RunOptions, call bool) (*Result, error) {
	deps, err := r.runDeps(ctx, st, p, opts)
	if err != nil {
		return nil, err
	}
	// Events are built only when someone listens: two maps a call
	// otherwise, ~5% of an unmonitored run's allocations.
	observed := r.opts.Callbacks.Active()
	if observed {
		r.opts.Callbacks.Emit(ctx, Event{Name: EventResolveStart, File: st.file, Data: map[string]any{"prompt": p.Name, "params": opts.Params}})
	}
	start := time.Now()
	req, warnings, rt, err := r.buildRequest(st.view, p, opts)
	if observed {
		done := map[string]any{"prompt": p.Name, "duration_ms": ms(time.Since(start))}
		if err != nil {
			done["error"] = err.Error()
		} else {
			done["request"] = req
		}
		r.opts.Callbacks.Emit(ctx, Event{Name: EventResolveDone, File: st.file, Data: done})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.file, err)
	}
	res := &Result{Prompt: p.Name, Request: req, Deps: deps, Warnings: warnings}
	if st.dry != nil {
		if err := st.dry.plan(r, st, p, res, rt, call); err != nil {
			return nil, fmt.Errorf("%s: prompt %q: %w", st.file, p.Name, err)
		}
		return res, nil
	}
	if !call {
		return res, nil
	}
	resp, err := r.call(ctx, st.file, p.Name, opts, req, rt)
	if err != nil {
		return nil, fmt.Errorf("run prompt %q: %w", p.Name, err)
	}
	res.Response = resp
	res.Output = responseText(resp)
	st.record(p, res, resp)
	return res, nil
}

// Planned is one request a Run would send, as Requests sees it.
type Planned struct {
	Prompt  string
	Request *llm.Request
	// Exact is false when the request holds a placeholder for an earlier
	// prompt's output that only a model call could give (see Placeholders).
	Exact bool
	// Placeholders name the prompts whose made-up outputs this request
	// holds.
	Placeholders []string
	// Output says where this prompt's output came from for the requests
	// after it: "recorded" (the Recorded hook, a cache), "local" (a parser
	// that calls no model, such as echo), "placeholder"; "" for the
	// prompt asked for.
	Output   string
	Warnings []string
}

// PlanOptions are RunOptions for Requests.
type PlanOptions struct {
	RunOptions
	// Recorded answers a dependency's request without a model call (a
	// cache lookup); nil, or false, means there is no record, and a
	// placeholder text stands in for the output.
	Recorded func(ctx context.Context, req *llm.Request) (*llm.Response, bool)
}

// PlaceholderOutput is the text standing in for prompt's output in a dry
// run when no record of it exists. It has no character templates escape.
func PlaceholderOutput(prompt string) string {
	return "[aieval dry-run: output of prompt " + prompt + "]"
}

// Requests resolves prompt as Run would, returning every request Run would
// send, in order (its dependencies first), and calls no model. A
// dependency's output comes from opts.Recorded, or from a local parser
// (echo), or else is a placeholder, and the requests using it say so.
func (r *Runtime) Requests(ctx context.Context, c *Config, prompt string, opts PlanOptions) ([]Planned, error) {
	st, err := r.newState(c)
	if err != nil {
		return nil, err
	}
	p, err := st.find(prompt)
	if err != nil {
		return nil, fmt.Errorf("resolve prompt: %w", err)
	}
	st.dry = &dryState{recorded: opts.Recorded, ctx: ctx}
	if _, err := r.runPrompt(ctx, st, p, opts.RunOptions, false); err != nil {
		return nil, err
	}
	return st.dry.planned, nil
}

type dryState struct {
	ctx      context.Context
	recorded func(context.Context, *llm.Request) (*llm.Response, bool)
	planned  []Planned
}

// plan records p's request and, for a dependency, gives it an output
// without calling a model.
func (d *dryState) plan(r *Runtime, st *runState, p *Prompt, res *Result, rt Route, dep bool) error {
	// A request no parser can send is no plan: say so, as Run would.
	if _, err := r.parserFor(rt); err != nil {
		return err
	}
	pl := Planned{Prompt: p.Name, Request: res.Request, Warnings: res.Warnings}
	pl.Placeholders = st.view.placeholdersIn(r, p)
	pl.Exact = len(pl.Placeholders) == 0
	var resp *llm.Response
	if dep {
		if raw, ok := r.raw[rt.Parser]; ok && rt.Supported && localParser(rt.Parser) {
			if out, err := raw.Complete(d.ctx, res.Request, nil); err == nil && out != nil {
				resp, pl.Output = out, "local"
			}
		}
		if resp == nil && d.recorded != nil {
			if out, ok := d.recorded(d.ctx, res.Request); ok && out != nil {
				resp, pl.Output = out, "recorded"
			}
		}
		if resp == nil {
			resp, pl.Output = &llm.Response{Text: PlaceholderOutput(p.Name), Role: "assistant"}, "placeholder"
			if st.view.placeholder == nil {
				st.view.placeholder = map[int]bool{}
			}
			st.view.placeholder[p.Index] = true
		}
		res.Response, res.Output = resp, responseText(resp)
		st.record(p, res, resp)
	}
	d.planned = append(d.planned, pl)
	return nil
}

// localParser reports whether a parser id answers without any model call.
func localParser(id string) bool { return id == ParserEcho }

// placeholdersIn names the earlier prompts with a dry run's placeholder
// output that p's request holds: referenced by its templates, or replayed
// as its chat history.
func (v *runView) placeholdersIn(r *Runtime, p *Prompt) []string {
	if len(v.placeholder) == 0 {
		return nil
	}
	model, settings := r.settingsFor(&v.meta, p)
	roots := map[string]bool{}
	for _, ref := range promptRefs(p, settings) {
		roots[ref.Root] = true
	}
	_, prefixed := settingsMessages(settings)
	var out []string
	for _, prev := range v.prompts[:p.Index] {
		if !v.placeholder[prev.Index] {
			continue
		}
		inHistory := false
		if p.RememberChatContext && !prefixed {
			pm, _ := r.settingsFor(&v.meta, prev)
			inHistory = pm == model
		}
		if roots[prev.Name] || inHistory {
			out = append(out, prev.Name)
		}
	}
	return out
}

// runDeps runs, in file order, the earlier prompts p references.
func (r *Runtime) runDeps(ctx context.Context, st *runState, p *Prompt, opts RunOptions) ([]*Result, error) {
	if p.Index == 0 {
		return nil, nil // no earlier prompt to reference
	}
	_, settings := r.settingsFor(&st.view.meta, p)
	roots := map[string]bool{}
	for _, ref := range promptRefs(p, settings) {
		roots[ref.Root] = true
	}
	var deps []*Result
	for _, prev := range st.view.prompts[:p.Index] {
		if !roots[prev.Name] {
			continue
		}
		delete(roots, prev.Name) // first prompt of a repeated name only
		if done, ok := st.results[prev.Index]; ok {
			deps = append(deps, done)
			continue
		}
		// Same params; no streaming to the caller's terminal (but a
		// NoStream still holds); sample 0.
		res, err := r.runPrompt(ctx, st, prev, RunOptions{Params: opts.Params, NoStream: opts.NoStream}, true)
		if err != nil {
			return nil, fmt.Errorf("run dependency %q of %q: %w", prev.Name, p.Name, err)
		}
		deps = append(deps, res)
	}
	return deps, nil
}

// buildRequest resolves settings, messages and endpoint for p.
func (r *Runtime) buildRequest(v *runView, p *Prompt, opts RunOptions) (*llm.Request, []string, Route, error) {
	model, settings := r.settingsAs(&v.meta, p, opts.Model)
	if model == "" {
		return nil, nil, Route{}, fmt.Errorf("prompt %q has no model and the aiconfig has no default_model (set metadata.model on the prompt or metadata.default_model)", p.Name)
	}
	params := v.params(p, opts.Params)
	var warnings []string
	for _, name := range missing(promptRefs(p, settings), params) {
		warnings = append(warnings, fmt.Sprintf("prompt %q: parameter %q is not defined; it renders empty", p.Name, name))
	}
	msgs, err := r.messages(v, p, model, settings, params, opts.Params)
	if err != nil {
		return nil, nil, Route{}, err
	}
	rt := r.route(&v.meta, model, settings)
	req := &llm.Request{
		Provider:  rt.Parser,
		BaseURL:   rt.BaseURL,
		Model:     rt.APIModel,
		Messages:  msgs,
		Settings:  providerSettings(rt, settings),
		Sample:    opts.Sample,
		APIKeyEnv: rt.APIKeyEnv,
		Stream:    (opts.Stream || settings[settingStream] == true) && !opts.NoStream,
	}
	if opts.Logprobs && rt.Parser == ParserOpenAI {
		// Into the request's own map: settings may be the Config's.
		if _, set := settings["logprobs"]; !set {
			if req.Settings == nil {
				req.Settings = map[string]any{}
			}
			req.Settings["logprobs"] = true
		}
	}
	if len(req.Settings) == 0 {
		req.Settings = nil
	}
	return req, warnings, rt, nil
}

// messages builds p's conversation as the SDK's OpenAI parser does: the
// settings' messages (rendered) when there are any, else the system prompt
// and, with remember_chat_context, every earlier prompt of the same model
// with its replayed output; then p's own turn.
func (r *Runtime) messages(v *runView, p *Prompt, model string, settings, params, runParams map[string]any) ([]llm.Message, error) {
	var msgs []llm.Message
	if ms, ok := settingsMessages(settings); ok {
		turns, err := settingsTurns(p, ms, params)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, turns...)
	} else {
		if sys, ok := systemTemplate(settings); ok {
			text, err := render(sys, params)
			if err != nil {
				return nil, fmt.Errorf("resolve system_prompt of %q: %w", p.Name, err)
			}
			msgs = append(msgs, llm.Message{Role: "system", Content: text})
		}
		if p.RememberChatContext {
			var calls map[int]json.RawMessage // turn index -> tool calls it replays
			for _, prev := range v.prompts[:p.Index] {
				if pm, _ := r.settingsFor(&v.meta, prev); pm != model {
					continue
				}
				m, err := v.promptMessage(prev, v.params(prev, runParams))
				if err != nil {
					return nil, err
				}
				msgs = append(msgs, m)
				if turn, tc, ok := v.outputTurn(prev); ok {
					if tc != nil {
						if calls == nil {
							calls = map[int]json.RawMessage{}
						}
						calls[len(msgs)] = tc
					}
					msgs = append(msgs, turn)
				}
			}
			m, err := v.promptMessage(p, params)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
			return pairToolCalls(msgs, calls), nil
		}
	}
	m, err := v.promptMessage(p, params)
	if err != nil {
		return nil, err
	}
	return append(msgs, m), nil
}

// pairToolCalls sends a replayed tool_calls output as tool_calls when the
// next turn is a tool result (role "tool" must answer a tool_calls turn);
// otherwise it stays the SDK's function_call form.
func pairToolCalls(msgs []llm.Message, calls map[int]json.RawMessage) []llm.Message {
	for i, tc := range calls {
		if i+1 < len(msgs) && msgs[i+1].Role == "tool" {
			msgs[i].FunctionCall = nil
			msgs[i].ToolCalls = tc
		}
	}
	return msgs
}

// parserFor returns the (wrapped) parser of a route.
func (r *Runtime) parserFor(rt Route) (llm.Client, error) {
	if !rt.Supported {
		return nil, &UnsupportedError{Model: rt.Model, Parser: rt.Parser}
	}
	p, ok := r.parsers[rt.Parser]
	if !ok {
		return nil, &UnsupportedError{Model: rt.Model, Parser: rt.Parser}
	}
	return p, nil
}

// call sends req to its parser with on_run_* callbacks.
func (r *Runtime) call(ctx context.Context, file, prompt string, opts RunOptions, req *llm.Request, rt Route) (*llm.Response, error) {
	parser, err := r.parserFor(rt)
	if err != nil {
		return nil, err
	}
	observed := r.opts.Callbacks.Active()
	if observed {
		r.opts.Callbacks.Emit(ctx, Event{Name: EventRunStart, File: file, Data: map[string]any{
			"prompt": prompt, "params": opts.Params, "model": req.Model, "provider": req.Provider, "sample": req.Sample,
			"api_key_env": req.APIKeyEnv, // the variable's name: lets an event sink scrub its value
		}})
	}
	var onChunk llm.ChunkFunc
	if req.Stream {
		onChunk = opts.OnChunk
	}
	start := time.Now()
	resp, err := parser.Complete(ctx, req, onChunk)
	if err == nil && resp == nil {
		err = fmt.Errorf("parser %q returned no response", req.Provider)
	}
	if !observed {
		return resp, err
	}
	done := map[string]any{"prompt": prompt, "model": req.Model, "provider": req.Provider, "base_url": redactURL(req.BaseURL), "duration_ms": ms(time.Since(start))}
	if err != nil {
		done["error"] = err.Error()
	} else {
		done["output"] = responseText(resp)
		done["cached"] = resp.Cached
		done["usage"] = resp.Usage
		done["response_model"], done["finish_reason"] = resp.Model, resp.FinishReason
	}
	r.opts.Callbacks.Emit(ctx, Event{Name: EventRunDone, File: file, Data: done})
	return resp, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Complete sends messages to a model by name (the grader of llm-rubric),
// with the same endpoint mapping and wrapping as prompts.
func (r *Runtime) Complete(ctx context.Context, model string, msgs []llm.Message, settings map[string]any) (*llm.Response, error) {
	if to, ok := r.opts.ModelMap[model]; ok {
		model = to
	}
	rt := r.route(nil, model, settings)
	req := &llm.Request{
		Provider:  rt.Parser,
		BaseURL:   rt.BaseURL,
		Model:     rt.APIModel,
		Messages:  msgs,
		Settings:  providerSettings(rt, settings),
		APIKeyEnv: rt.APIKeyEnv,
	}
	if len(req.Settings) == 0 {
		req.Settings = nil
	}
	resp, err := r.call(ctx, "", "", RunOptions{}, req, rt)
	if err != nil {
		return nil, fmt.Errorf("complete with %q: %w", model, err)
	}
	return resp, nil
}

// Embed returns embeddings from a model by name (the `similar` assertion).
func (r *Runtime) Embed(ctx context.Context, model string, texts []string) ([][]float64, error) {
	if to, ok := r.opts.ModelMap[model]; ok {
		model = to
	}
	rt := r.route(nil, model, nil)
	p, err := r.parserFor(rt)
	if err != nil {
		return nil, fmt.Errorf("embed with %q: %w", model, err)
	}
	// A wrapper (cache) may not embed; fall back to the parser it wraps.
	e, ok := p.(Embedder)
	if !ok {
		e, ok = r.raw[rt.Parser].(Embedder)
	}
	if !ok {
		return nil, fmt.Errorf("embed with %q: parser %q cannot embed", model, rt.Parser)
	}
	req := &llm.EmbedRequest{Provider: rt.Parser, BaseURL: rt.BaseURL, Model: rt.APIModel, Input: texts, APIKeyEnv: rt.APIKeyEnv}
	vecs, err := e.Embed(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("embed with %q: %w", model, err)
	}
	return vecs, nil
}

// DefaultModerationModel checks texts for the moderation assertion.
const DefaultModerationModel = "omni-moderation-latest"

// Moderate checks text with a model's OpenAI-compatible /moderations
// endpoint (the moderation assertion), with the same endpoint mapping,
// key binding and wrapping (cache, retries) as prompts.
func (r *Runtime) Moderate(ctx context.Context, model, text string) (*llm.ModerationResult, error) {
	if model == "" {
		model = DefaultModerationModel
	}
	if to, ok := r.opts.ModelMap[model]; ok {
		model = to
	}
	rt := r.route(nil, model, nil)
	if !rt.Supported && rt.Parser == model && rt.Provider == "" {
		// A moderation model no rule knows (omni-moderation-latest,
		// text-moderation-*) is OpenAI's /moderations, as the name says.
		rt.Parser, rt.Supported = ParserOpenAI, true
	}
	p, err := r.parserFor(rt)
	if err != nil {
		return nil, fmt.Errorf("moderate with %q: %w", model, err)
	}
	m, ok := p.(llm.Moderator)
	if !ok {
		m, ok = r.raw[rt.Parser].(llm.Moderator)
	}
	if !ok {
		return nil, fmt.Errorf("moderate with %q: parser %q has no moderation endpoint (moderation needs an OpenAI-compatible /moderations)", model, rt.Parser)
	}
	req := &llm.ModerationRequest{Provider: rt.Parser, BaseURL: rt.BaseURL, Model: rt.APIModel, Input: text, APIKeyEnv: rt.APIKeyEnv}
	res, err := m.Moderate(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("moderate with %q: %w", model, err)
	}
	return res, nil
}
