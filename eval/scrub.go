package eval

import (
	"maps"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/secrets"
)

// scrub removes every known secret from a finished result before anything
// sees it: the observer, the totals, the spool and so every report and the
// history. It runs on whole strings, before any report truncates them.
// Model text (output, input, diffs) loses only known secret values, so a
// key-shaped example the model wrote stays; reasons (error bodies, judge
// output) also lose anything shaped like a key.
func scrub(t *results.TestResult) {
	s := secrets.Default()
	t.Output = s.ScrubValues(t.Output)
	t.Input = s.ScrubValues(t.Input)
	t.Reason = s.Scrub(t.Reason)
	// Params may be the suite's own map, shared by every test: copy on
	// the first change, never write to it.
	copied := false
	for k, v := range t.Params {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if clean := s.ScrubValues(str); clean != str {
			if !copied {
				t.Params, copied = maps.Clone(t.Params), true
			}
			t.Params[k] = clean
		}
	}
	for i := range t.Assertions {
		a := &t.Assertions[i]
		a.Reason = s.Scrub(a.Reason)
		a.Diff = s.ScrubValues(a.Diff)
	}
}

// registerKeys tells the scrubber every key variable a suite can use
// (its models: mapping, the aiconfig's model settings and prompts), at
// load, so a key is scrubbed from every output even before a model call
// reads it.
func registerKeys(s *Suite) {
	set := secrets.Default()
	for _, ep := range s.Models {
		set.RegisterEnv(ep.APIKeyEnv)
	}
	if s.Config == nil {
		return
	}
	for _, settings := range s.Config.Metadata().Models {
		if name, ok := settings["api_key_env"].(string); ok {
			set.RegisterEnv(name)
		}
	}
	for _, p := range s.Config.Prompts() {
		if name, ok := p.Settings["api_key_env"].(string); ok {
			set.RegisterEnv(name)
		}
	}
}
