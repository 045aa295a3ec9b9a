package reporters

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// fakeClock advances only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the race detector's eyes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The progress line satisfies eval.Observer's method set.
var _ interface {
	Start(int)
	Done(*results.TestResult)
} = (*Progress)(nil)

func TestProgressConcurrentAndThrottled(t *testing.T) {
	clock := &fakeClock{now: fixedStart()}
	var out syncBuffer
	p := NewProgress(&out, ProgressOptions{Now: clock.Now})
	p.Start(400)
	statuses := []results.Status{results.StatusPass, results.StatusPass, results.StatusFail, results.StatusError}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				p.Done(&results.TestResult{Status: statuses[i%4]})
			}
		}()
	}
	wg.Wait()
	p.Finish()
	p.Finish() // a second Finish writes nothing
	s := out.String()
	// The clock never moved: one draw at Start, one at the last test, one at Finish.
	if n := strings.Count(s, "\r"); n != 3 {
		t.Errorf("%d redraws with a stopped clock, want 3 (throttled): %q", n, s)
	}
	if !strings.HasSuffix(s, "\r400/400  pass 200  fail 100  error 100  0:00\n") {
		t.Errorf("final line = %q", s[strings.LastIndex(s, "\r"):])
	}
}

func TestProgressETAAndPadding(t *testing.T) {
	clock := &fakeClock{now: fixedStart()}
	var out bytes.Buffer
	p := NewProgress(&out, ProgressOptions{Now: clock.Now, Interval: time.Second})
	p.Start(10)
	clock.Add(20 * time.Second)
	p.Done(&results.TestResult{Status: results.StatusSkip})
	p.Done(&results.TestResult{Status: results.StatusPass}) // within the interval: not drawn
	clock.Add(2 * time.Second)
	p.Done(&results.TestResult{Status: results.StatusPass})
	lines := strings.Split(out.String(), "\r")[1:]
	want := []string{
		"0/10  pass 0  fail 0  error 0  0:00",
		"1/10  pass 0  fail 0  error 0  skip 1  0:20  eta 3:00",
		"3/10  pass 2  fail 0  error 0  skip 1  0:22  eta 0:51",
	}
	if len(lines) != len(want) {
		t.Fatalf("lines = %q", lines)
	}
	for i := range want {
		if strings.TrimRight(lines[i], " ") != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	// A shorter line blanks what the longer one before it left.
	p2 := NewProgress(&out, ProgressOptions{Now: clock.Now})
	out.Reset()
	p2.Start(1)
	p2.width = 80
	p2.Finish()
	if l := strings.TrimSuffix(out.String()[strings.LastIndex(out.String(), "\r")+1:], "\n"); len(l) != 80 {
		t.Errorf("shorter line not padded to the previous width: %d", len(l))
	}
}
