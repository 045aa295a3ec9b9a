package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// fanBatch is a run of consecutive spooled tests, decoded once and shared
// read-only by every consumer of a Fanout.
type fanBatch struct {
	lines [][]byte
	tests []TestResult
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

// broadcast reads the spool once and sends every batch to every feed.
func (r *Results) broadcast(feeds []chan *fanBatch) error {
	defer func() {
		for _, f := range feeds {
			close(f)
		}
	}()
	b := &fanBatch{}
	send := func() {
		for _, f := range feeds {
			f <- b
		}
		b = &fanBatch{}
	}
	_, err := r.EachLine(func(line []byte) error {
		var t TestResult
		if err := json.Unmarshal(line, &t); err != nil {
			return fmt.Errorf("read results spool: %w", err)
		}
		b.lines = append(b.lines, append([]byte(nil), line...))
		b.tests = append(b.tests, t)
		if len(b.tests) == fanBatchSize {
			send()
		}
		return nil
	})
	if len(b.tests) > 0 {
		send()
	}
	return err
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
}

func (f *fanFeed) each(fn func(b *fanBatch, i int) error) error {
	if f.used {
		return errReadTwice
	}
	f.used = true
	for b := range f.c {
		for i := range b.tests {
			if err := fn(b, i); err != nil {
				return err
			}
		}
	}
	return nil
}
