package runtime

import (
	"context"
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
	results map[int]*Result
}

func (r *Runtime) newState(c *Config) (*runState, error) {
	if c == nil {
		return nil, errors.New("run prompt: no aiconfig")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := &runView{meta: c.meta, prompts: append([]*Prompt(nil), c.prompts...), fresh: map[int]*llm.Response{}}
	return &runState{file: c.Path, view: v, results: map[int]*Result{}}, nil
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
	r.opts.Callbacks.Emit(ctx, Event{Name: EventResolveStart, File: st.file, Data: map[string]any{"prompt": p.Name, "params": opts.Params}})
	start := time.Now()
	req, warnings, rt, err := r.buildRequest(st.view, p, opts)
	done := map[string]any{"prompt": p.Name, "duration_ms": ms(time.Since(start))}
	if err != nil {
		done["error"] = err.Error()
	} else {
		done["request"] = req
	}
	r.opts.Callbacks.Emit(ctx, Event{Name: EventResolveDone, File: st.file, Data: done})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.file, err)
	}
	res := &Result{Prompt: p.Name, Request: req, Deps: deps, Warnings: warnings}
	if !call {
		return res, nil
	}
	resp, err := r.call(ctx, st.file, p.Name, opts, req, rt)
	if err != nil {
		return nil, fmt.Errorf("run prompt %q: %w", p.Name, err)
	}
	res.Response = resp
	res.Output = responseText(resp)
	st.view.fresh[p.Index] = resp
	st.results[p.Index] = res
	return res, nil
}

// runDeps runs, in file order, the earlier prompts p references.
func (r *Runtime) runDeps(ctx context.Context, st *runState, p *Prompt, opts RunOptions) ([]*Result, error) {
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
		// Same params; no streaming to the caller's terminal; sample 0.
		res, err := r.runPrompt(ctx, st, prev, RunOptions{Params: opts.Params}, true)
		if err != nil {
			return nil, fmt.Errorf("run dependency %q of %q: %w", prev.Name, p.Name, err)
		}
		deps = append(deps, res)
	}
	return deps, nil
}

// buildRequest resolves settings, messages and endpoint for p.
func (r *Runtime) buildRequest(v *runView, p *Prompt, opts RunOptions) (*llm.Request, []string, Route, error) {
	model, settings := r.settingsFor(&v.meta, p)
	if model == "" {
		return nil, nil, Route{}, fmt.Errorf("prompt %q has no model and the aiconfig has no default_model (set metadata.model on the prompt or metadata.default_model)", p.Name)
	}
	params := v.params(p, opts.Params)
	var warnings []string
	for _, name := range missing(promptRefs(p, settings), params) {
		warnings = append(warnings, fmt.Sprintf("prompt %q: parameter %q is not defined; it renders empty", p.Name, name))
	}
	var msgs []llm.Message
	if sys, ok := systemTemplate(settings); ok {
		text, err := render(sys, params)
		if err != nil {
			return nil, nil, Route{}, fmt.Errorf("resolve system_prompt of %q: %w", p.Name, err)
		}
		msgs = append(msgs, llm.Message{Role: "system", Content: text})
	}
	if p.RememberChatContext {
		for _, prev := range v.prompts[:p.Index] {
			if pm, _ := r.settingsFor(&v.meta, prev); pm != model {
				continue
			}
			m, err := v.promptMessage(prev, v.params(prev, opts.Params))
			if err != nil {
				return nil, nil, Route{}, err
			}
			msgs = append(msgs, m)
			if turn, ok := v.outputTurn(prev); ok {
				msgs = append(msgs, turn)
			}
		}
	}
	m, err := v.promptMessage(p, params)
	if err != nil {
		return nil, nil, Route{}, err
	}
	msgs = append(msgs, m)
	rt := r.route(&v.meta, model, settings)
	req := &llm.Request{
		Provider:  rt.Parser,
		BaseURL:   rt.BaseURL,
		Model:     rt.APIModel,
		Messages:  msgs,
		Settings:  providerSettings(rt, settings),
		Sample:    opts.Sample,
		APIKeyEnv: rt.APIKeyEnv,
		Stream:    opts.Stream || settings[settingStream] == true,
	}
	if len(req.Settings) == 0 {
		req.Settings = nil
	}
	return req, warnings, rt, nil
}

// parserFor returns the (wrapped) parser of a route.
func (r *Runtime) parserFor(rt Route) (ModelParser, error) {
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
	r.opts.Callbacks.Emit(ctx, Event{Name: EventRunStart, File: file, Data: map[string]any{
		"prompt": prompt, "params": opts.Params, "model": req.Model, "provider": req.Provider, "sample": req.Sample,
		"api_key_env": req.APIKeyEnv, // the variable's name: lets an event sink scrub its value
	}})
	var onChunk llm.ChunkFunc
	if req.Stream {
		onChunk = opts.OnChunk
	}
	start := time.Now()
	resp, err := parser.Complete(ctx, req, onChunk)
	if err == nil && resp == nil {
		err = fmt.Errorf("parser %q returned no response", req.Provider)
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
