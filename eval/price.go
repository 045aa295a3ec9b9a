package eval

import (
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// priceTable prices model calls: the suites' `prices:` first, then calls
// that cost nothing (echo, a server on this machine), then llm's defaults.
// One table serves the run: budgets are run-wide.
type priceTable struct {
	explicit, defaults llm.Prices
	local              sync.Map // base URL → isLocal: a run has few endpoints, and parsing one a call showed in profiles
}

func newPriceTable(suites []*Suite) *priceTable {
	p := &priceTable{explicit: llm.Prices{}, defaults: llm.DefaultPrices()}
	for _, s := range suites {
		if s != nil {
			p.explicit.Merge(s.Prices)
		}
	}
	return p
}

// cost of one response in USD, and whether the price is known.
func (p *priceTable) cost(req *llm.Request, resp *llm.Response) (float64, bool) {
	if req == nil || resp == nil {
		return 0, false
	}
	models := []string{req.Model, resp.Model}
	for _, m := range models {
		if c, ok := p.explicit.Cost(m, resp.Usage); ok && m != "" {
			return c, true
		}
	}
	if req.Provider == runtime.ParserEcho || p.isLocal(req.BaseURL) {
		return 0, true
	}
	for _, m := range models {
		if c, ok := p.defaults.Cost(m, resp.Usage); ok && m != "" {
			return c, true
		}
	}
	return 0, false
}

// isLocal is isLocal(base), remembered per base URL.
func (p *priceTable) isLocal(base string) bool {
	if v, ok := p.local.Load(base); ok {
		return v.(bool)
	}
	l := isLocal(base)
	p.local.Store(base, l)
	return l
}

// isLocal reports whether a base URL points at this machine (Ollama, vLLM
// on localhost): such calls cost nothing.
func isLocal(base string) bool {
	if base == "" {
		return false
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
