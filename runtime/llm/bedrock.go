package llm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Claude (and any Converse model) on Amazon Bedrock, through the Converse
// and ConverseStream APIs.
const (
	ProviderBedrock = "bedrock"
	// BedrockService is the SigV4 signing name of bedrock-runtime.
	BedrockService = "bedrock"
)

// Bedrock is a hand-written Converse client: JSON and the AWS event stream
// over the shared retrying transport, signed (afresh on every attempt) by
// the AWS SDK's SigV4 signer with credentials from the SDK's standard
// chain (environment, shared config and credentials files with
// AWS_PROFILE, SSO, web identity, container and instance roles).
type Bedrock struct {
	oa *OpenAI

	mu       sync.Mutex
	profiles map[string]*awsProfile
}

// awsProfile is the SDK's resolved config of one profile, loaded once.
type awsProfile struct {
	once   sync.Once
	creds  aws.CredentialsProvider
	region string
	err    error
}

// NewBedrock builds a client; it is safe for concurrent use.
func NewBedrock(opts OpenAIOptions) *Bedrock {
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		*hc = *opts.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		dt := http.DefaultTransport.(*http.Transport).Clone()
		dt.MaxIdleConnsPerHost = 256
		dt.MaxIdleConns = 1024
		base = dt
	}
	// The signer sits under the retry transport, so each attempt carries
	// its own X-Amz-Date.
	hc.Transport = &sigv4Transport{next: base, signer: v4.NewSigner()}
	opts.HTTPClient = hc
	return &Bedrock{oa: NewOpenAI(opts), profiles: map[string]*awsProfile{}}
}

// Region is $AWS_REGION, else $AWS_DEFAULT_REGION ("" when neither).
func (b *Bedrock) Region() string {
	if r := b.oa.getenv("AWS_REGION"); r != "" {
		return r
	}
	return b.oa.getenv("AWS_DEFAULT_REGION")
}

// Endpoint is the base URL for region: baseURL, else
// $AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else $AWS_ENDPOINT_URL, else the
// regional bedrock-runtime host.
func (b *Bedrock) Endpoint(baseURL, region string) string {
	for _, e := range []string{baseURL, b.oa.getenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"), b.oa.getenv("AWS_ENDPOINT_URL")} {
		if e != "" {
			return strings.TrimRight(e, "/")
		}
	}
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// CircuitOpen reports whether calls to the endpoint currently fail fast.
func (b *Bedrock) CircuitOpen(baseURL string) bool {
	return b.oa.tr.breakers.get(b.Endpoint(baseURL, b.Region())).isOpen()
}

// profile loads the SDK's config for the named profile ("" = default)
// once; a failure is kept too, so a run without credentials does not
// probe the instance metadata service on every call.
func (b *Bedrock) profile(ctx context.Context, name string) *awsProfile {
	b.mu.Lock()
	p := b.profiles[name]
	if p == nil {
		p = &awsProfile{}
		b.profiles[name] = p
	}
	b.mu.Unlock()
	p.once.Do(func() {
		var opts []func(*config.LoadOptions) error
		if name != "" {
			opts = append(opts, config.WithSharedConfigProfile(name))
		}
		if f := b.oa.getenv("AWS_CONFIG_FILE"); f != "" {
			opts = append(opts, config.WithSharedConfigFiles([]string{f}))
		}
		if f := b.oa.getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
			opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
		}
		if strings.EqualFold(b.oa.getenv("AWS_EC2_METADATA_DISABLED"), "true") {
			opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			p.err = err
			return
		}
		p.creds, p.region = cfg.Credentials, cfg.Region
	})
	return p
}

// credentials resolve the call's region and credentials: static keys from
// the environment first, else the SDK's chain for $AWS_PROFILE.
func (b *Bedrock) credentials(ctx context.Context) (aws.Credentials, string, error) {
	region := b.Region()
	id, secret := b.oa.getenv("AWS_ACCESS_KEY_ID"), b.oa.getenv("AWS_SECRET_ACCESS_KEY")
	if id != "" && secret != "" && region != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: b.oa.getenv("AWS_SESSION_TOKEN"), Source: "environment"}, region, nil
	}
	profile := b.oa.getenv("AWS_PROFILE")
	p := b.profile(ctx, profile)
	if region == "" {
		region = p.region
	}
	if region == "" {
		return aws.Credentials{}, "", errors.New("no AWS region: set $AWS_REGION (or $AWS_DEFAULT_REGION, or region in the AWS profile)")
	}
	if id != "" && secret != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: b.oa.getenv("AWS_SESSION_TOKEN"), Source: "environment"}, region, nil
	}
	const how = "no AWS credentials: set $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (and $AWS_SESSION_TOKEN), or $AWS_PROFILE naming a profile in ~/.aws/config"
	if p.err != nil {
		return aws.Credentials{}, region, fmt.Errorf("%s (%s)", how, shorten(p.err.Error(), 200))
	}
	if p.creds == nil {
		return aws.Credentials{}, region, errors.New(how)
	}
	c, err := p.creds.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, region, fmt.Errorf("%s (%s)", how, shorten(err.Error(), 200))
	}
	return c, region, nil
}

