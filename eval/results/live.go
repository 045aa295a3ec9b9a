package results

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Live is the run record while the run goes: consumers (the reports) run
// on views of it from the start of the run, and each view's Each yields
// the tests in report order as soon as they are in (blocking until the
// next one lands), so a report renders its per-test part while the models
// answer and only its header and totals are left after the last answer.
//
// A view holds nothing until its tests start coming: Suites, RunID,
// StartedAt and Version are set before the first test is yielded, and so
// are the gate and identity (SetIdentity) known by then; every field
// (Summary, Interrupted, GitSHA, the per-suite totals) is final once Each
// (or EachLine) returns, and not before. Each or
// EachLine may be called once per view.
//
// The producer side (Begin, Add, EndTests) is called from one goroutine
// at a time (the runner's collector, under its lock); Close or Abort ends
// the views once the record is complete. The tests Add is given are
// shared read-only with the consumers: the producer must not change them
// afterwards. A consumer that falls behind holds the producer back (at
// most liveDepth batches wait per consumer), so memory stays bounded.
type Live struct {
	feeds []chan *fanBatch
	wg    sync.WaitGroup
	errs  []error

	head   *Results // the header the next batch carries (Begin)
	ident  atomic.Pointer[Identity]
	begun  bool
	closed bool
	next   int              // the first ordinal not yet sent
	early  map[int]liveTest // tests that came before an earlier ordinal
	batch  *fanBatch
	enc    []byte // encodes the line of a test given without one
	err    error  // the first error, reported by every view
}

// liveDepth is how many batches wait for a live view's consumer before the
// run is held back: a report descheduled for a while on a busy host (512
// tests are ~0.2 s of a run at 2,500 tests a second) must not stall the
// workers, whose results the collector hands over under its lock; more
// only holds more results in memory when the reports fall behind.
const liveDepth = 2

// liveBatch is how many tests a live view's consumers get at once. Each
// batch wakes every report's goroutine on a host that is mostly idle,
// waiting for the models, and each wake-up costs CPU of its own: 256 wake
// them a quarter as often as a fan-out's 64 (~1 MB of results at most
// in flight per waiting batch, usually none).
const liveBatch = 256

// liveTest is a test waiting for the ones before it.
type liveTest struct {
	t    *TestResult
	line []byte
}

// NewLive starts every consumer on a live view; their errors come back
// from Close or Abort, at their index.
func NewLive(consumers ...func(view *Results) error) *Live {
	l := &Live{errs: make([]error, len(consumers)), early: map[int]liveTest{}}
	for i, c := range consumers {
		feed := make(chan *fanBatch, liveDepth)
		l.feeds = append(l.feeds, feed)
		v := &Results{}
		v.feed = &fanFeed{c: feed, view: v}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.errs[i] = c(v)
			for range feed { // a consumer that stopped early must not block the run
			}
		}()
	}
	l.batch = newFanBatch()
	return l
}

// Begin tells the views the run's suites and identity (r's Version, RunID,
// StartedAt, Suites, and what it has of the pass-rate gate, shard, run
// group and git commit, copied now; what SetIdentity gave by the first
// batch replaces the last three), before the first test.
func (l *Live) Begin(r *Results) {
	if l.begun {
		return
	}
	l.begun = true
	l.head = &Results{Version: r.Version, RunID: r.RunID, StartedAt: r.StartedAt, Suites: slices.Clone(r.Suites),
		GitSHA: r.GitSHA, GitRef: r.GitRef, Shard: r.Shard, RunGroup: r.RunGroup, Gate: r.Gate}
}

// Identity is where a run ran, as its record's header says: known soon
// after the run starts (git is asked in the background) but set on the
// record only at its end. Given to SetIdentity before the first batch of
// tests goes out, it is in the views' header from their first test, so a
// report can write its header before its tests (the JSON report does)
// and need not hold them back.
type Identity struct {
	GitSHA, GitRef, RunGroup string
	Shard                    *ShardInfo
}

// SetIdentity records the run's identity for the views' header; safe from
// any goroutine. Set after the first batch of tests has gone to the views,
// it reaches them with the final record only.
func (l *Live) SetIdentity(id Identity) { l.ident.Store(&id) }

