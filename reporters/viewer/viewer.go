// Package viewer serves `aieval view`: a local web page over results files
// and the history store, with the run list, one run's grid of tests ×
// models, a test's full request, and two runs side by side. It draws with
// the static report's script and stylesheet (reporters.PageJS, PageCSS),
// and takes regressions and word diffs from eval/compare: it only reads.
package viewer

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/reporters"
)

//go:embed assets
var assets embed.FS

// GridOutputMax caps each output shown inline in the grid; the full
// output (capped like reports) is in the test's detail.
const GridOutputMax = 4 << 10

// Options tune a Server.
type Options struct {
	// Public turns off the Host check that keeps other sites' pages (DNS
	// rebinding) from reading a viewer on loopback.
	Public bool
	// MaxOutput caps outputs and message contents in details (0: the
	// reports' default).
	MaxOutput int
}

// Server is the viewer's http.Handler.
type Server struct {
	sources []Source
	opts    Options
	mux     *http.ServeMux
	page    []byte // assets/view.html
}

// New serves the runs of sources, listed in that order.
func New(opts Options, sources ...Source) *Server {
	page, err := assets.ReadFile("assets/view.html")
	if err != nil {
		panic(err) // embedded at build time
	}
	s := &Server{sources: sources, opts: opts, mux: http.NewServeMux(), page: page}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /assets/{name}", s.asset)
	s.mux.HandleFunc("GET /api/runs", s.runs)
	s.mux.HandleFunc("GET /api/runs/{key}", s.grid)
	s.mux.HandleFunc("GET /api/runs/{key}/tests/{idx}", s.test)
	s.mux.HandleFunc("GET /api/compare", s.compare)
	return s
}

// ServeHTTP checks the Host, sets headers that keep the page to itself,
// and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Public && !loopbackHost(r.Host) {
		http.Error(w, "aieval view answers only to a loopback host name (localhost, 127.0.0.1, [::1]); start it with --public to serve other names", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// loopbackHost reports whether a Host header names this machine's
// loopback: a rebinding attacker's page sends its own domain.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether a listen address (host:port) binds only
// loopback; an empty host binds every interface.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	return loopbackHost(host)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(s.page)
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body string
	switch name {
	case "report.css":
		body = reporters.PageCSS()
	case "common.js":
		body = reporters.PageJS()
	case "view.css", "view.js":
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body = string(b)
	default:
		http.NotFound(w, r)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Write([]byte(body))
}

// writeJSON answers v; encoding/json escapes <, > and &, and the page
// puts every text in with textContent.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrNotFound) {
		code = http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": text.OneLine(err.Error(), 500)})
	w.Write(b)
}

// allRuns lists the runs of every source, in source order.
func (s *Server) allRuns() ([]Run, error) {
	var out []Run
	for _, src := range s.sources {
		rs, err := src.Runs()
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	rs, err := s.allRuns()
	if err != nil {
		fail(w, err)
		return
	}
	if rs == nil {
		rs = []Run{}
	}
	writeJSON(w, rs)
}

// open finds key's run and its list entry.
func (s *Server) open(key string) (*results.Results, Run, error) {
	rs, err := s.allRuns()
	if err != nil {
		return nil, Run{}, err
	}
	for _, run := range rs {
		if run.Key != key {
			continue
		}
		for _, src := range s.sources {
			res, err := src.Open(key)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, run, fmt.Errorf("run %s: %w", run.Label, err)
			}
			return res, run, nil
		}
	}
	return nil, Run{}, fmt.Errorf("run %q: %w", key, ErrNotFound)
}

// Cell is one test on one model, as the grid and the comparison show it.
type Cell struct {
	Idx       int            `json:"idx"` // the test's position in its run: /api/runs/{key}/tests/{idx}
	Status    results.Status `json:"status"`
	Score     float64        `json:"score"`
	Cost      float64        `json:"cost"`
	LatencyMS float64        `json:"latency_ms"`
	Cached    bool           `json:"cached,omitempty"`
	Output    string         `json:"output"`
	Reason    string         `json:"reason,omitempty"`
}

func cellOf(idx int, t *results.TestResult, max int) *Cell {
	return &Cell{Idx: idx, Status: t.Status, Score: text.Finite(t.Score), Cost: text.Finite(t.Cost),
		LatencyMS: text.Finite(t.LatencyMS), Cached: t.Cached,
		Output: text.Cap(text.Sanitize(t.Output), max), Reason: text.OneLine(t.Reason, 300)}
}

// Row is one (suite, test) of the grid, with a cell per model it ran on.
// Keyed so that a test run on several models (a matrix) fills one row.
type Row struct {
	Suite     string           `json:"suite"`
	SuiteName string           `json:"suite_name"`
	Name      string           `json:"name"`
	Prompt    string           `json:"prompt"`
	Line      int              `json:"line,omitempty"`
	Cells     map[string]*Cell `json:"cells"` // by model ("" when none was called)
}

// Grid is one run as the page draws it.
type Grid struct {
	Run    Run      `json:"run"`
	Models []string `json:"models"` // columns, in first-seen order
	Rows   []*Row   `json:"rows"`
}

func suiteNames(r *results.Results) map[string]string {
	m := map[string]string{}
	for _, s := range r.Suites {
		m[s.Path] = s.Name()
	}
	return m
}