// Complete sends one Converse call, or ConverseStream when req.Stream.
func (b *Bedrock) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	creds, region, err := b.credentials(ctx)
	endpoint := b.Endpoint(req.BaseURL, region)
	if err != nil {
		e := &Error{Kind: KindAuth, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), creds.SecretAccessKey)}
		if region == "" {
			e.Kind, e.Endpoint = KindClient, "bedrock"
		}
		return nil, e
	}
	body, err := converseBody(req)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: err.Error()}
	}
	op := "/converse"
	if req.Stream {
		op = "/converse-stream"
	}
	url := endpoint + "/model/" + awsEscape(req.Model) + op
	st := &callState{endpoint: endpoint, keyEnv: "AWS_ACCESS_KEY_ID", key: creds.SecretAccessKey}
	ctx = context.WithValue(ctx, sigv4Key{}, &sigv4Info{creds: creds, region: region})
	resp, err := rest{b.oa}.call(ctx, st, req.Model, onChunk, func(ctx context.Context, chunk ChunkFunc) (*Response, error) {
		resp, err := rest{b.oa}.post(ctx, url, body, nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var r *Response
		if req.Stream {
			r, err = converseStream(resp.Body, chunk)
		} else {
			r, err = converseWhole(resp.Body)
		}
		if r != nil {
			r.Model = req.Model // Converse does not echo it
		}
		return r, err
	})
	var e *Error
	if errors.As(err, &e) && e.Kind == KindAuth {
		// The transport names an API key variable; AWS has a chain.
		detail := ""
		if _, d, ok := strings.Cut(e.Msg, "): "); ok {
			detail = ": " + d
		}
		e.Msg = scrub("AWS rejected the credentials or their permissions (check $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_SESSION_TOKEN or $AWS_PROFILE, and model access in the Bedrock console)"+detail, creds.SecretAccessKey)
	}
	return resp, err
}

// awsEscape escapes a path label as AWS does: everything but the
// unreserved characters, so "anthropic.claude-v2:1" becomes
// "anthropic.claude-v2%3A1" and an ARN's "/" becomes "%2F".
func awsEscape(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			out.WriteByte(c)
		} else {
			fmt.Fprintf(&out, "%%%02X", c)
		}
	}
	return out.String()
}

type sigv4Key struct{}

type sigv4Info struct {
	creds  aws.Credentials
	region string
}

// sigv4Transport signs each attempt of a request whose context carries
// sigv4Info; others pass unsigned.
type sigv4Transport struct {
	next   http.RoundTripper
	signer *v4.Signer
}

