package viewer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/eval/history"
	"github.com/aieval/aieval/eval/results"
)

// Run is one entry of the run list.
type Run struct {
	Key        string    `json:"key"`    // stable within one viewer: "f1" (file), "h12" (history row)
	Source     string    `json:"source"` // "file" or "history"
	Label      string    `json:"label"`  // the file path, or the history row
	RunID      string    `json:"run_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	GitSHA     string    `json:"git_sha,omitempty"`
	GitRef     string    `json:"git_ref,omitempty"`
	Total      int       `json:"total"`
	Passed     int       `json:"passed"`
	Failed     int       `json:"failed"`
	Errors     int       `json:"errors"`
	Skipped    int       `json:"skipped"`
	Cost       float64   `json:"cost"`
	DurationMS float64   `json:"duration_ms"`
	// Openable is false when the source lists the run but cannot give
	// its tests; Note says why.
	Openable bool   `json:"openable"`
	Note     string `json:"note,omitempty"`
}

// Source is where runs come from: results files, a history store.
type Source interface {
	// Runs lists the source's runs, oldest first.
	Runs() ([]Run, error)
	// Open returns the run with that key; ErrNotFound when the source
	// has no such run.
	Open(key string) (*results.Results, error)
}

// ErrNotFound: no source has a run of that key.
var ErrNotFound = errors.New("no such run")

// Files is a Source over results files (the --json artifact), re-read when
// a file changes on disk so a rerun shows without restarting the viewer.
type Files struct {
	paths []string
	mu    sync.Mutex
	cache map[string]fileEntry
}

type fileEntry struct {
	mod  time.Time
	size int64
	r    *results.Results
}

// NewFiles reads every file once, so a missing or malformed one is an
// error at start (naming the file), not a blank page later.
func NewFiles(paths []string) (*Files, error) {
	f := &Files{paths: paths, cache: map[string]fileEntry{}}
	for _, p := range paths {
		if _, err := f.read(p); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *Files) read(path string) (*results.Results, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	f.mu.Lock()
	e, ok := f.cache[path]
	f.mu.Unlock()
	if ok && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e.r, nil
	}
	r, err := results.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.cache[path] = fileEntry{mod: st.ModTime(), size: st.Size(), r: r}
	f.mu.Unlock()
	return r, nil
}

// Runs lists the files in the order given.
func (f *Files) Runs() ([]Run, error) {
	out := make([]Run, 0, len(f.paths))
	for i, p := range f.paths {
		run := Run{Key: "f" + strconv.Itoa(i+1), Source: "file", Label: p}
		r, err := f.read(p)
		if err != nil {
			run.Note = err.Error()
			out = append(out, run)
			continue
		}
		s := r.Summary
		run.RunID, run.StartedAt, run.GitSHA, run.GitRef = r.RunID, r.StartedAt, r.GitSHA, r.GitRef
		run.Total, run.Passed, run.Failed, run.Errors, run.Skipped = s.Total, s.Passed, s.Failed, s.Errors, s.Skipped
		run.Cost, run.DurationMS, run.Openable = s.Cost, s.DurationMS, true
		out = append(out, run)
	}
	return out, nil
}

// Open reads the file of key.
func (f *Files) Open(key string) (*results.Results, error) {
	n, ok := strings.CutPrefix(key, "f")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 1 || i > len(f.paths) {
		return nil, ErrNotFound
	}
	return f.read(f.paths[i-1])
}

// RunLister is what the run list needs of a history store; eval/history's
// *DB has it.
type RunLister interface {
	Runs(limit int) ([]history.RunRow, error)
}

// RunReader is the optional ability of a history store to give back one
// recorded run in full, found by type assertion. eval/history is gaining
// it as (*DB).Results; a store without it still lists its runs, and
// opening one says what is missing instead of showing an empty grid.
type RunReader interface {
	Results(id int64) (*results.Results, error)
}

// History is a Source over a history store.
type History struct {
	db    RunLister
	Limit int // runs listed; 0 means all
}

// NewHistory reads runs from db (and their tests when db is a RunReader).
func NewHistory(db RunLister) *History { return &History{db: db, Limit: 200} }

// noReader is why a history run cannot be opened by this build.
const noReader = "this history store lists runs but cannot read one back yet (eval/history has no Results); open the run's --json file instead"

// Runs lists the store's latest runs, oldest first.
func (h *History) Runs() ([]Run, error) {
	rows, err := h.db.Runs(h.Limit)
	if err != nil {
		return nil, err
	}
	_, canRead := h.db.(RunReader)
	out := make([]Run, 0, len(rows))
	for _, r := range rows {
		run := Run{Key: "h" + strconv.FormatInt(r.ID, 10), Source: "history", Label: "history #" + strconv.FormatInt(r.ID, 10),
			RunID: r.RunID, StartedAt: r.StartedAt, GitSHA: r.GitSHA, GitRef: r.GitRef,
			Total: r.Total, Passed: r.Passed, Failed: r.Failed, Errors: r.Errors, Skipped: r.Skipped,
			Cost: r.Cost, DurationMS: r.DurationMS, Openable: canRead}
		if !canRead {
			run.Note = noReader
		}
		out = append(out, run)
	}
	return out, nil
}

// Open reads the run of key from the store.
func (h *History) Open(key string) (*results.Results, error) {
	n, ok := strings.CutPrefix(key, "h")
	id, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || id < 1 {
		return nil, ErrNotFound
	}
	rr, ok := h.db.(RunReader)
	if !ok {
		return nil, errors.New(noReader)
	}
	return rr.Results(id)
}
