package results

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// fanBatch is a run of consecutive spooled tests, decoded once and shared
// read-only by every consumer of a Fanout.
type fanBatch struct {
	lines [][]byte
	tests []TestResult
	buf   []byte        // holds lines
	ready chan struct{} // closed once tests are decoded (or err set)
	err   error

	// A live view's header comes with its batches (see Live): head, when
	// set, is copied into the view before its tests are yielded; final
	// marks the last batch, after which the view's header is complete.
	head  *Results
	final bool
}

// fanBatchSize and fanDepth bound what a fan-out holds: at most
// fanDepth+2 batches per consumer are alive, whatever the run's size.
const (
	fanBatchSize = 64
	fanDepth     = 4
)

// errReadTwice is returned when a consumer of a fan-out reads its view a
// second time: the tests stream past once.
var errReadTwice = errors.New("results: a fan-out view can be read once")

// Fanout runs every consumer on a view of r and feeds all of them from one
// read of the spool, so a large run's reports cost one decode, not one per
// format. Each view behaves like r (same suites, totals and counts) except
// that Each or EachLine may be called once. Consumers run side by side;
// the error of each is returned at its index. Results held in memory are
// shared as they are: there is nothing to decode.
func (r *Results) Fanout(consumers ...func(view *Results) error) []error {
	errs := make([]error, len(consumers))
	var wg sync.WaitGroup
	if r.spool == "" {
		for i, c := range consumers {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = c(r) }()
		}
		wg.Wait()
		return errs
	}
	feeds := make([]chan *fanBatch, len(consumers))
	for i, c := range consumers {
		feeds[i] = make(chan *fanBatch, fanDepth)
		v := r.view(feeds[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c(v)
			for range feeds[i] { // a consumer that stopped early must not block the rest
			}
		}()
	}
	rerr := r.broadcast(feeds)
	wg.Wait()
	if rerr != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = rerr
			}
		}
	}
	return errs
}

// broadcast reads the spool once and sends every batch to every feed, in
// order. Decoding is most of a large run's report time, so batches are
// decoded by one goroutine per CPU while the next ones are read; at most
// 2*decoders batches are in flight.
func (r *Results) broadcast(feeds []chan *fanBatch) error {
	decoders := max(1, min(runtime.GOMAXPROCS(0), 8))
	work := make(chan *fanBatch, decoders)
	order := make(chan *fanBatch, 2*decoders)
	var wg sync.WaitGroup
	for range decoders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Repeated strings (keys, suite, model, status) are kept
			// across batches: a table per batch of 64 missed most.
			common := make(map[string]string, maxCommon)
			for b := range work {
				if len(common) >= maxCommon {
					clear(common)
				}
				b.decode(common)
			}
		}()
	}
	sent := make(chan error, 1)
	go func() { // in order: wait for each batch, hand it to every feed
		var err error
		for b := range order {
			<-b.ready
			if err == nil && b.err != nil {
				err = b.err
			}
			if err == nil {
				for _, f := range feeds {
					f <- b
				}
			}
		}
		for _, f := range feeds {
			close(f)
		}
		sent <- err
	}()

	b := newFanBatch()
	submit := func() {
		order <- b
		work <- b
		b = newFanBatch()
	}
	_, err := r.EachLine(func(line []byte) error {
		b.add(line)
		if len(b.lines) == fanBatchSize {
			submit()
		}
		return nil
	})
	if len(b.lines) > 0 {
		submit()
	}
	close(work)
	close(order)
	wg.Wait()
	if serr := <-sent; err == nil {
		err = serr
	}
	return err
}

func newFanBatch() *fanBatch {
	return &fanBatch{lines: make([][]byte, 0, fanBatchSize), ready: make(chan struct{})}
}

// add copies line into the batch: lines share one buffer per batch.
func (b *fanBatch) add(line []byte) {
	if cap(b.buf)-len(b.buf) < len(line) {
		b.buf = make([]byte, 0, max(len(line), 64<<10))
	}
	start := len(b.buf)
	b.buf = append(b.buf, line...)
	b.lines = append(b.lines, b.buf[start:len(b.buf):len(b.buf)])
}

// decode fills tests from lines and closes ready; common is the
// decoding goroutine's table of repeated strings.
func (b *fanBatch) decode(common map[string]string) {
	defer close(b.ready)
	b.tests = make([]TestResult, len(b.lines))
	for i, line := range b.lines {
		if err := decodeSpooledIn(line, &b.tests[i], common); err != nil {
			b.err = fmt.Errorf("read results spool: %w", err)
			return
		}
	}
}

// view is a copy of r's header whose tests come from feed.
func (r *Results) view(feed chan *fanBatch) *Results {
	v := &Results{Version: r.Version, RunID: r.RunID, StartedAt: r.StartedAt, GitSHA: r.GitSHA, GitRef: r.GitRef,
		Suites: r.Suites, Summary: r.Summary, Interrupted: r.Interrupted, bySuite: r.bySuite}
	v.feed = &fanFeed{c: feed}
	return v
}

// fanFeed is a view's side of a fan-out.
type fanFeed struct {
	c    chan *fanBatch
	used bool
	view *Results // a live view, whose header its batches bring
}

func (f *fanFeed) each(fn func(b *fanBatch, i int) error) error {
	if f.used {
		return errReadTwice
	}
	f.used = true
	for b := range f.c {
		if b.head != nil {
			f.view.setHead(b.head)
		}
		if b.err != nil {
			return b.err
		}
		for i := range b.tests {
			if err := fn(b, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHead copies h's header into a live view, in the view's consumer
// goroutine: the producer never writes a view.
func (r *Results) setHead(h *Results) {
	r.Version, r.RunID, r.StartedAt, r.GitSHA, r.GitRef = h.Version, h.RunID, h.StartedAt, h.GitSHA, h.GitRef
	r.Suites, r.Summary, r.Interrupted, r.Shard, r.RunGroup, r.Gate = h.Suites, h.Summary, h.Interrupted, h.Shard, h.RunGroup, h.Gate
	r.bySuite = h.bySuite
}

// Live reports whether r is a view of a Live record: its tests stream in
// as the run goes, and its header is final only once Each returns.
func (r *Results) Live() bool { return r.feed != nil && r.feed.view != nil }