func (t *sigv4Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	info, _ := r.Context().Value(sigv4Key{}).(*sigv4Info)
	if info == nil {
		return t.next.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	if err := t.signer.SignHTTP(r.Context(), info.creds, r, hex.EncodeToString(sum[:]), BedrockService, info.region, time.Now()); err != nil {
		return nil, &Error{Kind: KindClient, Msg: "sign request: " + scrub(err.Error(), info.creds.SecretAccessKey)}
	}
	return t.next.RoundTrip(r)
}

// Converse wire types (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
type cvRequest struct {
	Messages        []cvMessage    `json:"messages"`
	System          []cvSystem     `json:"system,omitempty"`
	InferenceConfig *cvInference   `json:"inferenceConfig,omitempty"`
	ToolConfig      *cvToolConfig  `json:"toolConfig,omitempty"`
	Additional      map[string]any `json:"additionalModelRequestFields,omitempty"`
}

type cvSystem struct {
	Text string `json:"text"`
}

type cvInference struct {
	MaxTokens     int      `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type cvMessage struct {
	Role    string    `json:"role"`
	Content []cvBlock `json:"content"`
}

type cvBlock struct {
	Text       *string       `json:"text,omitempty"`
	Image      *cvImage      `json:"image,omitempty"`
	ToolUse    *cvToolUse    `json:"toolUse,omitempty"`
	ToolResult *cvToolResult `json:"toolResult,omitempty"`
}

type cvImage struct {
	Format string `json:"format"`
	Source struct {
		Bytes string `json:"bytes"` // base64
	} `json:"source"`
}

type cvToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type cvToolResult struct {
	ToolUseID string    `json:"toolUseId"`
	Content   []cvBlock `json:"content"`
}

type cvToolConfig struct {
	Tools      []cvTool      `json:"tools"`
	ToolChoice *cvToolChoice `json:"toolChoice,omitempty"`
}

type cvTool struct {
	ToolSpec struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		InputSchema struct {
			JSON json.RawMessage `json:"json"`
		} `json:"inputSchema"`
	} `json:"toolSpec"`
}

type cvToolChoice struct {
	Auto *struct{} `json:"auto,omitempty"`
	Any  *struct{} `json:"any,omitempty"`
	Tool *struct {
		Name string `json:"name"`
	} `json:"tool,omitempty"`
}

func converseBody(req *Request) ([]byte, error) {
	s, err := parseClaudeSettings(req.Settings)
	if err != nil {
		return nil, err
	}
	system, turns, err := claudeConversation(req.Messages)
	if err != nil {
		return nil, err
	}
	cr := cvRequest{Messages: make([]cvMessage, 0, len(turns))}
	if system != "" {
		cr.System = []cvSystem{{Text: system}}
	}
	cr.InferenceConfig = &cvInference{MaxTokens: s.maxTokens, Temperature: s.temperature, TopP: s.topP, StopSequences: s.stop}
	if s.topK != nil {
		cr.Additional = map[string]any{"top_k": *s.topK} // Claude's own field; Converse has none
	}
	for _, t := range turns {
		m := cvMessage{Role: t.Role}
		for _, b := range t.Blocks {
			cb, err := cvBlockOf(b)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, cb)
		}
		cr.Messages = append(cr.Messages, m)
	}
	if len(s.tools) > 0 && (s.toolChoice == nil || s.toolChoice.Type != "none") {
		tc := &cvToolConfig{}
		for _, t := range s.tools {
			var ct cvTool
			ct.ToolSpec.Name, ct.ToolSpec.Description, ct.ToolSpec.InputSchema.JSON = t.Name, t.Description, t.Schema
			tc.Tools = append(tc.Tools, ct)
		}
		if c := s.toolChoice; c != nil {
			switch c.Type {
			case "auto":
				tc.ToolChoice = &cvToolChoice{Auto: &struct{}{}}
			case "any":
				tc.ToolChoice = &cvToolChoice{Any: &struct{}{}}
			case "tool":
				tc.ToolChoice = &cvToolChoice{Tool: &struct {
					Name string `json:"name"`
				}{c.Name}}
			}
		}
		cr.ToolConfig = tc
	}
	return json.Marshal(cr)
}

func cvBlockOf(b claudeBlock) (cvBlock, error) {
	switch b.Kind {
	case "image":
		if b.URL != "" {
			return cvBlock{}, fmt.Errorf("bedrock takes images as data: URLs only, not %s", shorten(b.URL, 60))
		}
		format, ok := strings.CutPrefix(b.MediaType, "image/")
		if format == "jpg" {
			format = "jpeg"
		}
		if !ok || (format != "png" && format != "jpeg" && format != "gif" && format != "webp") {
			return cvBlock{}, fmt.Errorf("bedrock takes png, jpeg, gif or webp images, not %s", b.MediaType)
		}
		img := &cvImage{Format: format}
		img.Source.Bytes = b.Data
		return cvBlock{Image: img}, nil
	case "tool_use":
		return cvBlock{ToolUse: &cvToolUse{ToolUseID: b.ID, Name: b.Name, Input: b.Input}}, nil
	case "tool_result":
		text := b.Text
		return cvBlock{ToolResult: &cvToolResult{ToolUseID: b.ID, Content: []cvBlock{{Text: &text}}}}, nil
	}
	text := b.Text
	return cvBlock{Text: &text}, nil
}

type cvUsage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}

func (u cvUsage) usage() Usage {
	t := u.TotalTokens
	if t == 0 {
		t = u.InputTokens + u.OutputTokens
	}
	return Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: t}
}

func converseWhole(body io.Reader) (*Response, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Output *struct {
			Message *struct {
				Role    string `json:"role"`
				Content []struct {
					Text    *string    `json:"text"`
					ToolUse *cvToolUse `json:"toolUse"`
				} `json:"content"`
			} `json:"message"`
		} `json:"output"`
		StopReason string  `json:"stopReason"`
		Usage      cvUsage `json:"usage"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Output == nil || r.Output.Message == nil {
		return nil, &Error{Kind: KindBadResponse, Msg: "answer has no output.message"}
	}
	resp := &Response{Role: r.Output.Message.Role, FinishReason: claudeFinish(r.StopReason), Usage: r.Usage.usage()}
	var text strings.Builder
	var calls []claudeToolCall
	for _, c := range r.Output.Message.Content {
		if c.Text != nil {
			text.WriteString(*c.Text)
		}
		if tu := c.ToolUse; tu != nil {
			calls = append(calls, claudeToolCall{ID: tu.ToolUseID, Name: tu.Name, Input: tu.Input})
		}
	}
	resp.Text, resp.ToolCalls = text.String(), claudeToolCallsJSON(calls)
	if resp.Role == "" {
		resp.Role = "assistant"
	}
	return resp, nil
}
