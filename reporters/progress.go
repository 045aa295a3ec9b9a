package reporters

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// ProgressOptions configure a Progress line.
type ProgressOptions struct {
	// Interval between redraws; 0 = 100ms (about 10 per second), so a
	// fast replayed run does not spend its time repainting.
	Interval time.Duration
	// Now is the clock; nil = time.Now. Tests inject one.
	Now func() time.Time
}

// Progress draws one updating line on a terminal: done/total, counts,
// elapsed time and ETA. Whether stderr is a terminal is the caller's call;
// Progress always draws. Its Start and Done match eval.Observer, and it is
// safe for concurrent use.
type Progress struct {
	w    io.Writer
	opts ProgressOptions

	mu                      sync.Mutex
	total, done             int
	pass, fail, errs, skips int
	start, last             time.Time
	width                   int // length of the last line drawn, to blank leftovers
	finished                bool
}

// NewProgress returns a progress line writing to w.
func NewProgress(w io.Writer, opts ProgressOptions) *Progress {
	if opts.Interval <= 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Progress{w: w, opts: opts}
}

// Start begins the line for total tests.
func (p *Progress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.start = p.opts.Now()
	p.draw(p.start)
}

// Done counts one finished test and redraws when the interval has passed
// or the last test is in.
func (p *Progress) Done(t *results.TestResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done++
	switch t.Status {
	case results.StatusPass:
		p.pass++
	case results.StatusFail:
		p.fail++
	case results.StatusError:
		p.errs++
	case results.StatusSkip:
		p.skips++
	}
	now := p.opts.Now()
	if now.Sub(p.last) >= p.opts.Interval || p.done == p.total {
		p.draw(now)
	}
}

// Finish draws the final state and ends the line, so the reports that
// follow start on a fresh one. Calls after the first do nothing.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw(p.opts.Now())
	fmt.Fprint(p.w, "\n")
}

// draw rewrites the line; p.mu is held.
func (p *Progress) draw(now time.Time) {
	p.last = now
	line := p.line(now)
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprint(p.w, "\r"+line+pad)
}

// line is the text of the progress line.
func (p *Progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	s := fmt.Sprintf("%d/%d  pass %d  fail %d  error %d", p.done, p.total, p.pass, p.fail, p.errs)
	if p.skips > 0 {
		s += fmt.Sprintf("  skip %d", p.skips)
	}
	s += "  " + clock(elapsed)
	if p.done > 0 && p.done < p.total {
		eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
		s += "  eta " + clock(eta)
	}
	return s
}

// clock formats a duration as m:ss (or h:mm:ss).
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
