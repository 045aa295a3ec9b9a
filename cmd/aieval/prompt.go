package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

func cmdPrompt(ctx context.Context, args []string, st *state) error {
	fl := newFlags("prompt", st)
	params := kvFlag{}
	models := kvFlag{}
	fl.Var(params, "param", "set a parameter (`KEY=VALUE`, repeatable; highest precedence)")
	fl.Var(models, "model", "run prompts of model A on model B (`A=B`, repeatable)")
	stream := fl.Bool("stream", false, "stream the output as it arrives")
	save := fl.Bool("save", false, "write the outputs back into the aiconfig file")
	var mf monitorFlags
	mf.register(fl, st)
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return inputErr(errors.New("usage: aieval prompt CONFIG PROMPT [--param k=v]... [--stream] [--save]"))
	}
	mon, err := startMonitor(ctx, st, mf)
	if err != nil {
		return err
	}
	defer mon.close(ctx)
	// The key and endpoint come from the state's environment, like run's.
	rt := runtime.New(runtime.Options{ModelMap: map[string]string(models), Parsers: map[string]runtime.ModelParser{
		runtime.ParserOpenAI: llm.NewOpenAI(llm.OpenAIOptions{Getenv: st.getenv}),
		runtime.ParserEcho:   llm.Echo{},
	}, Callbacks: mon.cbs})
	cfg, err := rt.Load(ctx, pos[0])
	if err != nil {
		return inputErr(err)
	}
	if _, ok := cfg.Prompt(pos[1]); !ok {
		return inputErr(fmt.Errorf("%s: no prompt %q (prompts: %v)", pos[0], pos[1], cfg.PromptNames()))
	}
	opts := runtime.RunOptions{Params: map[string]any{}, Stream: *stream}
	for k, v := range params {
		opts.Params[k] = v
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
		fmt.Fprintln(st.stderr, "aieval: warning: "+oneLine(w))
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
