package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// missingKeys names every API key variable that is unset although a
// prompt, grader or embedding the suites will call (no cache entry) needs
// it: "OPENAI_API_KEY is not set; needed by 3 tests of x.eval.yaml (model
// gpt-4o)". It replays the suites from the cache with a probe in place of
// every model, so nothing is called and nothing is written. A key is
// needed when the call goes to the hosted default endpoint or its model
// names api_key_env; a local endpoint without api_key_env needs none.
func missingKeys(ctx context.Context, st *state, suites []*eval.Suite, opts eval.Options) ([]string, error) {
	if opts.Offline || !mayLackKey(st, suites) {
		return nil, nil
	}
	probe := &keyProbe{getenv: st.getenv, models: map[string]map[string]bool{}}
	mode := "read-only"
	if opts.CacheMode == "off" || opts.CacheMode == "refresh" {
		mode = "off" // every call is made
	}
	// The run's own options (selection, shards, mapping, stop signal), with
	// the probe for every model, read-only, unobserved, in a spool of its
	// own that goes when the probe is done.
	popts := opts
	popts.CacheMode, popts.Getenv, popts.MaxCost = mode, st.getenv, 0
	popts.Parsers = map[string]llm.Client{runtime.ParserOpenAI: probe, runtime.ParserEcho: llm.Echo{}}
	popts.Observer, popts.Callbacks, popts.Plan, popts.OnCacheDone = nil, nil, nil, nil
	if spool, err := os.MkdirTemp("", "aieval-keys-*"); err == nil {
		defer os.RemoveAll(spool)
		popts.SpoolDir, popts.SpoolFallbackDir = spool, ""
	} // else the run's spool places (an unwritable TMPDIR)
	res, err := eval.Run(ctx, probeSuites(suites), popts)
	if err != nil {
		return nil, fmt.Errorf("check API keys: %w", err)
	}
	if len(probe.models) == 0 {
		return nil, nil
	}
	// Which tests reached a call without its key, per variable and suite.
	need := map[string]map[string]int{}
	err = res.Each(func(t *results.TestResult) error {
		for env := range probe.models {
			if t.Status == results.StatusError && strings.Contains(t.Reason, env+" is not set") {
				if need[env] == nil {
					need[env] = map[string]int{}
				}
				need[env][t.Suite]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check API keys: %w", err)
	}
	var out []string
	for _, env := range sortedKeys(probe.models) {
		var by []string
		for _, s := range sortedKeys(need[env]) {
			by = append(by, plural(need[env][s], "test")+" of "+s)
		}
		if len(by) == 0 {
			by = []string{"the run"}
		}
		models := sortedKeys(probe.models[env])
		word := "model"
		if len(models) > 1 {
			word = "models"
		}
		out = append(out, fmt.Sprintf("%s is not set; needed by %s (%s %s): set it, or record their outputs in the cache",
			env, strings.Join(by, ", "), word, strings.Join(models, ", ")))
	}
	return out, nil
}

// mayLackKey is the cheap test that spares the probe when every key the
// suites can name is set.
func mayLackKey(st *state, suites []*eval.Suite) bool {
	if st.getenv("OPENAI_API_KEY") == "" {
		return true
	}
	for _, s := range suites {
		for _, ep := range s.Models {
			if ep.APIKeyEnv != "" && st.getenv(ep.APIKeyEnv) == "" {
				return true
			}
		}
	}
	return false
}

// keyProbe stands in for the OpenAI-compatible client: a call without its
// key fails at once naming the variable; any other call gets an empty
// answer, so the prompts chained on it are probed too.
type keyProbe struct {
	getenv func(string) string
	mu     sync.Mutex
	models map[string]map[string]bool // variable -> models that need it
}

func (p *keyProbe) missing(baseURL, keyEnv, model string) error {
	env := keyEnv
	if env == "" {
		env = "OPENAI_API_KEY"
	}
	if p.getenv(env) != "" {
		return nil
	}
	if keyEnv == "" {
		ep := baseURL
		if ep == "" {
			ep = p.getenv("OPENAI_BASE_URL")
		}
		if ep != "" && cache.NormalizeEndpoint(ep) != cache.NormalizeEndpoint(llm.DefaultBaseURL) {
			return nil // a local or proxy endpoint may take no key
		}
	}
	p.mu.Lock()
	if p.models[env] == nil {
		p.models[env] = map[string]bool{}
	}
	p.models[env][model] = true
	p.mu.Unlock()
	return fmt.Errorf("%s is not set (model %s)", env, model)
}

func (p *keyProbe) Complete(_ context.Context, req *llm.Request, _ llm.ChunkFunc) (*llm.Response, error) {
	if err := p.missing(req.BaseURL, req.APIKeyEnv, req.Model); err != nil {
		return nil, err
	}
	return &llm.Response{Role: "assistant", FinishReason: "stop"}, nil
}

func (p *keyProbe) Embed(_ context.Context, req *llm.EmbedRequest) ([][]float64, error) {
	if err := p.missing(req.BaseURL, req.APIKeyEnv, req.Model); err != nil {
		return nil, err
	}
	out := make([][]float64, len(req.Input))
	for i := range out {
		out[i] = []float64{1}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// suiteKeyProblems is missingKeys for `validate`: the suite loaded from path, with
// the cache `run` would use (the nearest .aieval/cache, else AIEVAL_CACHE_DIR
// or the user cache directory).
func suiteKeyProblems(ctx context.Context, st *state, path string, s *eval.Suite) []string {
	s.Path = suiteID(path)
	dir := st.getenv("AIEVAL_CACHE_DIR")
	if dir == "" {
		dir = findProjectPath(filepath.Dir(path), "cache")
	}
	if dir == "" {
		d, err := cache.DefaultDir()
		if err != nil {
			return nil
		}
		dir = d
	}
	msgs, err := missingKeys(ctx, st, []*eval.Suite{s}, eval.Options{Concurrency: 8, CacheDir: dir, CacheMode: envStr(st, "AIEVAL_CACHE_MODE", "read-only")})
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	for i, m := range msgs {
		msgs[i] = path + ": " + m
	}
	return msgs
}

// probeSuites are the suites with only the assertions that call a model
// (graders, embeddings): the probe must not run exec judges or spend time
// scoring. Tests read lazily from a large cases file keep theirs.
func probeSuites(suites []*eval.Suite) []*eval.Suite {
	out := make([]*eval.Suite, len(suites))
	for i, s := range suites {
		c := *s
		if s.Tests != nil {
			c.Tests = make([]*eval.Test, len(s.Tests))
			for j, t := range s.Tests {
				tc := *t
				tc.Asserts = nil
				for _, a := range t.Asserts {
					switch strings.TrimPrefix(a.Spec.Type, "not-") {
					case "llm-rubric", "similar":
						tc.Asserts = append(tc.Asserts, a)
					}
				}
				c.Tests[j] = &tc
			}
		}
		out[i] = &c
	}
	return out
}
