package llm

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"sync"

	openai "github.com/sashabaranov/go-openai"
)

// ProviderAzure is the parser id of the Azure OpenAI client.
const ProviderAzure = "azure"

// DefaultAzureAPIVersion is the GA data-plane version used when
// OPENAI_API_VERSION is not set.
const DefaultAzureAPIVersion = "2024-10-21"

// AzureKeyEnvs are the key variables: the official SDKs' name, then the
// AIConfig SDK's AzureOpenAIParser's.
var AzureKeyEnvs = []string{"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"}

// AzureDeploymentKeys are the model settings naming the deployment, in
// order; without them the model name is the deployment, as the SDK's
// cookbook registers AzureOpenAIParser(deployment="gpt-35-turbo").
var AzureDeploymentKeys = []string{"azure_deployment", "deployment", "deployment_id", "engine"}

// Azure talks to Azure OpenAI through go-openai, with the key sent only in
// the api-key header. It does not use go-openai's (nor openai-go's) Azure
// mode: openai-go adds Authorization: Bearer $OPENAI_API_KEY when that
// variable is set, which would hand the OpenAI key to Azure; here the
// client has no token at all and one wrapper sets api-key.
type Azure struct {
	rest rest

	mu      sync.Mutex
	clients map[clientKey]*cachedClient
}

// NewAzure builds a client; it is safe for concurrent use.
func NewAzure(opts OpenAIOptions) *Azure {
	return &Azure{rest: newRest(opts), clients: map[clientKey]*cachedClient{}}
}

// Endpoint is the resource endpoint: baseURL, else $AZURE_OPENAI_ENDPOINT;
// "" when neither is set.
func (a *Azure) Endpoint(baseURL string) string {
	return a.rest.base.endpoint(baseURL, "AZURE_OPENAI_ENDPOINT", "")
}

// CircuitOpen reports whether calls to the endpoint currently fail fast.
func (a *Azure) CircuitOpen(baseURL string) bool { return a.rest.circuitOpen(a.Endpoint(baseURL)) }

// AzureURL is the chat completions base of a deployment: the deployment
// path with ?api-version, or the v1 path when the version is "v1" or
// "preview" (an endpoint already ending in /openai/v1 is used as is).
func AzureURL(endpoint, deployment, version string) (base, apiVersion string) {
	endpoint = strings.TrimRight(endpoint, "/")
	if strings.HasSuffix(endpoint, "/openai/v1") {
		endpoint = strings.TrimSuffix(endpoint, "/openai/v1")
		if version != "preview" {
			version = "v1"
		}
	}
	switch version {
	case "v1":
		return endpoint + "/openai/v1", ""
	case "preview":
		return endpoint + "/openai/v1", "preview"
	}
	return endpoint + "/openai/deployments/" + url.PathEscape(deployment), version
}

// apiKeyHeader sets Azure's api-key header on every request and drops any
// Authorization header, whatever sets it.
type apiKeyHeader struct {
	next http.RoundTripper
	key  string
}

func (h apiKeyHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	r.Header.Set("api-key", h.key)
	return h.next.RoundTrip(r)
}

func (a *Azure) client(base, version, keyEnv, key string) *openai.Client {
	sum := sha256.Sum256([]byte(key))
	k := clientKey{base + "?" + version, keyEnv}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.clients[k]; c != nil && c.keySum == sum {
		return c.c
	}
	cfg := openai.DefaultConfig("") // no token: no Authorization header
	cfg.BaseURL = base
	cfg.APIVersion = version
	hc := *a.rest.base.http
	hc.Transport = apiKeyHeader{next: a.rest.base.http.Transport, key: key}
	cfg.HTTPClient = &hc
	c := openai.NewClientWithConfig(cfg)
	a.clients[k] = &cachedClient{keySum: sum, c: c}
	return c
}

// Complete sends a chat completion to the deployment, streamed when
// req.Stream. The deployment is the first of AzureDeploymentKeys in the
// settings, else req.Model.
func (a *Azure) Complete(ctx context.Context, req *Request, onChunk ChunkFunc) (*Response, error) {
	endpoint := a.Endpoint(req.BaseURL)
	names := keyNames(req.APIKeyEnv, AzureKeyEnvs)
	keyEnv, key := a.rest.firstEnv(names...)
	if endpoint == "" {
		return nil, &Error{Kind: KindClient, Model: req.Model,
			Msg: "no Azure endpoint: set $AZURE_OPENAI_ENDPOINT (https://RESOURCE.openai.azure.com) or base_url in the model settings"}
	}
	if key == "" {
		return nil, missingKey(endpoint, req.Model, names...)
	}
	deployment := req.Model
	settings := req.Settings
	for _, k := range AzureDeploymentKeys {
		if d, ok := settings[k].(string); ok && d != "" && deployment == req.Model {
			deployment = d
		}
		if _, ok := settings[k]; ok {
			settings = without(settings, k)
		}
	}
	version := a.rest.getenv("OPENAI_API_VERSION")
	if version == "" {
		version = DefaultAzureAPIVersion
	}
	base, apiVersion := AzureURL(endpoint, deployment, version)
	cc := a.client(base, apiVersion, keyEnv, key)
	r := *req
	r.Model, r.Settings = deployment, settings
	creq, extra, err := buildChat(&r)
	if err != nil {
		return nil, &Error{Kind: KindClient, Endpoint: endpoint, Model: req.Model, Msg: scrub(err.Error(), key)}
	}
	st := &callState{endpoint: endpoint, keyEnv: keyEnv, key: key, extra: extra}
	o := a.rest.base
	return a.rest.call(ctx, st, req.Model, onChunk, func(ctx context.Context, chunk ChunkFunc) (*Response, error) {
		if req.Stream {
			// Azure's first chunk carries prompt_filter_results and no
			// choices; the OpenAI stream reader skips it.
			return o.stream(ctx, cc, creq, chunk)
		}
		return o.complete(ctx, cc, creq)
	})
}

// without is a copy of m less key k.
func without(m map[string]any, k string) map[string]any {
	out := make(map[string]any, len(m))
	for x, v := range m {
		if x != k {
			out[x] = v
		}
	}
	return out
}
