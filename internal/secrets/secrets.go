// Package secrets holds every secret value aieval may meet in a run (API
// keys from the environment, keys read for a call, URL credentials) and
// removes them, and anything shaped like a provider key, from text before
// it is written anywhere.
//
// One Set serves the whole process (Default), so a key first read by a
// model client is also scrubbed from reports written later. Scrub works on
// whole strings: callers truncate after scrubbing, never before, so a key
// cut in half cannot escape the match.
package secrets

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces every secret in scrubbed text.
const Redacted = "[redacted]"

// MinLen is the shortest value treated as a secret. Local servers are
// often given a dummy key ("x", "ollama"); replacing such a value
// everywhere would mangle ordinary text and protects nothing.
const MinLen = 8

// StandardEnv are the providers' own key variables (and CI tokens), read
// whether or not a suite names them.
var StandardEnv = []string{
	"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
	"AZURE_OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_API_TOKEN", "HUGGINGFACEHUB_API_TOKEN",
	"GROQ_API_KEY", "ANYSCALE_ENDPOINT_API_KEY", "MISTRAL_API_KEY", "COHERE_API_KEY",
	"TOGETHER_API_KEY", "XAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK",
	"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
	"OTEL_EXPORTER_OTLP_HEADERS",
}

// URLEnv are variables holding URLs whose userinfo or query may carry a
// credential; their secret parts are registered.
var URLEnv = []string{
	"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "AZURE_OPENAI_ENDPOINT",
	"HF_INFERENCE_ENDPOINT", "GROQ_BASE_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY",
}

// Set is a collection of secret values; safe for concurrent use.
type Set struct {
	mu     sync.RWMutex
	lookup func(string) string
	values []string // longest first, so a key containing another is removed whole
}

// New builds a Set holding the values of StandardEnv, the secret parts of
// URLEnv, and the variables named in env (e.g. every api_key_env), as
// lookup returns them. A nil lookup is os.Getenv.
func New(lookup func(string) string, env ...string) *Set {
	if lookup == nil {
		lookup = os.Getenv
	}
	s := &Set{lookup: lookup}
	for _, name := range StandardEnv {
		s.Register(lookup(name))
	}
	for _, name := range URLEnv {
		s.RegisterURL(lookup(name))
	}
	for _, name := range env {
		s.RegisterEnv(name)
	}
	return s
}

var (
	defaultOnce sync.Once
	defaultSet  *Set
)

// Default is the process's Set, built from os.Getenv on first use. Model
// clients register the keys they read in it; writers scrub with it.
func Default() *Set {
	defaultOnce.Do(func() { defaultSet = New(nil) })
	return defaultSet
}

// RegisterEnv registers the value of the variable name (an api_key_env).
func (s *Set) RegisterEnv(name string) {
	if name != "" {
		s.Register(s.lookup(name))
	}
}

// Register adds a secret value. Values shorter than MinLen are ignored.
func (s *Set) Register(v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinLen {
		return
	}
	s.mu.RLock()
	known := slices.Contains(s.values, v)
	s.mu.RUnlock()
	if known {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.values, v) {
		return
	}
	s.values = append(s.values, v)
	slices.SortStableFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

// RegisterURL registers the password, user name and secret query values
// of a URL.
func (s *Set) RegisterURL(raw string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			s.Register(p)
		}
		s.Register(u.User.Username())
	}
	for k, vs := range u.Query() {
		if secretParam(k) {
			for _, v := range vs {
				s.Register(v)
			}
		}
	}
}

// Scrub returns text without any registered value, URL userinfo, secret
// query value or key-shaped token. Text with none of them is returned as
// is, without allocating.
func (s *Set) Scrub(text string) string {
	return scrubShapes(s.ScrubValues(text))
}

// ScrubValues removes only the registered values. It is for text whose
// shape matters and may legitimately hold key-like examples, such as a
// model's answer, which must lose an echoed key but nothing else.
func (s *Set) ScrubValues(text string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Redacted)
		}
	}
	return text
}

// Scrub is Default().Scrub.
func Scrub(text string) string { return Default().Scrub(text) }

// Register is Default().Register.
func Register(v string) { Default().Register(v) }

// A key-shaped token: one of the prefixes, not preceded by a word
// character, then at least min bytes of the token's alphabet. Matched by
// scanning for the literal prefixes, so text without any costs a few
// substring searches (a regexp here ran at ~10 MB/s).
type shape struct {
	prefixes []string
	in       func(byte) bool
	min      int
}

