package runtime

import (
	"context"

	"github.com/aieval/aieval/runtime/llm"
)

// Endpoint maps a model name to an OpenAI-compatible endpoint.
type Endpoint struct {
	Provider  string `yaml:"provider" json:"provider,omitempty"` // parser id; default "openai"
	BaseURL   string `yaml:"base_url" json:"base_url,omitempty"`
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	Model     string `yaml:"model" json:"model,omitempty"` // name sent to the API, if different
}

// Embedder is the optional ability to embed texts (found by type assertion).
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) ([][]float64, error)
}

// Options configure a Runtime.
type Options struct {
	// Parsers by parser id ("openai", "echo", ...). Nil uses the defaults.
	Parsers map[string]llm.Client
	// Endpoints by model name, e.g. from a suite's `models:`.
	Endpoints map[string]Endpoint
	// ModelMap renames models at run time (--model gpt-4=llama3).
	ModelMap map[string]string
	// Wrap, if set, wraps every parser (cache, memo, metrics).
	Wrap      func(llm.Client) llm.Client
	Callbacks *CallbackManager
	// Getenv reads the endpoint and key variables routing names; nil:
	// os.Getenv. Give the clients the same one (Parsers).
	Getenv func(string) string
}

// Runtime runs prompts. It is safe for concurrent use and never mutates a
// Config while running.
type Runtime struct {
	opts    Options
	raw     map[string]llm.Client // as given
	parsers map[string]llm.Client // wrapped
}

// New builds a Runtime.
func New(opts Options) *Runtime {
	raw := opts.Parsers
	if raw == nil {
		raw = Parsers(llm.OpenAIOptions{})
	}
	r := &Runtime{opts: opts, raw: raw, parsers: make(map[string]llm.Client, len(raw))}
	for id, p := range raw {
		if opts.Wrap != nil {
			p = opts.Wrap(p)
		}
		r.parsers[id] = p
	}
	return r
}

// RunOptions are per-call inputs.
type RunOptions struct {
	Params map[string]any // run-time params: highest precedence
	Stream bool           // stream, whatever the settings say
	// NoStream never streams, even when the settings say stream: true
	// (the SDK's InferenceOptions(stream=False)); it wins over Stream.
	NoStream bool
	OnChunk  llm.ChunkFunc
	Sample   int // repeat index; dependencies always use 0
	// Model, when set, runs the prompt on this model instead of its own
	// (a matrix member), renamed as --model renames; the prompts it
	// chains keep theirs, so every model answers the same input.
	Model string
	// Logprobs asks for the output tokens' log probabilities (logprobs:
	// true) where the prompt's route is OpenAI-compatible: the perplexity
	// assertion needs them. Other routes are left as they are.
	Logprobs bool
}

// Result is one prompt's run, with the dependencies it ran first.
type Result struct {
	Prompt   string
	Output   string
	Request  *llm.Request
	Response *llm.Response
	Deps     []*Result
	Warnings []string
}
