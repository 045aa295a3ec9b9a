package results

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
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

// Spool streams results to a JSON Lines file in completion order; if they
// did not come in report order, Finish appends an index of where each
// test is, in report order, so readers take them in that order without
// the file being rewritten. The index is made as results come, in a side
// file: the spool holds in memory only the results that came before an
// earlier one (a few concurrency slots' worth), not an offset per test.
type Spool struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	off    int64
	last   int // ordinal of the last write, to spot an already sorted file
	sorted bool
	err    error // the first write error: the spool takes nothing after it

	// next is the first ordinal not yet in the index; early holds the
	// lines of later ordinals, which came before it.
	next  int
	early map[int]spoolRef
	idx   *os.File // the index entries of ordinals 0..next-1
	iw    *bufio.Writer

	// held keeps results in memory too while they are small, so the usual
	// run's reporters read them without decoding the file again; past
	// heldBudget bytes of JSON only the file is kept (memory stays flat).
	// A run too large to ever fit holds none.
	held     []*TestResult
	overflow bool

	// buf holds the spool line being written (appendSpooled); line is
	// the last one written (Line).
	buf  []byte
	line []byte
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
// as path.part until Finish, its index as path.idx.part).
func NewSpool(path string, tests int) (*Spool, error) {
	f, err := os.Create(path + ".part")
	if err != nil {
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	idx, err := os.Create(path + ".idx.part")
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create results spool: %w", err)
	}
	s := &Spool{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), last: -1, sorted: true,
		early: map[int]spoolRef{}, idx: idx, iw: bufio.NewWriterSize(idx, 16<<10)}
	if tests > heldBudget/typicalResultJSON {
		s.overflow = true
	} else {
		s.held = make([]*TestResult, tests)
	}
	return s, nil
}

// Add writes the result of the test with ordinal ord (each ordinal once).
func (s *Spool) Add(ord int, t *TestResult) error {
	if s.err != nil {
		return s.err
	}
	if _, dup := s.early[ord]; dup || ord < s.next {
		return fmt.Errorf("results spool: test %d written twice", ord)
	}
	data, err := appendSpooled(s.buf[:0], t)
	if err != nil {
		return fmt.Errorf("encode result %q: %w", t.Name, err)
	}
	if cap(data) <= 1<<20 { // one huge output does not pin its buffer
		s.buf = data
	}
	s.line = data
	if _, err := s.w.Write(data); err != nil {
		s.err = fmt.Errorf("write results spool: %w", err)
		return s.err
	}
	ref := spoolRef{off: s.off, n: len(data)}
	s.off += int64(len(data))
	s.sorted = s.sorted && ord > s.last
	s.last = ord
	if ord == s.next {
		s.index(ref)
		for {
			r, ok := s.early[s.next]
			if !ok {
				break
			}
			delete(s.early, s.next)
			s.index(r)
		}
	} else {
		s.early[ord] = ref
	}
	if !s.overflow {
		if s.off > heldBudget || ord >= len(s.held) {
			s.overflow, s.held = true, nil
		} else {
			s.held[ord] = t
		}
	}
	return s.err
}

// Line is the spool line the last Add wrote (valid until the next Add),
// so a live view of the run takes it without encoding the test again.
func (s *Spool) Line() []byte { return s.line }

