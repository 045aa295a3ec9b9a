package cache

import (
	"net/url"
	"os"
	"strings"

	"github.com/aieval/aieval/runtime/llm"
)

// NormalizeEndpoint is an endpoint as the cache key holds it: scheme, host
// and path only (no credentials, query or fragment, which may carry
// secrets), the scheme and host lowercased, no trailing slash. So
// "HTTP://User:pw@Example.com/v1/?key=x" keys as "http://example.com/v1".
func NormalizeEndpoint(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		// Not a URL we can take apart: still never keep a query.
		s, _, _ = strings.Cut(s, "?")
		s, _, _ = strings.Cut(s, "#")
		return strings.TrimRight(s, "/")
	}
	out := url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host), Path: strings.TrimRight(u.Path, "/")}
	return out.String()
}

// EndpointOf is the cache's Options.Endpoint for a run whose environment is
// getenv (nil: os.Getenv): the endpoint a request really goes to, its
// base_url, else the OpenAI variable the OpenAI client reads. The hosted
// default keys as "", so caches recorded before the endpoint was keyed
// still replay; the local echo parser calls no endpoint.
func EndpointOf(getenv func(string) string) func(req *llm.Request) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	def := NormalizeEndpoint(llm.DefaultBaseURL)
	return func(req *llm.Request) string {
		if req.Provider == "echo" {
			return ""
		}
		ep := req.BaseURL
		if ep == "" && req.Provider == "openai" {
			ep = getenv("OPENAI_BASE_URL")
		}
		if ep = NormalizeEndpoint(ep); ep == def {
			return ""
		}
		return ep
	}
}

// KeyWith is Key with the endpoint a run keys by (see EndpointOf): the key
// a run under that environment looks the request up with.
func KeyWith(req *llm.Request, endpoint func(*llm.Request) string) string {
	k, _ := keyWith(req, endpoint)
	return k
}
