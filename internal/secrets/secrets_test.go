package secrets

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestScrub(t *testing.T) {
	s := New(env(map[string]string{
		"OPENAI_API_KEY":  "sk-proj-OPENAIKEY0123456789",
		"GROQ_API_KEY":    "gsk_GROQKEY0123456789abcdef",
		"MY_KEY":          "plainvalue-without-shape-42",
		"SHORT_KEY":       "x",
		"OPENAI_BASE_URL": "http://alice:hunter2hunter2@proxy.example/v1?api-key=QUERYSECRET99",
	}), "MY_KEY", "SHORT_KEY", "UNSET_KEY")
	s.Register("registered-later-0000")
	tests := []struct{ name, in, want string }{
		{"no secret", "a plain answer: x, y = z & w?", "a plain answer: x, y = z & w?"},
		{"env key", "key is sk-proj-OPENAIKEY0123456789.", "key is [redacted]."},
		{"api_key_env value", "got plainvalue-without-shape-42!", "got [redacted]!"},
		{"registered", "registered-later-0000", "[redacted]"},
		{"short dummy kept", "x marks the spot", "x marks the spot"},
		{"password from URL env", "auth hunter2hunter2 failed", "auth [redacted] failed"},
		{"query value from env", "QUERYSECRET99", "[redacted]"},
		{"userinfo", "POST http://bob:pw@host:8080/v1 failed", "POST http://[redacted]@host:8080/v1 failed"},
		{"query", "GET https://h/v1?model=m&key=AAAA1234&x=1", "GET https://h/v1?model=m&key=[redacted]&x=1"},
		{"query api_key", "https://h/?api_key=abc", "https://h/?api_key=[redacted]"},
		{"groq shape", "bad gsk_abcdefghijklmnop", "bad [redacted]"},
		{"anthropic shape", "sk-ant-api03-abcdefghij", "[redacted]"},
		{"masked openai", "Incorrect API key provided: sk-abc*****wxyz", "Incorrect API key provided: [redacted]"},
		{"hf shape", "hf_abcdefghijklmnopqrs", "[redacted]"},
		{"google shape", "AIzaSyA-abcdefghijklmnopqrstuv", "[redacted]"},
		{"xai shape", "xai-abcdefghijklmnop", "[redacted]"},
		{"github shape", "ghp_abcdefghijklmnopqrstuvwxyz0123", "[redacted]"},
		{"aws id", "AKIAABCDEFGHIJKLMNOP", "[redacted]"},
		{"bearer", "Authorization: Bearer abc.def.ghi-jkl", "Authorization: [redacted]"},
		{"words kept", "the sky-blue hf_ x", "the sky-blue hf_ x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrubValuesKeepsShapes(t *testing.T) {
	s := New(env(map[string]string{"OPENAI_API_KEY": "sk-real-key-0123456789"}))
	in := "example: sk-example-000000 and the real sk-real-key-0123456789"
	want := "example: sk-example-000000 and the real [redacted]"
	if got := s.ScrubValues(in); got != want {
		t.Errorf("ScrubValues = %q, want %q", got, want)
	}
}

func TestLongestFirst(t *testing.T) {
	s := New(env(nil))
	s.Register("abcdefgh")
	s.Register("abcdefgh-and-more")
	if got := s.Scrub("abcdefgh-and-more"); got != Redacted {
		t.Errorf("got %q: the longer secret must go whole", got)
	}
}

func TestRedactURL(t *testing.T) {
	s := New(env(map[string]string{"OPENAI_API_KEY": "sk-inpath-0123456789"}))
	tests := []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"http://user:pass@127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"},
		{"http://user@host/v1", "http://host/v1"},
		{"https://h/v1?api-version=2024&api-key=SECRET", "https://h/v1?api-version=2024&api-key=[redacted]"},
		{"https://h/v1?key=A&Key=B&token=C&model=m", "https://h/v1?key=[redacted]&Key=[redacted]&token=[redacted]&model=m"},
		{"https://h/keys/sk-inpath-0123456789/v1", "https://h/keys/[redacted]/v1"},
		{"://bad url with user:pw@host", "://bad url with user:pw@host"},
	}
	for _, tt := range tests {
		if got := s.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNoAllocWithoutSecret(t *testing.T) {
	s := New(env(map[string]string{"OPENAI_API_KEY": "sk-real-key-0123456789"}))
	text := strings.Repeat("The capital of France is Paris. ", 100)
	if n := testing.AllocsPerRun(100, func() { _ = s.Scrub(text) }); n != 0 {
		t.Errorf("Scrub allocates %v times on clean text", n)
	}
}

func FuzzScrub(f *testing.F) {
	const secret = "Zq9xW2vB7nKp4Lm0"
	s := New(env(map[string]string{"OPENAI_API_KEY": secret}))
	for _, seed := range []string{"", "hello", "http://u:p@h/?key=v", "sk-abc*****wxyz", "Bearer abcdefghij", secret[:8]} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		out := s.Scrub(a + secret + b)
		if strings.Contains(out, secret) {
			t.Fatalf("secret survived: %q", out)
		}
		if again := s.Scrub(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		if sp := shapeSpans(out); len(sp) > 0 {
			t.Fatalf("key shape %q survived in %q", out[sp[0].start:sp[0].end], out)
		}
		clean := s.Scrub(a)
		// Key shapes without those bytes (AKIA/ASIA access key ids) are
		// triggers of their own.
		if !strings.ContainsAny(a, "-_:@= ") && len(shapeSpans(a)) == 0 && clean != a {
			t.Fatalf("text without any trigger changed: %q -> %q", a, clean)
		}
	})
}

func BenchmarkScrub(b *testing.B) {
	s := New(env(map[string]string{"OPENAI_API_KEY": "sk-real-key-0123456789", "GROQ_API_KEY": "gsk_0123456789abcdef"}))
	clean := strings.Repeat("The capital of France is Paris; the answer is 42 = forty-two. ", 64) // ~4 KB
	dirty := clean + " leaked sk-real-key-0123456789 and http://u:p@h/?key=v"
	b.Run("clean-4KB", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		for b.Loop() {
			_ = s.Scrub(clean)
		}
	})
	b.Run("dirty-4KB", func(b *testing.B) {
		b.SetBytes(int64(len(dirty)))
		for b.Loop() {
			_ = s.Scrub(dirty)
		}
	})
}