// index appends the entry of ordinal next, and moves on to the next one.
func (s *Spool) index(ref spoolRef) {
	var e [indexEntry]byte
	binary.LittleEndian.PutUint64(e[:8], uint64(ref.off))
	binary.LittleEndian.PutUint32(e[8:], uint32(ref.n))
	if _, err := s.iw.Write(e[:]); err != nil && s.err == nil {
		s.err = fmt.Errorf("write results spool index: %w", err)
	}
	s.next++
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

// Finish completes the spool and returns its path. A spool written in
// report order is renamed as it is; otherwise the index of where each test
// is, in report order, is appended after the lines (see spoolIndex), so
// the readers take the tests in report order without the file being
// rewritten (100 MB read and written again after a 100k-test run's last
// answer).
func (s *Spool) Finish() (string, error) {
	part := s.f.Name()
	err := s.err
	if err == nil && !s.sorted {
		err = s.writeIndex()
	}
	s.closeIndex()
	if err == nil {
		if err = s.w.Flush(); err != nil {
			err = fmt.Errorf("write results spool: %w", err)
		}
	}
	if err != nil {
		s.f.Close()
		return "", err
	}
	if err := s.f.Close(); err != nil {
		return "", fmt.Errorf("write results spool: %w", err)
	}
	return s.path, os.Rename(part, s.path)
}

// The index after an unsorted spool's lines: per test in report order its
// offset (8 bytes) and length (4), little-endian, then the trailer: the
// index's offset (8) and spoolMagic (8). A line starts with '{' and ends
// with '\n', so the trailer cannot be mistaken for one.
const (
	spoolMagic   = "\x00AIEVIX1"
	indexEntry   = 12
	indexTrailer = 16
)

// writeIndex completes the index (the ordinals after a missing one, in
// order) and copies it after the lines, with the trailer.
func (s *Spool) writeIndex() error {
	for _, ord := range slices.Sorted(maps.Keys(s.early)) {
		s.next = ord
		s.index(s.early[ord])
	}
	clear(s.early)
	if s.err != nil {
		return s.err
	}
	if err := s.iw.Flush(); err != nil {
		return fmt.Errorf("write results spool index: %w", err)
	}
	if _, err := io.Copy(s.w, io.NewSectionReader(s.idx, 0, 1<<62)); err != nil {
		return fmt.Errorf("write results spool index: %w", err)
	}
	var t [indexTrailer]byte
	binary.LittleEndian.PutUint64(t[:8], uint64(s.off))
	copy(t[8:], spoolMagic)
	if _, err := s.w.Write(t[:]); err != nil {
		return fmt.Errorf("write results spool: %w", err)
	}
	return nil
}

func (s *Spool) closeIndex() {
	if s.idx != nil {
		s.idx.Close()
		os.Remove(s.idx.Name())
		s.idx = nil
	}
}

// Salvage returns the results the spool took, by ordinal, for a caller
// that keeps them in memory once the spool failed: from memory when it
// holds them, else read back from its file (a result whose line was lost
// with the failed write is missing from got; taken lists every ordinal it
// took). It then removes its files.
func (s *Spool) Salvage() (got map[int]*TestResult, taken []int) {
	defer s.Discard()
	got = map[int]*TestResult{}
	taken = slices.Sorted(maps.Keys(s.early))
	for ord := range s.next {
		taken = append(taken, ord)
	}
	if !s.overflow {
		for _, ord := range taken {
			if ord < len(s.held) && s.held[ord] != nil {
				got[ord] = s.held[ord]
			}
		}
		return got, taken
	}
	// What was written reaches the files; the lines are where the index
	// (entries of 0..next-1, in order) and early say.
	_ = s.w.Flush()
	_ = s.iw.Flush()
	idx := bufio.NewReader(io.NewSectionReader(s.idx, 0, 1<<62))
	read := func(ord int, ref spoolRef) {
		line := make([]byte, ref.n)
		if _, err := s.f.ReadAt(line, ref.off); err != nil {
			return
		}
		var t TestResult
		if json.Unmarshal(line, &t) == nil {
			got[ord] = &t
		}
	}
	var e [indexEntry]byte
	for ord := range s.next {
		if _, err := io.ReadFull(idx, e[:]); err != nil {
			break
		}
		read(ord, spoolRef{off: int64(binary.LittleEndian.Uint64(e[:8])), n: int(binary.LittleEndian.Uint32(e[8:]))})
	}
	for ord, ref := range s.early {
		read(ord, ref)
	}
	return got, taken
}

// spoolIndex returns the index region of an indexed spool: its offset
// and entry count; ok is false for a spool in file order.
func spoolIndex(f *os.File) (start int64, n int, ok bool, err error) {
	st, err := f.Stat()
	if err != nil || st.Size() < indexTrailer {
		return 0, 0, false, err
	}
	var t [indexTrailer]byte
	if _, err := f.ReadAt(t[:], st.Size()-indexTrailer); err != nil {
		return 0, 0, false, err
	}
	if string(t[8:]) != spoolMagic {
		return 0, 0, false, nil
	}
	start = int64(binary.LittleEndian.Uint64(t[:8]))
	size := st.Size() - indexTrailer - start
	if start < 0 || size < 0 || size%indexEntry != 0 {
		return 0, 0, false, errors.New("results spool: broken index")
	}
	return start, int(size / indexEntry), true, nil
}

// eachIndexed calls fn with every line of an indexed spool in report order.
func eachIndexed(f *os.File, start int64, n int, fn func(line []byte) error) error {
	idx := bufio.NewReaderSize(io.NewSectionReader(f, start, int64(n)*indexEntry), 64<<10)
	win := window{f: f, buf: make([]byte, 0, reorderWindow)}
	var e [indexEntry]byte
	for range n {
		if _, err := io.ReadFull(idx, e[:]); err != nil {
			return fmt.Errorf("read results spool index: %w", err)
		}
		ref := spoolRef{off: int64(binary.LittleEndian.Uint64(e[:8])), n: int(binary.LittleEndian.Uint32(e[8:]))}
		if ref.off < 0 || ref.off+int64(ref.n) > start {
			return errors.New("read results spool: broken index")
		}
		b, err := win.read(ref)
		if err != nil {
			return fmt.Errorf("read results spool: %w", err)
		}
		if line := bytes.TrimSpace(b); len(line) > 0 {
			if err := fn(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// reorderWindow is how much of an indexed spool a reader reads at once. Results
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
	// Start the read a little before the result: the next ones in report
	// order often finished just before it (a concurrency window finishing
	// in reverse), and a read starting at the result itself missed each of
	// those, one 1 MiB read per result.
	from := max(ref.off-reorderBack, 0)
	need := int(ref.off-from) + ref.n
	if need > cap(w.buf) {
		w.buf = make([]byte, 0, need)
	}
	n, err := w.f.ReadAt(w.buf[:cap(w.buf)], from)
	if n < need {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.buf = w.buf[:0]
		return nil, err
	}
	w.off, w.buf = from, w.buf[:n]
	start := ref.off - from
	return w.buf[start : start+int64(ref.n)], nil
}

// reorderBack is how far before a result a window read starts.
const reorderBack = 128 << 10

// Discard closes and removes the spool's partial files: the results are
// kept elsewhere (in memory) or the run gave up.
func (s *Spool) Discard() {
	s.closeIndex()
	s.f.Close()
	os.Remove(s.f.Name())
}
