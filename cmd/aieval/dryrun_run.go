package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime"
)

// runDry is `aieval run --dry-run`: the requests every selected test would
// send (its prompt's chain first), one JSON line per distinct request, in
// first-seen order, with the tests that send it. Recorded outputs of
// earlier prompts come from the cache, read-only; nothing is called and no
// key is needed. A test whose requests cannot be resolved is named on
// stderr and makes the exit code 2.
func runDry(ctx context.Context, st *state, suites []*eval.Suite, opts eval.Options) error {
	var (
		mu    sync.Mutex
		lines []*DryRequest
		index = map[string]*DryRequest{}
		bad   int
	)
	opts.CacheMode, opts.Offline, opts.Observer = "read-only", true, nil
	opts.Plan = func(suite, test string, planned []runtime.Planned, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bad++
			fmt.Fprintf(st.stderr, "aieval: %s › %s: cannot resolve: %s\n", suite, test, text.OneLine(err.Error(), 0))
			return
		}
		for _, pl := range planned {
			d, err := dryRequest(pl, st.getenv)
			if err != nil {
				bad++
				fmt.Fprintf(st.stderr, "aieval: %s › %s: %s\n", suite, test, text.OneLine(err.Error(), 0))
				return
			}
			id := d.CacheKey
			if id == "" { // not exact: the request as printed is its identity
				b, _ := json.Marshal(d)
				id = string(b)
			}
			id = suite + "\x00" + id
			if prev := index[id]; prev != nil {
				prev.Tests = append(prev.Tests, test)
				continue
			}
			d.Suite, d.Tests = suite, []string{test}
			index[id] = &d
			lines = append(lines, &d)
		}
	}
	if _, err := eval.Run(ctx, suites, opts); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	enc := json.NewEncoder(st.stdout)
	enc.SetEscapeHTML(false)
	for _, d := range lines {
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
	}
	if bad > 0 {
		return inputErr(fmt.Errorf("dry run: %d requests could not be resolved (see above)", bad))
	}
	return nil
}