// TestMayHaveShape: keySpans finds nothing in text the prefilter passes
// over, so Scrub with the prefilter is Scrub without it.
func TestMayHaveShape(t *testing.T) {
	texts := []string{"", "s", "sk", "sk-", "sk-abcdef", "xsk-abcdef", "latency 3 ms is within the 5000 ms limit",
		"output matches /\\d+/ at \"1\"", "Bearer", "Bearer abcdefgh", "bearer x", "BEARER abcdefgh/Bearer xyz12345",
		"AIzaSyA-0123456789abcdef", "AKIA0123456789ABCDEF", "ASIA", "github_pat_0123456789abcdef", "gho_x", "hf_", "xai-",
		"gs", "gsk", "gsk_0123456789", "rk-", "pk-", "ghp_0123456789abcdefghij", "through the high ridge, the best"}
	for _, text := range texts {
		checkPrefilter(t, text)
		checkPrefilter(t, "word "+text+" end")
	}
}

func checkPrefilter(t *testing.T, text string) {
	t.Helper()
	if !mayHaveShape(text) && len(keySpans(text)) > 0 {
		t.Fatalf("prefilter misses %q: %v", text, keySpans(text))
	}
	found := false
	for _, sh := range shapes {
		for _, p := range sh.prefixes {
			found = found || strings.Contains(text, p)
		}
	}
	if mayHaveShape(text) != found {
		t.Fatalf("mayHaveShape(%q) = %v, a prefix occurs: %v", text, !found, found)
	}
}

func FuzzMayHaveShape(f *testing.F) {
	f.Add("sk-abcdefgh")
	f.Add("Bearer abcdefgh")
	f.Add("plain text")
	f.Fuzz(func(t *testing.T, text string) { checkPrefilter(t, text) })
}