func alnum(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func word(c byte) bool  { return alnum(c) || c == '_' }
func dashed(c byte) bool {
	return word(c) || c == '-'
}

var shapes = []shape{
	// OpenAI (sk-, sk-proj-, masked sk-abc***), Anthropic (sk-ant-), and
	// restricted/publishable variants.
	{[]string{"sk-", "rk-", "pk-"}, func(c byte) bool { return dashed(c) || c == '*' }, 6},
	{[]string{"gsk_", "hf_", "xai-"}, alnum, 8},                   // Groq, Hugging Face, xAI
	{[]string{"AIza"}, dashed, 16},                                // Google
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, alnum, 16}, // GitHub
	{[]string{"github_pat_"}, word, 16},
	{[]string{"AKIA", "ASIA"}, func(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' }, 16}, // AWS key ids
	{[]string{"Bearer ", "bearer ", "BEARER "}, func(c byte) bool { return dashed(c) || strings.IndexByte(".~+/=", c) >= 0 }, 8},
}

type span struct{ start, end int }

// scrubShapes runs until nothing changes: a query value redacted can
// make a URL userinfo out of what was not one ("://&key=a/b&@" becomes
// "://&key=[redacted]&@"), and Scrub must be idempotent (FuzzScrub).
func scrubShapes(text string) string {
	for range 4 {
		out := text
		if spans := shapeSpans(out); len(spans) > 0 {
			out = replaceSpans(out, spans)
		}
		out = scrubQuery(out)
		if out == text {
			break
		}
		text = out
	}
	return text
}

// shapeSpans finds key-shaped tokens and URL userinfo.
func shapeSpans(text string) []span {
	var spans []span
	if mayHaveShape(text) {
		spans = keySpans(text)
	}
	return append(spans, userinfoSpans(text)...)
}

// prefixPairs marks the first two bytes of every shape prefix (all are 3
// bytes or longer), and prefixesOf lists the prefixes by first byte.
var (
	prefixPairs [256][4]uint64
	prefixesOf  [256][]string
)

func init() {
	for _, sh := range shapes {
		for _, p := range sh.prefixes {
			prefixPairs[p[0]][p[1]/64] |= 1 << (p[1] % 64)
			prefixesOf[p[0]] = append(prefixesOf[p[0]], p)
		}
	}
}

// mayHaveShape reports whether any shape prefix occurs in text: one pass
// over the text, where keySpans makes a substring search per prefix (most
// text, such as an assertion's reason, has none). When it is false,
// keySpans finds nothing (TestMayHaveShape, FuzzMayHaveShape).
func mayHaveShape(text string) bool {
	for i := 0; i+1 < len(text); i++ {
		c, d := text[i], text[i+1]
		if prefixPairs[c][d/64]&(1<<(d%64)) == 0 {
			continue
		}
		for _, p := range prefixesOf[c] {
			if strings.HasPrefix(text[i:], p) {
				return true
			}
		}
	}
	return false
}

// keySpans finds key-shaped tokens.
func keySpans(text string) []span {
	var spans []span
	for _, sh := range shapes {
		for _, p := range sh.prefixes {
			for i := 0; ; {
				j := strings.Index(text[i:], p)
				if j < 0 {
					break
				}
				start := i + j
				end := start + len(p)
				for end < len(text) && sh.in(text[end]) {
					end++
				}
				i = start + 1
				if end-start-len(p) >= sh.min && (start == 0 || !word(text[start-1])) {
					spans = append(spans, span{start, end})
					i = end
				}
			}
		}
	}
	return spans
}

// userinfoSpans finds "user:pass" in "scheme://user:pass@host".
func userinfoSpans(text string) []span {
	if !strings.Contains(text, "@") {
		return nil
	}
	var spans []span
	for i := 0; ; {
		j := strings.Index(text[i:], "://")
		if j < 0 {
			return spans
		}
		start := i + j + 3
		end := start
		for end < len(text) && strings.IndexByte("/@?#\"'<> \t\r\n", text[end]) < 0 {
			end++
		}
		i = start
		if end < len(text) && text[end] == '@' && end > start && text[start:end] != Redacted {
			spans = append(spans, span{start, end})
			i = end
		}
	}
}

// replaceSpans puts Redacted in place of each span; overlapping spans merge.
func replaceSpans(text string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.end <= last {
			continue
		}
		if sp.start < last {
			sp.start = last
		} else {
			b.WriteString(text[last:sp.start])
			b.WriteString(Redacted)
		}
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// scrubQuery replaces the value of every secret parameter written after
// ?, & or ; (a URL query, a form body). A scan rather than a regexp: it
// runs on all text and '=' is common.
func scrubQuery(text string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '=')
		if j < 0 {
			break
		}
		eq := i + j
		i = eq + 1
		k := eq
		for k > 0 && isNameByte(text[k-1]) {
			k--
		}
		if k == 0 || k == eq || !strings.ContainsRune("?&;", rune(text[k-1])) || !secretParam(text[k:eq]) {
			continue
		}
		e := eq + 1
		for e < len(text) && !strings.ContainsRune("&#\"'<> \t\r\n", rune(text[e])) {
			e++
		}
		if e > eq+1 {
			b.WriteString(text[last : eq+1])
			b.WriteString(Redacted)
			last, i = e, e
		}
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func isNameByte(c byte) bool { return dashed(c) }

// secretParam reports whether a query parameter's value is a credential.
func secretParam(name string) bool {
	switch strings.ToLower(name) {
	case "key", "api-key", "api_key", "apikey", "access_token", "access-token", "token", "auth",
		"password", "secret", "client_secret", "client-secret", "sig", "signature",
		"x-amz-signature", "x-amz-security-token":
		return true
	}
	return false
}

// RedactURL returns u fit to print: no userinfo, secret query values
// replaced, registered values (e.g. a key in the path) removed. Text that
// does not parse as a URL is scrubbed as any text.
func RedactURL(u string) string { return Default().RedactURL(u) }

// RedactURL is the package RedactURL over this Set's values.
func (s *Set) RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" && u.Host == "" && u.User == nil {
		return s.Scrub(raw)
	}
	u.User = nil
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, ok := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); ok && err == nil && secretParam(name) {
				parts[i] = k + "=" + Redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return s.Scrub(u.String())
}