// Add takes the test of ordinal ord (each ordinal once) with its spool
// line (nil: Live encodes it). Tests are passed on in ordinal order: one
// that comes before an earlier one waits for it.
func (l *Live) Add(ord int, t *TestResult, line []byte) {
	if l.closed {
		return
	}
	if _, dup := l.early[ord]; dup || ord < l.next {
		l.fail(fmt.Errorf("live results: test %d given twice", ord))
		return
	}
	if ord != l.next {
		if line != nil {
			line = bytes.Clone(line)
		}
		l.early[ord] = liveTest{t, line}
		return
	}
	l.push(t, line)
	for {
		e, ok := l.early[l.next]
		if !ok {
			return
		}
		delete(l.early, l.next)
		l.push(e.t, e.line)
	}
}

// push appends the next test in report order to the batch being filled.
func (l *Live) push(t *TestResult, line []byte) {
	l.next++
	if line == nil {
		var err error
		if l.enc, err = appendSpooled(l.enc[:0], t); err != nil {
			l.fail(fmt.Errorf("encode result %q: %w", t.Name, err))
			return
		}
		line = l.enc
	}
	b := l.batch
	if b.tests == nil {
		b.tests = make([]TestResult, 0, liveBatch)
	}
	b.add(bytes.TrimSpace(line))
	b.tests = append(b.tests, *t)
	if len(b.lines) == liveBatch {
		l.send()
	}
}

// send hands the batch being filled to every view.
func (l *Live) send() {
	b := l.batch
	l.batch = newFanBatch()
	b.head, l.head = l.head, nil
	if b.head != nil {
		// The identity as of the first batch, not Begin: by a batch's
		// worth of tests, git has usually answered (a small offline replay
		// can end before it; the JSON report then rewrites its start).
		if id := l.ident.Load(); id != nil {
			b.head.GitSHA, b.head.GitRef, b.head.RunGroup = id.GitSHA, id.GitRef, id.RunGroup
			if id.Shard != nil {
				b.head.Shard = id.Shard
			}
		}
	}
	if b.err == nil {
		b.err = l.err
	}
	close(b.ready)
	for _, f := range l.feeds {
		f <- b
	}
}

func (l *Live) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

// EndTests passes on the tests still waiting for a missing ordinal (the
// run stopped before it), in order: no more tests come.
func (l *Live) EndTests() {
	if l.closed {
		return
	}
	for _, ord := range slices.Sorted(maps.Keys(l.early)) {
		e := l.early[ord]
		delete(l.early, ord)
		l.push(e.t, e.line)
	}
	if len(l.batch.lines) > 0 {
		l.send()
	}
}

// Close ends the views with the run's final record (its header, totals,
// gate: final's tests are not read) and waits for every consumer.
func (l *Live) Close(final *Results) []error {
	return l.end(final, nil)
}

// Abort ends the views with err (the run failed: there is no record to
// report) and waits for every consumer.
func (l *Live) Abort(err error) []error {
	return l.end(nil, err)
}

func (l *Live) end(final *Results, err error) []error {
	if l.closed {
		return l.errs
	}
	l.EndTests()
	l.fail(err)
	l.closed = true
	b := l.batch
	b.final, b.err = true, l.err
	if final != nil {
		b.head = &Results{Version: final.Version, RunID: final.RunID, StartedAt: final.StartedAt, GitSHA: final.GitSHA,
			GitRef: final.GitRef, Suites: final.Suites, Summary: final.Summary, Interrupted: final.Interrupted,
			Shard: final.Shard, RunGroup: final.RunGroup, Gate: final.Gate, bySuite: final.bySuite}
		if b.head.bySuite == nil && final.Summary.Total == 0 {
			// A run of no tests counted none: its totals are known (zero),
			// and a view must not read its tests again for them.
			b.head.bySuite = map[string]*Summary{}
		}
	}
	close(b.ready)
	for _, f := range l.feeds {
		f <- b
		close(f)
	}
	l.wg.Wait()
	return l.errs
}
