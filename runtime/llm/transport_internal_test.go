package llm

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 1.5 ", 1500 * time.Millisecond, true},
		{"-2", 0, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStreamBodyDoneMarker(t *testing.T) {
	tests := []struct {
		body string
		cut  bool
	}{
		{"data: {}\n\ndata: [DONE]\n\n", false},
		{"data: [DONE]\n\n", false},
		{"data: {}\n\n", true},
		{"data: {\"content\":\"data: [DONE]\"}\n\n", true}, // not at a line start
	}
	for _, tt := range tests {
		// One byte per read, so the marker is split across every boundary.
		sb := &streamBody{rc: io.NopCloser(iotest.OneByteReader(strings.NewReader(tt.body))), cancel: func() {},
			tail: append(make([]byte, 0, 2*len(doneMarker)+1), '\n')}
		b, err := io.ReadAll(sb)
		if string(b) != tt.body {
			t.Errorf("body changed: %q", b)
		}
		if cut := err == io.ErrUnexpectedEOF; cut != tt.cut {
			t.Errorf("%q: err = %v, want cut=%v", tt.body, err, tt.cut)
		}
	}
}

func TestReplayableSplice(t *testing.T) {
	for _, tt := range []struct{ body, extra, want string }{
		{`{"model":"m"}`, `"temperature":0`, `{"temperature":0,"model":"m"}`},
		{`{}`, `"temperature":0`, `{"temperature":0}`},
		{`{"model":"m"}`, ``, `{"model":"m"}`},
	} {
		req, _ := http.NewRequest("POST", "http://x", strings.NewReader(tt.body))
		b, err := replayable(req, []byte(tt.extra))
		if err != nil || string(b) != tt.want {
			t.Errorf("replayable(%s, %s) = %s, %v", tt.body, tt.extra, b, err)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	tr := &transport{policy: RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}}
	for try := range 40 {
		for range 50 {
			d := tr.backoff(try)
			if d < 0 || d > 50*time.Millisecond || d > 10*time.Millisecond<<min(try, 30) {
				t.Fatalf("backoff(%d) = %v", try, d)
			}
		}
	}
	if d := (&transport{}).backoff(3); d != 0 {
		t.Errorf("zero policy backoff = %v", d)
	}
}

func TestScrub(t *testing.T) {
	got := scrub("bad key sk-proj-ABCDEF123456 and mysecretvalue", "mysecretvalue")
	if strings.Contains(got, "ABCDEF") || strings.Contains(got, "mysecret") {
		t.Errorf("scrub = %q", got)
	}
}

func TestClassifyNetErr(t *testing.T) {
	tests := []struct {
		err  error
		kind ErrorKind
		msg  string
		down bool
	}{
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, KindNetwork, "connection refused", true},
		{&net.DNSError{Name: "api.example.invalid", Err: "no such host", IsNotFound: true}, KindNetwork, "DNS lookup failed for api.example.invalid", true},
		{&net.OpError{Op: "dial", Err: errors.New("network is unreachable")}, KindNetwork, "cannot connect", true},
		{context.DeadlineExceeded, KindTimeout, "timeout", true},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, KindNetwork, "connection reset", false},
		{io.ErrUnexpectedEOF, KindNetwork, "closed before the response", false},
	}
	for _, tt := range tests {
		kind, msg, down := classifyNetErr(&url.Error{Op: "Post", URL: "http://x/v1/chat/completions", Err: tt.err})
		if kind != tt.kind || !strings.Contains(msg, tt.msg) || down != tt.down {
			t.Errorf("classify(%v) = %s %q %v; want %s %q %v", tt.err, kind, msg, down, tt.kind, tt.msg, tt.down)
		}
	}
}
