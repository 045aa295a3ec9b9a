// Package runtime loads, validates, resolves and runs AIConfig prompts the
// way the AIConfig SDK does. It knows nothing of tests or reports.
package runtime

import (
	"context"
	"errors"

	"github.com/aieval/aieval/runtime/llm"
)

// SKELETON: signatures below are the contract other packages build on.
// Bodies are filled in by the runtime work (issue 2).

// Config is one loaded aiconfig document.
type Config struct {
	Path string // file it was loaded from ("" when built in memory)
	// Implementation detail: keep what is needed for faithful round trips.
}

// Prompt is one entry of prompts[].
type Prompt struct {
	Name string
}

// Load reads and validates (schema + structure) an aiconfig file, JSON or YAML
// by extension. Errors are one line: "FILE:LINE: what is wrong (how to fix)".
func Load(path string) (*Config, error) { return nil, errors.New("not implemented") }

// Parse is Load on bytes; path is used for messages and to pick the format.
func Parse(data []byte, path string) (*Config, error) { return nil, errors.New("not implemented") }

// Name is the aiconfig's name, or the file's base name without extensions.
func (c *Config) Name() string { return "" }

// SHA256 is the hex digest of the file as loaded.
func (c *Config) SHA256() string { return "" }

// Prompt returns the named prompt.
func (c *Config) Prompt(name string) (*Prompt, bool) { return nil, false }

// PromptNames lists prompts in file order.
func (c *Config) PromptNames() []string { return nil }

// Save writes the document back, keeping unknown fields and key order.
func (c *Config) Save(path string) error { return errors.New("not implemented") }

// Severity of a Diagnostic.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Diagnostic is one semantic finding of Validate.
type Diagnostic struct {
	File     string
	Line     int
	Prompt   string
	Severity Severity
	Message  string
	Fix      string
}

func (d Diagnostic) Error() string { return d.Message }

// Validate runs the semantic checks (duplicate names, unknown models,
// chaining order and cycles, undefined parameters). known lists parameter
// names that will be supplied at run time (a suite's params), so they are
// not reported as undefined.
func Validate(c *Config, known []string) []Diagnostic { return nil }

// Endpoint maps a model name to an OpenAI-compatible endpoint.
type Endpoint struct {
	Provider  string `yaml:"provider" json:"provider,omitempty"` // parser id; default "openai"
	BaseURL   string `yaml:"base_url" json:"base_url,omitempty"`
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	Model     string `yaml:"model" json:"model,omitempty"` // name sent to the API, if different
}

// ModelParser turns a resolved request into a response. Implementations
// live in runtime/llm; the cache wraps one to record and replay.
type ModelParser interface {
	Complete(ctx context.Context, req *llm.Request, onChunk llm.ChunkFunc) (*llm.Response, error)
}

// Options configure a Runtime.
type Options struct {
	// Parsers by parser id ("openai", "echo", ...). Nil uses the defaults.
	Parsers map[string]ModelParser
	// Endpoints by model name, e.g. from a suite's `models:`.
	Endpoints map[string]Endpoint
	// ModelMap renames models at run time (--model gpt-4=llama3).
	ModelMap map[string]string
	// Wrap, if set, wraps every parser (cache, memo, metrics).
	Wrap      func(ModelParser) ModelParser
	Callbacks *CallbackManager
}

// Runtime runs prompts. It is safe for concurrent use and never mutates a
// Config while running.
type Runtime struct {
	opts Options
}

// New builds a Runtime.
func New(opts Options) *Runtime { return &Runtime{opts: opts} }

// RunOptions are per-call inputs.
type RunOptions struct {
	Params  map[string]any // run-time params: highest precedence
	Stream  bool
	OnChunk llm.ChunkFunc
	Sample  int // repeat index; dependencies always use 0
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

// Run resolves and runs prompt, running the earlier prompts it references
// first with the same params (the SDK's run_with_dependencies).
func (r *Runtime) Run(ctx context.Context, c *Config, prompt string, opts RunOptions) (*Result, error) {
	return nil, errors.New("not implemented")
}

// Resolve builds the request for prompt without calling a model for it
// (dependencies referenced by {{x.output}} are still run).
func (r *Runtime) Resolve(ctx context.Context, c *Config, prompt string, opts RunOptions) (*llm.Request, error) {
	return nil, errors.New("not implemented")
}

// Complete sends messages to a model by name (the grader of llm-rubric),
// with the same endpoint mapping and wrapping as prompts.
func (r *Runtime) Complete(ctx context.Context, model string, msgs []llm.Message, settings map[string]any) (*llm.Response, error) {
	return nil, errors.New("not implemented")
}

// Embed returns embeddings from a model by name (the `similar` assertion).
func (r *Runtime) Embed(ctx context.Context, model string, texts []string) ([][]float64, error) {
	return nil, errors.New("not implemented")
}

// SetOutput records out as prompt's latest output (for `aieval prompt --save`).
func (c *Config) SetOutput(prompt string, res *llm.Response) error {
	return errors.New("not implemented")
}