func (s *Server) grid(w http.ResponseWriter, r *http.Request) {
	res, run, err := s.open(r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	names := suiteNames(res)
	g := Grid{Run: run, Models: []string{}, Rows: []*Row{}}
	rows := map[[2]string]*Row{}
	seenModel := map[string]bool{}
	idx := 0
	err = res.Each(func(t *results.TestResult) error {
		i := idx
		idx++
		model := text.OneLine(t.Model, 120)
		if !seenModel[model] {
			seenModel[model] = true
			g.Models = append(g.Models, model)
		}
		k := [2]string{t.Suite, t.Name}
		row := rows[k]
		if row == nil {
			sn := names[t.Suite]
			if sn == "" {
				sn = t.Suite
			}
			row = &Row{Suite: text.OneLine(t.Suite, 300), SuiteName: text.OneLine(sn, 120), Name: text.OneLine(t.Name, 300),
				Prompt: text.OneLine(t.Prompt, 120), Line: t.Line, Cells: map[string]*Cell{}}
			rows[k] = row
			g.Rows = append(g.Rows, row)
		}
		if _, dup := row.Cells[model]; !dup {
			row.Cells[model] = cellOf(i, t, GridOutputMax)
		}
		return nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, g)
}

func (s *Server) test(w http.ResponseWriter, r *http.Request) {
	res, _, err := s.open(r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	want, err := strconv.Atoi(r.PathValue("idx"))
	if err != nil || want < 0 {
		fail(w, fmt.Errorf("test %q: %w", r.PathValue("idx"), ErrNotFound))
		return
	}
	var d *reporters.Detail
	idx := 0
	stop := errors.New("found")
	err = res.Each(func(t *results.TestResult) error {
		if idx == want {
			dt := reporters.NewDetail(t, s.opts.MaxOutput)
			d = &dt
			return stop
		}
		idx++
		return nil
	})
	if err != nil && err != stop {
		fail(w, err)
		return
	}
	if d == nil {
		fail(w, fmt.Errorf("test %d: %w", want, ErrNotFound))
		return
	}
	writeJSON(w, d)
}

// Pair is one test in two runs.
type Pair struct {
	ID         string   `json:"id"`
	Suite      string   `json:"suite"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // a compare.Kind, or "unchanged"
	Note       string   `json:"note,omitempty"`
	ScoreDelta float64  `json:"score_delta"`
	Base       *Cell    `json:"base,omitempty"`
	Head       *Cell    `json:"head,omitempty"`
	Ops        [][2]any `json:"diff,omitempty"` // the word diff as [op, text], as aieval.diffPre draws
}

// Comparison is two runs side by side.
type Comparison struct {
	Base      Run                  `json:"base"`
	Head      Run                  `json:"head"`
	Headline  string               `json:"headline"`
	Counts    map[compare.Kind]int `json:"counts"`
	Unchanged int                  `json:"unchanged"`
	Warnings  []string             `json:"warnings,omitempty"`
	Pairs     []*Pair              `json:"pairs"`
}

// compare pairs every test of two runs: eval/compare classifies (its
// order: worst first), the unchanged follow in the head's order.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	bk, hk := r.URL.Query().Get("base"), r.URL.Query().Get("head")
	base, brun, err := s.open(bk)
	if err != nil {
		fail(w, err)
		return
	}
	head, hrun, err := s.open(hk)
	if err != nil {
		fail(w, err)
		return
	}
	rep := compare.Compare(base, head, compare.Options{})
	cmp := Comparison{Base: brun, Head: hrun, Headline: rep.Headline(), Counts: rep.Counts, Unchanged: rep.Unchanged, Warnings: rep.Warnings, Pairs: []*Pair{}}

	// Outputs of both sides, by test ID, first of duplicates (as compare).
	type side struct {
		cell        *Cell
		out         string
		suite, name string
	}
	collect := func(res *results.Results) (map[string]side, []string, error) {
		m := map[string]side{}
		var order []string
		idx := 0
		err := res.Each(func(t *results.TestResult) error {
			if _, dup := m[t.ID()]; !dup {
				m[t.ID()] = side{cellOf(idx, t, GridOutputMax), text.Cap(text.Sanitize(t.Output), s.opts.MaxOutput), t.Suite, t.Name}
				order = append(order, t.ID())
			}
			idx++
			return nil
		})
		return m, order, err
	}
	bs, _, err := collect(base)
	if err != nil {
		fail(w, err)
		return
	}
	hs, horder, err := collect(head)
	if err != nil {
		fail(w, err)
		return
	}
	pair := func(id, suite, name, kind string) *Pair {
		p := &Pair{ID: text.OneLine(id, 600), Suite: text.OneLine(suite, 300), Name: text.OneLine(name, 300), Kind: kind}
		b, bok := bs[id]
		h, hok := hs[id]
		if bok {
			p.Base = b.cell
		}
		if hok {
			p.Head = h.cell
		}
		if bok && hok && b.out != h.out {
			for _, op := range compare.WordDiff(b.out, h.out) {
				p.Ops = append(p.Ops, [2]any{op.Op, op.Text})
			}
		}
		return p
	}
	listed := map[string]bool{}
	for _, e := range rep.Entries {
		p := pair(e.ID, e.Suite, e.Name, string(e.Kind))
		p.Note, p.ScoreDelta = text.OneLine(e.Note, 300), text.Finite(e.ScoreDelta)
		cmp.Pairs = append(cmp.Pairs, p)
		listed[e.ID] = true
	}
	for _, id := range horder {
		if listed[id] {
			continue
		}
		h := hs[id]
		p := pair(id, h.suite, h.name, "unchanged")
		if p.Base != nil && p.Head != nil {
			p.ScoreDelta = text.Finite(p.Head.Score - p.Base.Score)
		}
		cmp.Pairs = append(cmp.Pairs, p)
	}
	writeJSON(w, cmp)
}
