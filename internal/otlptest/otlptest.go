// Package otlptest starts a real OpenTelemetry OTLP/HTTP receiver for
// tests: the program in sink/, built on the collector's otlpreceiver (its
// own module, so the collector stays out of aieval's dependencies), built
// once per test binary with `go build` and run as a child process on
// loopback.
package otlptest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Span is one received span (see sink/main.go).
type Span struct {
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_span_id"`
	StartNanos uint64         `json:"start_unix_nano"`
	EndNanos   uint64         `json:"end_unix_nano"`
	Status     string         `json:"status"`
	StatusMsg  string         `json:"status_message"`
	Attrs      map[string]any `json:"attributes"`
	Resource   map[string]any `json:"resource"`
	Scope      string         `json:"scope"`
}

// Point is one received metric data point.
type Point struct {
	Metric string         `json:"metric"`
	Type   string         `json:"type"`
	Unit   string         `json:"unit"`
	Attrs  map[string]any `json:"attributes"`
	Value  float64        `json:"value"`
	Count  uint64         `json:"count"`
}

// Dump is everything the receiver got.
type Dump struct {
	Spans   []Span              `json:"spans"`
	Points  []Point             `json:"points"`
	Headers map[string][]string `json:"headers"`
}

// Sink is a running receiver.
type Sink struct {
	URL  string // base URL for OTEL_EXPORTER_OTLP_ENDPOINT or --otlp
	dump string
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// build compiles sink/ into the temp dir, named by a hash of its sources
// so a later test run reuses it.
func build() (string, error) {
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir := filepath.Join(filepath.Dir(file), "sink")
		h := sha256.New()
		for _, f := range []string{"main.go", "go.mod", "go.sum"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				buildErr = err
				return
			}
			h.Write(b)
		}
		binPath = filepath.Join(os.TempDir(), "aieval-otlpsink-"+hex.EncodeToString(h.Sum(nil))[:16])
		if _, err := os.Stat(binPath); err == nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d.tmp", binPath, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the OTLP sink: %v\n%s", err, out)
			return
		}
		buildErr = os.Rename(tmp, binPath)
	})
	return binPath, buildErr
}

// Start builds (once) and starts a receiver, stopped when t ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the sink exits when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var first string
	select {
	case first = <-line:
	case <-time.After(30 * time.Second):
		t.Fatal("the OTLP sink did not start in 30s")
	}
	f := strings.Fields(first)
	if len(f) != 4 || f[0] != "OTLP" || f[2] != "DUMP" {
		t.Fatalf("the OTLP sink said %q", first)
	}
	return &Sink{URL: f[1], dump: f[3]}
}

// Dump returns everything received so far.
func (s *Sink) Dump(t testing.TB) Dump {
	t.Helper()
	resp, err := http.Get(s.dump)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d Dump
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Wait polls until ok holds for the dump, or fails t after timeout.
func (s *Sink) Wait(t testing.TB, timeout time.Duration, ok func(Dump) bool) Dump {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := s.Dump(t)
		if ok(d) || time.Now().After(deadline) {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
}
