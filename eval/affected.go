package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/runtime"
)

// This file answers "which tests does an edit affect?" for `aieval watch`:
// every test gets a fingerprint of what its run depends on (its entry in
// the suite or cases file with the defaults merged, the suite-wide keys,
// the prompt it runs and every prompt that prompt reads, the files its
// assertions read); a test whose fingerprint changed between two loads is
// affected. Positions (lines) are left out: adding a line to one test must
// not rerun the tests below it.

// PromptHashes hashes each prompt of c with what its request depends on:
// its own input, model, settings and parameters; the global settings of
// its model and the global parameters it reads; and, by their own hashes
// and saved outputs, the earlier prompts it chains on or resends as chat
// context.
// Editing one prompt changes its hash and the hashes of the prompts that
// depend on it, nothing else.
func PromptHashes(c *runtime.Config) map[string]string {
	prompts := c.Prompts()
	meta := c.Metadata()
	memo := make(map[int]string, len(prompts))
	var hashOf func(p *runtime.Prompt) string
	hashOf = func(p *runtime.Prompt) string {
		if h, ok := memo[p.Index]; ok {
			return h
		}
		memo[p.Index] = "" // a cycle cannot happen (deps are earlier prompts); be safe anyway
		model := p.Model
		if model == "" {
			model = meta.DefaultModel
		}
		reads := c.ParamsRead(p.Name)
		globals := map[string]any{}
		for k := range reads {
			if v, ok := meta.Parameters[k]; ok {
				globals[k] = v
			}
		}
		h := sha256.New()
		// Its own saved outputs are not part of its request: only of the
		// requests that resend it as chat context (below).
		writeJSON(h, "prompt", p.Name, p.Input, model, p.Settings, p.Parameters, p.RememberChatContext)
		writeJSON(h, "global", meta.Models[model], meta.ModelParsers[model], globals)
		// The prompts it chains on are the earlier ones whose name it
		// reads (ParamsRead follows the chain); with remember_chat_context
		// the earlier prompts of its model are resent too. A parameter
		// named like a prompt over-approximates: one rerun too many.
		seen := map[string]bool{}
		for _, prev := range prompts[:p.Index] {
			if seen[prev.Name] {
				continue // the first prompt of a name is the one referenced
			}
			prevModel := prev.Model
			if prevModel == "" {
				prevModel = meta.DefaultModel
			}
			if reads[prev.Name] || (p.RememberChatContext && prevModel == model) {
				seen[prev.Name] = true
				writeJSON(h, "dep", prev.Name, hashOf(prev), prev.Outputs)
			}
		}
		sum := hex.EncodeToString(h.Sum(nil))
		memo[p.Index] = sum
		return sum
	}
	out := make(map[string]string, len(prompts))
	for _, p := range prompts {
		if _, dup := out[p.Name]; !dup { // a test runs the first prompt of a name
			out[p.Name] = hashOf(p)
		}
	}
	return out
}

