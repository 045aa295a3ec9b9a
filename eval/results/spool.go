package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// The spool format: one compact JSON TestResult per line. The writer side
// is Spool (and NewSpoolEncoder); the reader side is Results.Each and
// Results.EachLine, in results.go.

// NewSpoolEncoder returns an encoder that writes tests the way UseSpool
// reads them back: one compact JSON object per line, HTML not escaped (the
// JSON report copies spooled lines as they are, see EachLine).
func NewSpoolEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Spool streams results to a JSON Lines file in completion order and
// remembers where each one starts, so Finish can rewrite the file in
// report order with one offset per test in memory.
type Spool struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	off    int64
	at     []spoolRef // by test ordinal
	last   int        // ordinal of the last write, to spot an already sorted file
	sorted bool

	// held keeps results in memory too while they are small, so the usual
	// run's reporters read them without decoding the file again; past
	// heldBudget bytes of JSON only the file is kept (memory stays flat).
	// A run too large to ever fit holds none.
	held     []*TestResult
	overflow bool

	// enc writes a result's spool line to buf.
	enc *json.Encoder
	buf bytes.Buffer
}

// heldBudget bounds the results kept in memory besides the spool file. Held
// results weigh ~1.5x their JSON and the GC doubles that, so 2 MiB (a
// 1000-test run of usual outputs fits) costs ~6 MB of peak RSS; 8 MiB
// cost ~25 MB on the way to spilling a 100k-test run.
const heldBudget = 2 << 20

// typicalResultJSON is a usual result's JSON (names, request, a few
// assertions: ~1 KB). A run of more tests than the budget holds at that
// size holds none: holding its first ~2,000 results only to drop them at
// the budget carried ~6 MB of live heap through the early run, which
// GOGC=200 tripled into ~24 MB of peak heap (10k tests: 50 -> 4x MB RSS).
const typicalResultJSON = 1 << 10

type spoolRef struct {
	off int64
	n   int
}

// NewSpool creates the spool for a run of tests results at path (written
// as path.part until Finish).
func NewSpool(path string, tests int) (*Spool, error) {
	f, err := os.Create(path + ".part")
	if err != nil {
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	s := &Spool{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), at: make([]spoolRef, tests), last: -1, sorted: true}
	s.enc = NewSpoolEncoder(&s.buf)
	if tests > heldBudget/typicalResultJSON {
		s.overflow = true
	} else {
		s.held = make([]*TestResult, tests)
	}
	return s, nil
}

// Add writes the result of the test with ordinal ord.
func (s *Spool) Add(ord int, t *TestResult) error {
	s.buf.Reset()
	if err := s.enc.Encode(t); err != nil {
		return fmt.Errorf("encode result %q: %w", t.Name, err)
	}
	data := s.buf.Bytes()
	if _, err := s.w.Write(data); err != nil {
		return fmt.Errorf("write results spool: %w", err)
	}
	s.at[ord] = spoolRef{off: s.off, n: len(data)}
	s.off += int64(len(data))
	s.sorted = s.sorted && ord > s.last
	s.last = ord
	if !s.overflow {
		if s.off > heldBudget {
			s.overflow, s.held = true, nil
		} else {
			s.held[ord] = t
		}
	}
	return nil
}

// InMemory returns the results in report order when they all fit the
// budget; the spool file is then no longer needed.
func (s *Spool) InMemory() ([]TestResult, bool) {
	if s.overflow {
		return nil, false
	}
	out := make([]TestResult, 0, len(s.held))
	for _, t := range s.held {
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, true
}

// Finish writes the spool in report order and returns its path.
func (s *Spool) Finish() (string, error) {
	part := s.f.Name()
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return "", fmt.Errorf("write results spool: %w", err)
	}
	if s.sorted {
		if err := s.f.Close(); err != nil {
			return "", fmt.Errorf("write results spool: %w", err)
		}
		return s.path, os.Rename(part, s.path)
	}
	defer s.f.Close()
	out, err := os.Create(s.path)
	if err != nil {
		return "", fmt.Errorf("create results file: %w", err)
	}
	w := bufio.NewWriterSize(out, 256<<10)
	win := window{f: s.f, buf: make([]byte, 0, reorderWindow)}
	for _, ref := range s.at {
		if ref.n == 0 {
			continue
		}
		b, err := win.read(ref)
		if err != nil {
			out.Close()
			return "", fmt.Errorf("reorder results spool: %w", err)
		}
		w.Write(b)
	}
	err = errors.Join(w.Flush(), out.Close())
	if err != nil {
		return "", fmt.Errorf("write results file: %w", err)
	}
	s.f.Close()
	return s.path, os.Remove(part)
}

// reorderWindow is how much of the spool Finish reads at once. Results
// finish roughly in report order (a few concurrency slots apart), so one
// large read serves hundreds of them where a read per result cost 100k
// system calls on a 100k-test run.
const reorderWindow = 1 << 20

// window serves spooled results from the last large read of the file when
// they fall inside it, and reads again at the result's offset otherwise.
type window struct {
	f   *os.File
	off int64 // file offset of buf[0]
	buf []byte
}

func (w *window) read(ref spoolRef) ([]byte, error) {
	if ref.off >= w.off && ref.off+int64(ref.n) <= w.off+int64(len(w.buf)) {
		start := ref.off - w.off
		return w.buf[start : start+int64(ref.n)], nil
	}
	if ref.n > cap(w.buf) {
		w.buf = make([]byte, 0, ref.n)
	}
	n, err := w.f.ReadAt(w.buf[:cap(w.buf)], ref.off)
	if n < ref.n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.buf = w.buf[:0]
		return nil, err
	}
	w.off, w.buf = ref.off, w.buf[:n]
	return w.buf[:ref.n], nil
}

// Discard closes and removes the spool's partial file: the results are
// kept elsewhere (in memory) or the run gave up.
func (s *Spool) Discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}
