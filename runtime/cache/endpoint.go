package cache

import (
	"net/url"
	"strings"
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