// Fingerprints maps each test name of the suite to a hash of what its run
// depends on (see the top of this file). A test of a large cases file (see
// LazyThreshold) is fingerprinted from its row's text, the defaults and
// every prompt of the aiconfig: its own prompt is only known once the row
// is read, so any prompt edit reruns such rows.
func (s *Suite) Fingerprints() map[string]string {
	var prompts map[string]string
	if s.Config != nil {
		prompts = PromptHashes(s.Config)
	}
	suite := sha256.New()
	writeJSON(suite, "suite", s.ConfigPath, s.Params, s.Models, s.Grader, s.Prices)
	common := suite.Sum(nil)
	files := map[string]string{} // content hashes of assertion files, read once

	out := make(map[string]string, s.TestCount())
	if c := s.lazy; c != nil {
		h := sha256.New()
		h.Write(common)
		writeRaw(h, c.defs, files)
		writeJSON(h, "prompts", prompts) // map keys are sorted by encoding/json
		all := h.Sum(nil)
		for i := range c.sums {
			h := sha256.New()
			h.Write(all)
			writeJSON(h, "row", c.name(i), c.sums[i])
			out[c.name(i)] = hex.EncodeToString(h.Sum(nil))
		}
		return out
	}
	for _, t := range s.Tests {
		h := sha256.New()
		h.Write(common)
		writeJSON(h, "test", t.Name, t.Prompt, t.Params, t.Threshold, t.Repeat, t.PassRate, t.Skip, prompts[t.Prompt])
		writeAsserts(h, t.Asserts, files)
		out[t.Name] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// Affected lists, sorted, the tests of now that are new or whose
// fingerprint differs from before (tests that went away are not listed:
// there is nothing to rerun).
func Affected(before, now map[string]string) []string {
	var out []string
	for name, h := range now {
		if before[name] != h {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Files lists, sorted and without repeats, the files the suite reads: the
// suite itself, its aiconfig, its cases files and the files its assertions
// read (file:// values and rubric prompts, the scripts of exec judges).
// A JSON schema's own $ref'd files are not followed.
func (s *Suite) Files() []string {
	set := map[string]bool{s.Path: true}
	if s.ConfigPath != "" {
		set[s.ConfigPath] = true
	}
	done := map[*Assert]bool{}
	add := func(as []*Assert) {
		for _, a := range as {
			if done[a] {
				continue
			}
			done[a] = true
			for _, p := range assertFiles(a) {
				set[p] = true
			}
		}
	}
	if c := s.lazy; c != nil {
		set[c.path] = true
		add(c.defs.asserts)
	}
	for _, t := range s.Tests {
		if t.File != "" {
			set[t.File] = true
		}
		add(t.Asserts)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, filepath.Clean(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// assertFiles are the files an assertion reads when it runs: file://
// references anywhere in its value or rubric prompt and, for exec, every
// word of its command line that names a file beside the suite.
func assertFiles(a *Assert) []string {
	var out []string
	var strs []string
	collectStrings(a.Spec.Value, &strs)
	strs = append(strs, a.Spec.RubricPrompt)
	exec := strings.TrimPrefix(a.Spec.Type, "not-") == "exec"
	for _, s := range strs {
		if rel, ok := strings.CutPrefix(s, "file://"); ok && rel != "" {
			out = append(out, filepath.Join(a.Spec.Dir, rel))
			continue
		}
		if !exec {
			continue
		}
		for _, w := range strings.Fields(s) {
			w = strings.Trim(w, `'"`)
			if w == "" || filepath.IsAbs(w) {
				continue
			}
			p := filepath.Join(a.Spec.Dir, w)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				out = append(out, p)
			}
		}
	}
	return out
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// writeAsserts hashes assertion specs without their position, then the
// content of the files they read.
func writeAsserts(h hash.Hash, as []*Assert, files map[string]string) {
	for _, a := range as {
		sp := a.Spec
		writeJSON(h, "assert", sp.Type, sp.Value, sp.Threshold, sp.Weight, sp.Metric, sp.Provider, sp.RubricPrompt, sp.Timeout, sp.Env)
		for _, p := range assertFiles(a) {
			sum, ok := files[p]
			if !ok {
				sum = fileSum(p)
				files[p] = sum
			}
			writeJSON(h, "file", p, sum)
		}
	}
}

// writeRaw hashes the defaults of a suite.
func writeRaw(h hash.Hash, r *rawTest, files map[string]string) {
	if r == nil {
		return
	}
	writeJSON(h, "defaults", r.prompt, r.params, r.threshold, r.repeat, r.passRate, r.skip)
	writeAsserts(h, r.asserts, files)
}

// fileSum is the hash of a file's content, or of why it cannot be read
// (so a file appearing or going away counts as a change).
func fileSum(path string) string {
	data, err := safefile.ReadFile(path, 0)
	if err != nil {
		return "unreadable: " + describeFSError(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// writeJSON writes each value, encoded, into h. encoding/json sorts map
// keys, so equal values hash equally; a value it cannot encode is written
// with %#v, which also sorts map keys.
func writeJSON(h hash.Hash, vs ...any) {
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			b = fmt.Appendf(nil, "%#v", v)
		}
		h.Write(b)
		h.Write([]byte{0})
	}
}
