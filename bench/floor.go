//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// floorResult is what a bare HTTP client achieves against the same server
// at the same concurrency: the best efficiency this machine allows, so a
// missed target can be told apart from a slow host.
type floorResult struct {
	N, Conc int
	Ideal   time.Duration
	Wall    time.Duration
}

// floorN is how many calls the floor makes: per-call overhead is what it
// shows, and that needs no more than a few hundred rounds.
func floorN(ns []int) int {
	if len(ns) == 0 {
		return 0
	}
	return min(ns[0], 1000)
}

// runFloor makes n chat calls from c goroutines, each reading the whole
// answer, with a body like aieval's.
func runFloor(ctx context.Context, srv *fakeopenai.Server, n, c int, latency time.Duration) (floorResult, error) {
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	before := srv.Requests()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += c {
				if err := floorCall(ctx, client, srv.URL(), i); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	r := floorResult{N: n, Conc: c, Ideal: idealWall(n, c, latency), Wall: time.Since(start)}
	if firstErr != nil {
		return r, fmt.Errorf("floor: %w", firstErr)
	}
	if got := srv.Requests() - before; got != int64(n) {
		return r, fmt.Errorf("floor: server got %d requests, want %d", got, n)
	}
	return r, nil
}

func floorCall(ctx context.Context, client *http.Client, base string, i int) error {
	body := fmt.Sprintf(`{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Question %s: reply with the answer 42."}]}`, caseName(i))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench-not-a-real-key")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
