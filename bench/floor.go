//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// floorArg, as the first argument, turns this program into the floor
// client: a bare net/http client making the calls aieval would make. It
// runs as a child through the launcher, like aieval, so its wall time, CPU
// and peak RSS are measured the same way and not mixed with the bench's
// own (server, report parsing).
const floorArg = "__bench-floor-client"

// floorResult is what a bare HTTP client achieves making the same N calls
// against the same server at the same concurrency: the best efficiency this host allows, and the
// CPU an HTTP exchange costs here, so a missed target can be told apart
// from a slow host.
type floorResult struct {
	N, Conc int
	Ideal   time.Duration
	Runs    []scaleResult // measured as aieval's runs are (usage, start-up, tail)
}

// floorRun runs the floor client once against srv through the launcher,
// making n calls, and checks that the server got exactly n.
func (h *harness) floorRun(ctx context.Context, srv *fakeopenai.Server, n int) (scaleResult, error) {
	dir := filepath.Join(h.tmp, "floor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return scaleResult{}, fmt.Errorf("create floor dir: %w", err)
	}
	ideal := idealWall(n, h.cfg.Conc, h.cfg.Latency)
	before := srv.Requests()
	w := watchRequests(srv, before, int64(n))
	start := time.Now()
	u, err := h.measureCmd(ctx, dir, 2*ideal+2*time.Minute, "floor client", h.self,
		floorArg, srv.URL(), strconv.Itoa(n), strconv.Itoa(h.cfg.Conc))
	end := time.Now()
	first, last := w.stop()
	r := scaleResult{N: n, Conc: h.cfg.Conc, Latency: h.cfg.Latency, Ideal: ideal, Use: u, Requests: srv.Requests() - before}
	if err != nil {
		return r, fmt.Errorf("floor: %w", err)
	}
	if r.Requests != int64(n) {
		return r, fmt.Errorf("floor: server got %d requests, want %d", r.Requests, n)
	}
	r.Startup, r.Tail = edges(u, start, end, first, last, h.cfg.Latency)
	return r, nil
}

// floorClient is the child side: args are the base URL, the call count and
// the concurrency. It returns the process exit code.
func floorClient(args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "bench floor client: got %d arguments, want URL N C\n", len(args))
		return 2
	}
	n, errN := strconv.Atoi(args[1])
	c, errC := strconv.Atoi(args[2])
	if errN != nil || errC != nil || n < 1 || c < 1 {
		fmt.Fprintf(os.Stderr, "bench floor client: N %q and C %q must be positive counts\n", args[1], args[2])
		return 2
	}
	if err := runFloorCalls(context.Background(), args[0], n, c); err != nil {
		fmt.Fprintf(os.Stderr, "bench floor client: %v\n", err)
		return 1
	}
	return 0
}

// runFloorCalls makes n chat calls to base from c goroutines, each reading
// the whole answer, with a body like aieval's.
func runFloorCalls(ctx context.Context, base string, n, c int) error {
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += c {
				if err := floorCall(ctx, client, base, i); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func floorCall(ctx context.Context, client *http.Client, base string, i int) error {
	body := fmt.Sprintf(`{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Question %s: reply with the answer 42."}]}`, caseName(i))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions", bytes.NewBufferString(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench-not-a-real-key")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("call %d: %w", i, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read answer %d: %w", i, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("call %d: status %s", i, resp.Status)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// childMode runs this program as one of its children when its arguments or
// environment say so: the launcher (env launchEnv) or the floor client
// (first argument floorArg). It reports whether it did, with the exit code.
// The launcher is checked first: it is what runs the floor client.
func childMode(args []string) (code int, ok bool) {
	if path := os.Getenv(launchEnv); path != "" {
		return launch(path, args), true
	}
	if len(args) > 0 && args[0] == floorArg {
		return floorClient(args[1:]), true
	}
	if len(args) > 0 && args[0] == fileFloorArg {
		return fileFloor(args[1:]), true
	}
	return 0, false
}
